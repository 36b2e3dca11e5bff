"""Six-month follow-ups of a submitted return's actions: the updates, the signed rounds and
the partnership's reviews."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow


class FollowUp(SQLModel, table=True):
    """One return's follow-up: due six months (the campaign's interval) after the submission
    the partnership accepted, or while none is accepted, the latest one."""

    __tablename__ = "follow_up"

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(
        foreign_key="audit_return.id", unique=True, index=True, ondelete="CASCADE"
    )
    due_on: date = Field(index=True)
    stage: str = Field(default="open", max_length=30, index=True)  # followups.rules.FollowUpStage
    round: int = 1  # the round being worked on; each submission is one round
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    accepted_at: datetime | None = None


class FollowUpUpdate(SQLModel, table=True):
    """The organisation's update on one action, as being written (one row per action).

    ``version`` goes up on every save: a save based on an older version is a conflict, shown
    with both values, never applied (the same rule as a return's answers).
    """

    __tablename__ = "follow_up_update"
    __table_args__ = (
        UniqueConstraint("follow_up_id", "action_id", name="uq_follow_up_update_action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="follow_up.id", index=True, ondelete="CASCADE")
    action_id: int = Field(foreign_key="improvement_action.id", index=True, ondelete="CASCADE")
    progress: str = Field(default="", max_length=20)
    narrative: str = Field(default="", max_length=5000)
    revised_rating: int | None = None
    evidence: str = Field(default="", max_length=2000)
    new_target_date: date | None = None
    version: int = 1
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow)


class FollowUpSubmission(SQLModel, table=True):
    """A signed round of a follow-up, frozen: exactly what was submitted (the database
    refuses changes, as for a return's submission)."""

    __tablename__ = "follow_up_submission"
    __table_args__ = (UniqueConstraint("follow_up_id", "round", name="uq_follow_up_round"),)

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="follow_up.id", index=True, ondelete="CASCADE")
    round: int
    submitted_at: datetime = Field(default_factory=utcnow)
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    declaration_name: str = Field(max_length=200)
    declaration_role: str = Field(max_length=200)
    declaration_date: date
    content: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FollowUpReview(SQLModel, table=True):
    """The partnership's answer to a submitted round: accepted, or more information needed."""

    __tablename__ = "follow_up_review"

    id: int | None = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="follow_up.id", index=True, ondelete="CASCADE")
    round: int
    outcome: str = Field(max_length=30)  # accepted | more_information
    comment: str = Field(default="", max_length=2000)
    reviewed_by: int | None = Field(default=None, foreign_key="user_account.id")
    reviewed_at: datetime = Field(default_factory=utcnow)
