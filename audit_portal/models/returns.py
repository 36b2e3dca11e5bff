"""Campaigns (audit rounds) and returns (one organisation's answers to one campaign)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow


class CampaignStatus(StrEnum):
    DRAFT = "draft"  # being set up: invitation list can still change freely
    OPEN = "open"  # returns can be completed
    CLOSED = "closed"  # no edits, except returns reopened for amendment

    @property
    def label(self) -> str:
        return {"draft": "Draft", "open": "Open", "closed": "Closed"}[self.value]


class ReturnStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # returned for amendment: a new revision is being edited
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "submitted": "Submitted",
            "returned": "Returned for amendment",
            "accepted": "Accepted",
        }[self.value]

    @property
    def editable(self) -> bool:
        return self in {ReturnStatus.NOT_STARTED, ReturnStatus.IN_PROGRESS, ReturnStatus.RETURNED}


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    questionnaire_key: str = Field(max_length=64)
    questionnaire_version: str = Field(max_length=32)
    opens_on: date
    closes_on: date
    follow_up_months: int = 6
    status: str = Field(default=CampaignStatus.DRAFT.value, max_length=20, index=True)
    selection: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class Return(SQLModel, table=True):
    __tablename__ = "audit_return"  # "return" is a reserved word in SQL
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id", name="uq_return_org"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    status: str = Field(default=ReturnStatus.NOT_STARTED.value, max_length=20, index=True)
    revision: int = 1
    carried_from_id: int | None = Field(default=None, foreign_key="audit_return.id")
    returned_reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    accepted_at: datetime | None = None


class Answer(SQLModel, table=True):
    """The current answer to one item of a return's current revision.

    ``version`` goes up by one on every save: a save that names an older version than the one
    stored is a conflict (someone else saved in between) and is refused, never overwritten.
    """

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("return_id", "item_id", name="uq_answer_item"),)

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(foreign_key="audit_return.id", index=True, ondelete="CASCADE")
    item_id: str = Field(max_length=32)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # {"v": ...}
    not_applicable: bool = False
    na_reason: str = Field(default="", max_length=2000)
    narrative: str = Field(default="", max_length=5000)
    evidence: str = Field(default="", max_length=2000)
    carried_forward: bool = False  # copied from last year: the respondent must confirm it
    carry_note: str = Field(default="", max_length=500)
    version: int = 1
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ActionStatus(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"  # reported complete in an accepted follow-up
    CLOSED = "closed"  # no longer pursued (a later revision replaced it), with a reason

    @property
    def label(self) -> str:
        return {"open": "Open", "complete": "Complete", "closed": "Closed"}[self.value]


class ActionSource(StrEnum):
    RETURN = "return"  # written by the organisation in its return
    QA = "qa"  # added by the partnership to a submitted return
    CHALLENGE = "challenge"  # from an evidence challenge found not (fully) substantiated


class Action(SQLModel, table=True):
    """An improvement action for an item rated less effective: what, who, by when.

    Once a signed submission includes it (``frozen_revision``) it is part of the record: it can
    no longer be removed or rewritten, only closed, and its progress comes from follow-ups.
    """

    __tablename__ = "improvement_action"

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(foreign_key="audit_return.id", index=True, ondelete="CASCADE")
    item_id: str = Field(max_length=32)
    what: str = Field(max_length=2000)
    owner: str = Field(max_length=200)
    target_date: date
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default=ActionStatus.OPEN.value, max_length=20)
    progress: str = Field(default="not_started", max_length=20)  # followups.rules.ActionProgress
    source: str = Field(default=ActionSource.RETURN.value, max_length=20)
    frozen_revision: int | None = None  # the first signed revision that included it
    closed_reason: str = Field(default="", max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)


class Submission(SQLModel, table=True):
    """A frozen record of one submitted revision: exactly what was signed, never changed."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("return_id", "revision", name="uq_submission_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(foreign_key="audit_return.id", index=True, ondelete="CASCADE")
    revision: int
    submitted_at: datetime = Field(default_factory=utcnow)
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    declaration_name: str = Field(max_length=200)
    declaration_role: str = Field(max_length=200)
    declaration_date: date
    questionnaire_key: str = Field(max_length=64)
    questionnaire_version: str = Field(max_length=32)
    questionnaire_hash: str = Field(max_length=64)
    overall_rag: str | None = Field(default=None, max_length=10)  # also in content; for lists
    content: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
