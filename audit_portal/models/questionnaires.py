"""Questionnaire versions in use (the definitions themselves are files)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow


class QuestionnaireVersion(SQLModel, table=True):
    """The content hash of a questionnaire version, stored when a campaign first uses it.

    A published version is immutable: if its file later hashes differently the portal refuses
    to use it and tells the administrator to publish a new version instead.
    """

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_questionnaire_version"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, index=True)
    version: str = Field(max_length=32)
    title: str = Field(max_length=300)
    content_hash: str = Field(max_length=64)
    first_used_at: datetime = Field(default_factory=utcnow)
    first_used_for: str = Field(default="", max_length=300)
