"""Database tables (SQLModel). Schema changes go through Alembic migrations only."""

from audit_portal.models.accounts import (
    ORGANISATION_ROLES,
    PARTNERSHIP_ROLES,
    Membership,
    OutboxEmail,
    Role,
    SignInAttempt,
    User,
    WebSession,
)
from audit_portal.models.audit import AuditEvent
from audit_portal.models.base import utcnow
from audit_portal.models.organisations import FLAG_TYPES, IntelligenceFlag, Organisation
from audit_portal.models.questionnaires import QuestionnaireVersion

__all__ = [
    "FLAG_TYPES",
    "ORGANISATION_ROLES",
    "PARTNERSHIP_ROLES",
    "AuditEvent",
    "IntelligenceFlag",
    "Membership",
    "Organisation",
    "OutboxEmail",
    "QuestionnaireVersion",
    "Role",
    "SignInAttempt",
    "User",
    "WebSession",
    "utcnow",
]
