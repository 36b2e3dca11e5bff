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
from audit_portal.models.dipsamples import (
    ChallengedItem,
    ChallengeEvent,
    ChallengeStage,
    DipSample,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
    ItemOutcome,
    Outcome,
    SampleChange,
    SampleChangeKind,
    SampledReturn,
)
from audit_portal.models.feedback import FeedbackLetter, LetterStatus
from audit_portal.models.followups import (
    FollowUp,
    FollowUpReview,
    FollowUpSubmission,
    FollowUpUpdate,
)
from audit_portal.models.organisations import FLAG_TYPES, IntelligenceFlag, Organisation
from audit_portal.models.questionnaires import QuestionnaireVersion
from audit_portal.models.reporting import SubmittedAnswer
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
    "ChallengeEvent",
    "ChallengeStage",
    "ChallengedItem",
    "DipSample",
    "EmailStatus",
    "EvidenceChallenge",
    "EvidenceFile",
    "EvidencePiece",
    "FeedbackLetter",
    "FollowUp",
    "FollowUpReview",
    "FollowUpSubmission",
    "FollowUpUpdate",
    "IntelligenceFlag",
    "ItemOutcome",
    "LetterStatus",
    "Membership",
    "Organisation",
    "OutboxEmail",
    "Outcome",
    "QuestionnaireVersion",
    "ReminderSent",
    "Return",
    "ReturnStatus",
    "Role",
    "SampleChange",
    "SampleChangeKind",
    "SampledReturn",
    "SignInAttempt",
    "Submission",
    "SubmittedAnswer",
    "User",
    "WebSession",
    "saved_id",
    "utcnow",
]
