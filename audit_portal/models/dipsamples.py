"""Dip samples, evidence challenges, evidence files, outcomes and challenge events.

A dip sample records everything needed to repeat and explain it (method, parameters, seed,
the population's keys); a later change to it is a row of its own with a reason. Outcomes and
moderated ratings point at the frozen submission and the item: the submission never changes.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow


class DipSample(SQLModel, table=True):
    """A confirmed selection of a campaign's submitted returns, repeatable from its seed."""

    __tablename__ = "dip_sample"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    method: str = Field(max_length=20)
    spec: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    seed: int
    population_size: int
    filtered_size: int
    requested_size: int
    population_keys: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    chosen_by: int | None = Field(default=None, foreign_key="user_account.id")
    chosen_by_name: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SampledReturn(SQLModel, table=True):
    """One return in a sample, with why it was chosen; removed ones stay, marked removed."""

    __tablename__ = "sampled_return"
    __table_args__ = (UniqueConstraint("dip_sample_id", "return_id", name="uq_sampled_return"),)

    id: int | None = Field(default=None, primary_key=True)
    dip_sample_id: int = Field(foreign_key="dip_sample.id", index=True, ondelete="CASCADE")
    return_id: int = Field(foreign_key="audit_return.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    rationale: str = Field(default="", max_length=300)
    drawn: bool = True  # False: added by hand afterwards, with a reason (a SampleChange)
    removed_at: datetime | None = None


class SampleChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"


class SampleChange(SQLModel, table=True):
    """An organisation added to or removed from a confirmed sample, and why: never silent."""

    __tablename__ = "sample_change"

    id: int | None = Field(default=None, primary_key=True)
    dip_sample_id: int = Field(foreign_key="dip_sample.id", index=True, ondelete="CASCADE")
    return_id: int = Field(foreign_key="audit_return.id", ondelete="CASCADE")
    change: str = Field(max_length=10)  # SampleChangeKind
    reason: str = Field(max_length=1000)
    changed_by: int | None = Field(default=None, foreign_key="user_account.id")
    changed_by_name: str = Field(default="", max_length=200)
    changed_at: datetime = Field(default_factory=utcnow)


class ChallengeStage(StrEnum):
    DRAFT = "draft"  # items being chosen; the organisation sees nothing yet
    ISSUED = "issued"  # the organisation is gathering evidence
    SUBMITTED = "submitted"  # evidence frozen; QA reviews it
    REVIEWED = "reviewed"  # every challenged item has an outcome

    @property
    def label(self) -> str:
        return {
            "draft": "Not yet issued",
            "issued": "Waiting for evidence",
            "submitted": "Evidence submitted",
            "reviewed": "Reviewed",
        }[self.value]


class EvidenceChallenge(SQLModel, table=True):
    """The QA sub-group's request to one sampled organisation for evidence on chosen items."""

    __tablename__ = "evidence_challenge"

    id: int | None = Field(default=None, primary_key=True)
    sampled_return_id: int = Field(
        foreign_key="sampled_return.id", unique=True, index=True, ondelete="CASCADE"
    )
    return_id: int = Field(foreign_key="audit_return.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    submission_id: int = Field(foreign_key="submission.id", ondelete="CASCADE")
    stage: str = Field(default=ChallengeStage.DRAFT.value, max_length=20, index=True)
    due_on: date | None = Field(default=None, index=True)
    issued_at: datetime | None = None
    issued_by: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_at: datetime | None = None
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    reviewed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ChallengedItem(SQLModel, table=True):
    """One item of a challenge: the organisation's explanation and, through pieces, its files."""

    __tablename__ = "challenged_item"
    __table_args__ = (UniqueConstraint("challenge_id", "item_id", name="uq_challenged_item"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="evidence_challenge.id", index=True, ondelete="CASCADE")
    item_id: str = Field(max_length=64)
    self_rating: str = Field(default="", max_length=64)  # the value as submitted
    self_rag: str | None = Field(default=None, max_length=10)
    explanation: str = Field(default="", max_length=5000)
    version: int = 0  # up on every save: an older version saving is a conflict


class EvidenceFile(SQLModel, table=True):
    """A stored file, once per organisation and content (the same bytes twice are one file)."""

    __tablename__ = "evidence_file"
    __table_args__ = (UniqueConstraint("organisation_id", "sha256", name="uq_evidence_content"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    storage_key: str = Field(max_length=64, unique=True)
    sha256: str = Field(max_length=64)
    size: int
    kind: str = Field(max_length=20)  # the detected type's extension: pdf, docx, png, ...
    content_type: str = Field(max_length=100)
    display_name: str = Field(max_length=255)
    placeholder_reason: str = Field(default="", max_length=200)  # empty, no text, ...
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


class EvidencePiece(SQLModel, table=True):
    """A file offered as evidence for one challenged item, with the date it was in force."""

    __tablename__ = "evidence_piece"
    __table_args__ = (
        UniqueConstraint("challenged_item_id", "evidence_file_id", name="uq_evidence_piece"),
    )

    id: int | None = Field(default=None, primary_key=True)
    challenged_item_id: int = Field(
        foreign_key="challenged_item.id", index=True, ondelete="CASCADE"
    )
    evidence_file_id: int = Field(foreign_key="evidence_file.id", index=True, ondelete="CASCADE")
    in_force_on: date | None = None  # e.g. the date a policy was approved
    added_by: int | None = Field(default=None, foreign_key="user_account.id")
    added_at: datetime = Field(default_factory=utcnow)


class Outcome(StrEnum):
    SUBSTANTIATED = "substantiated"
    PARTLY = "partly_substantiated"
    NOT = "not_substantiated"

    @property
    def label(self) -> str:
        return {
            "substantiated": "Substantiated",
            "partly_substantiated": "Partly substantiated",
            "not_substantiated": "Not substantiated",
        }[self.value]


class ItemOutcome(SQLModel, table=True):
    """QA's outcome and moderated rating for one challenged item of a frozen submission."""

    __tablename__ = "item_outcome"

    id: int | None = Field(default=None, primary_key=True)
    challenged_item_id: int = Field(
        foreign_key="challenged_item.id", unique=True, index=True, ondelete="CASCADE"
    )
    submission_id: int = Field(foreign_key="submission.id", index=True, ondelete="CASCADE")
    item_id: str = Field(max_length=64)
    outcome: str = Field(max_length=30)  # Outcome
    moderated_rating: str = Field(max_length=64)
    moderated_rag: str | None = Field(default=None, max_length=10)
    comment: str = Field(default="", max_length=2000)
    action_id: int | None = Field(default=None, foreign_key="improvement_action.id")
    reviewed_by: int | None = Field(default=None, foreign_key="user_account.id")
    reviewed_at: datetime = Field(default_factory=utcnow)


class ChallengeEvent(SQLModel, table=True):
    """A peer-challenge meeting: when, who came, which organisations were discussed, notes."""

    __tablename__ = "challenge_event"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", ondelete="SET NULL")
    held_on: date
    attendees: str = Field(max_length=2000)
    organisation_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: str = Field(default="", max_length=10000)
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
