"""Database tables (SQLModel). Schema changes go through Alembic migrations only."""

from audit_portal.models.accounts import (
    ORGANISATION_ROLES,
    PARTNERSHIP_ROLES,
    EmailStatus,
    Membership,
    OutboxEmail,
    ReminderSent,
    Role,
    SignInAttempt,
    User,
    WebSession,
)
from audit_portal.models.audit import AuditEvent
from audit_portal.models.base import saved_id, utcnow
from audit_portal.models.followups import (
    FollowUp,
    FollowUpReview,
    FollowUpSubmission,
    FollowUpUpdate,
)
from audit_portal.models.organisations import FLAG_TYPES, IntelligenceFlag, Organisation
from audit_portal.models.questionnaires import QuestionnaireVersion
from audit_portal.models.returns import (
    Action,
    ActionSource,
    ActionStatus,
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
    "ActionSource",
    "ActionStatus",
    "Answer",
    "AuditEvent",
    "Campaign",
    "CampaignStatus",
    "EmailStatus",
    "FollowUp",
    "FollowUpReview",
    "FollowUpSubmission",
    "FollowUpUpdate",
    "IntelligenceFlag",
    "Membership",
    "Organisation",
    "OutboxEmail",
    "QuestionnaireVersion",
    "ReminderSent",
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
