"""Typed rows for reports: each frozen submission's answers, one row per item.

The submission's JSON stays the record of what was signed; these rows are written from it in
the same transaction so that every report figure is one ``GROUP BY`` on SQLite and PostgreSQL
alike, at national scale, instead of aggregating JSON in Python.
"""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class SubmittedAnswer(SQLModel, table=True):
    __tablename__ = "submitted_answer"
    __table_args__ = (
        UniqueConstraint("submission_id", "item_id", name="uq_submitted_answer"),
        Index("ix_submitted_answer_campaign_item", "campaign_id", "item_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True, ondelete="CASCADE")
    return_id: int = Field(foreign_key="audit_return.id", index=True, ondelete="CASCADE")
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    item_id: str = Field(max_length=64)
    rating: int | None = None  # the rating value for rating items; None otherwise or if N/A
    rag: str | None = Field(default=None, max_length=10)
    less_effective: bool = False
    not_applicable: bool = False
    evidence_described: bool = False  # the organisation wrote something under evidence
