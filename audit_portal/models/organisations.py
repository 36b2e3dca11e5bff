"""Organisations the partnership audits, and the intelligence that targets its audits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow

KINDS = {
    "school": "School or college",
    "early-years": "Early years setting",
    "agency": "Partner agency",
}
IDENTIFIER_SCHEMES = {
    "urn": "School URN",
    "ofsted-urn": "Ofsted URN",
    "ods": "NHS ODS code",
    "charity": "Charity number",
    "": "None",
}
STATUSES = {"active": "Active", "inactive": "Inactive"}


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (
        Index(
            "uq_organisation_identifier",
            "identifier_scheme",
            "identifier",
            unique=True,
            sqlite_where=text("identifier != ''"),
            postgresql_where=text("identifier != ''"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    duty_type: str = Field(max_length=40, index=True)  # see vocabulary.DUTY_TYPES
    kind: str = Field(max_length=20)  # school | early-years | agency
    sector: str | None = Field(default=None, max_length=40)  # agencies: vocabulary.SECTORS
    identifier_scheme: str = Field(default="", max_length=20)
    identifier: str = Field(default="", max_length=40, index=True)
    phase: str | None = Field(default=None, max_length=20)
    features: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    district: str = Field(default="", max_length=100)
    local_authority: str = Field(default="", max_length=100)
    establishment_type: str = Field(default="", max_length=100)
    postcode: str = Field(default="", max_length=10)
    contact_name: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=254)
    contact_phone: str = Field(default="", max_length=40)
    status: str = Field(default="active", max_length=20)
    opened_on: date | None = None
    closed_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class IntelligenceFlag(SQLModel, table=True):
    """One piece of intelligence about an organisation, with its source and date.

    Editing a flag never overwrites it: the old row is marked superseded and a new row takes
    its place, so the history of what the partnership knew, and when, is kept.
    """

    __tablename__ = "intelligence_flag"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    flag: str = Field(max_length=40)  # see FLAG_TYPES
    value: str = Field(default="", max_length=200)  # e.g. the Ofsted judgement
    source: str = Field(max_length=200)
    noted_on: date
    note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    superseded_at: datetime | None = None
    superseded_by: int | None = None


FLAG_TYPES = {
    "ofsted-judgement": "Latest Ofsted judgement",
    "safeguarding-concern": "Safeguarding concern noted by the partnership",
    "serious-incident": "Recent serious incident",
    "lado-referral": "Recent LADO referral",
    "other": "Other intelligence",
}
