"""Database tables (SQLModel). Schema changes go through Alembic migrations only."""

from audit_portal.models.accounts import (
    ORGANISATION_ROLES,
    PARTNERSHIP_ROLES,
    EmailStatus,
    Membership,
    OutboxEmail,
    Role,
    SignInAttempt,
    User,
    WebSession,
)
from audit_portal.models.audit import AuditEvent
from audit_portal.models.base import saved_id, utcnow
from audit_portal.models.organisations import FLAG_TYPES, IntelligenceFlag, Organisation
from audit_portal.models.questionnaires import QuestionnaireVersion
from audit_portal.models.returns import (
    Action,
    Answer,
    Campaign,
    CampaignStatus,
    Return,
    ReturnStatus,
    Submission,
)

__all__ = [
    "FLAG_TYPES",
    "ORGANISATION_ROLES",
    "PARTNERSHIP_ROLES",
    "Action",
    "Answer",
    "AuditEvent",
    "Campaign",
    "CampaignStatus",
    "EmailStatus",
    "IntelligenceFlag",
    "Membership",
    "Organisation",
    "OutboxEmail",
    "QuestionnaireVersion",
    "Return",
    "ReturnStatus",
    "Role",
    "SignInAttempt",
    "Submission",
    "User",
    "WebSession",
    "saved_id",
    "utcnow",
]
