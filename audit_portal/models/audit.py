"""The audit trail: append-only, written in the same transaction as the change it records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, index=True)  # no FK: users may go, events stay
    actor_label: str = Field(default="", max_length=300)  # "email" or "cli:user@host"
    action: str = Field(max_length=60, index=True)  # e.g. organisation.update, security.sign_in
    object_type: str = Field(default="", max_length=40)
    object_id: str = Field(default="", max_length=40)
    organisation_id: int | None = Field(default=None, index=True)
    old: dict | None = Field(default=None, sa_column=Column(JSON))
    new: dict | None = Field(default=None, sa_column=Column(JSON))
    request_id: str = Field(default="", max_length=40)
    address: str = Field(default="", max_length=64)
