"""Feedback letters: the partnership's letter to one organisation about its submitted return.

QA drafts the letter (generated from the return's ratings, then edited) and sends it through
the outbox. Once sent, the row is the record of what the organisation was told: the database
refuses to change or delete it (``audit.triggers``), as for a signed submission.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow

MAX_LETTER = 20_000  # characters: a long letter is about 2,000; room for every section quoted


class LetterStatus(StrEnum):
    DRAFT = "draft"  # QA is writing it; the organisation sees nothing
    SENT = "sent"  # emailed and shown to the organisation; never changes again

    @property
    def label(self) -> str:
        return {"draft": "Draft", "sent": "Sent"}[self.value]


class FeedbackLetter(SQLModel, table=True):
    """One letter per return: drafted, perhaps saved many times, then sent once."""

    __tablename__ = "feedback_letter"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    return_id: int = Field(
        foreign_key="audit_return.id", unique=True, index=True, ondelete="CASCADE"
    )
    submission_id: int = Field(foreign_key="submission.id", ondelete="CASCADE")  # written from
    body: str = Field(max_length=MAX_LETTER)
    status: str = Field(default=LetterStatus.DRAFT.value, max_length=10, index=True)
    version: int = 1  # up on every save: a save or send based on an older one is refused
    drafted_by: int | None = Field(default=None, foreign_key="user_account.id")
    drafted_by_name: str = Field(default="", max_length=200)
    drafted_at: datetime = Field(default_factory=utcnow)
    sent_by: int | None = Field(default=None, foreign_key="user_account.id")
    sent_by_name: str = Field(default="", max_length=200)
    sent_at: datetime | None = None
    sent_to: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
