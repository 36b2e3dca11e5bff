"""Organisations and their intelligence: create, change (with audit events), list and filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, changes, record
from audit_portal.models import IntelligenceFlag, Membership, Organisation, User, utcnow

EDITABLE = (
    "name",
    "duty_type",
    "sector",
    "phase",
    "features",
    "identifier_scheme",
    "identifier",
    "district",
    "contact_name",
    "contact_email",
    "contact_phone",
    "status",
)
# Set by imports (e.g. from Get Information about Schools), not by the web form.
IMPORTED = ("local_authority", "establishment_type", "postcode", "opened_on", "closed_on")
FIELDS = (*EDITABLE, *IMPORTED)


class OrganisationError(ValueError):
    """A change to an organisation that cannot be made; the message is for people."""


def kind_for(duty_type: str) -> str:
    if duty_type in {"section-175-school", "section-157-school"}:
        return "school"
    if duty_type in {"early-years-group", "childminder"}:
        return "early-years"
    return "agency"


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = {k: values[k] for k in FIELDS if k in values}
    for key in ("sector", "phase"):
        if key in cleaned:
            cleaned[key] = cleaned[key] or None
    if "features" in cleaned:
        cleaned["features"] = sorted(set(cleaned["features"] or []))
    if "identifier" in cleaned and not cleaned["identifier"]:
        cleaned["identifier"], cleaned["identifier_scheme"] = "", ""
    return cleaned


def _check_identifier_free(db: Session, scheme: str, identifier: str, own_id: int | None) -> None:
    if not identifier:
        return
    clash = db.exec(
        select(Organisation).where(
            Organisation.identifier_scheme == scheme, Organisation.identifier == identifier
        )
    ).first()
    if clash is not None and clash.id != own_id:
        raise OrganisationError(f"{clash.name} already has the identifier {identifier}")


def create_organisation(db: Session, ctx: AuditContext, values: Mapping[str, Any]) -> Organisation:
    cleaned = {"identifier_scheme": "", "identifier": "", **_clean(values)}
    _check_identifier_free(db, cleaned["identifier_scheme"], cleaned["identifier"], None)
    org = Organisation(**cleaned, kind=kind_for(cleaned["duty_type"]))
    db.add(org)
    db.flush()
    record(
        db,
        ctx,
        "organisation.create",
        object_type="organisation",
        object_id=org.id,
        organisation_id=org.id,
        new=snapshot(org),
    )
    return org


def update_organisation(
    db: Session, ctx: AuditContext, org: Organisation, values: Mapping[str, Any]
) -> bool:
    """Apply changes; True if anything changed (only then is an audit event written)."""
    cleaned = _clean(values)
    if "duty_type" in cleaned:
        cleaned["kind"] = kind_for(cleaned["duty_type"])
    _check_identifier_free(
        db,
        cleaned.get("identifier_scheme", org.identifier_scheme),
        cleaned.get("identifier", org.identifier),
        org.id,
    )
    old, new = changes(snapshot(org), cleaned)
    if not new:
        return False
    for key, value in cleaned.items():
        setattr(org, key, value)
    org.updated_at = utcnow()
    db.add(org)
    record(
        db,
        ctx,
        "organisation.update",
        object_type="organisation",
        object_id=org.id,
        organisation_id=org.id,
        old=old,
        new=new,
    )
    return True


def snapshot(org: Organisation) -> dict[str, Any]:
    return {k: getattr(org, k) for k in (*FIELDS, "kind")}


@dataclass(frozen=True)
class OrganisationFilter:
    search: str = ""
    duty_type: str = ""
    district: str = ""
    status: str = "active"
    page: int = 1
    per_page: int = 50


def list_organisations(
    db: Session, organisation_filter: OrganisationFilter
) -> tuple[list[Organisation], int]:
    query = select(Organisation)
    if organisation_filter.search:
        like = f"%{organisation_filter.search.lower()}%"
        query = query.where(
            or_(
                func.lower(Organisation.name).like(like),
                col(Organisation.identifier) == organisation_filter.search,
            )
        )
    if organisation_filter.duty_type:
        query = query.where(col(Organisation.duty_type) == organisation_filter.duty_type)
    if organisation_filter.district:
        query = query.where(col(Organisation.district) == organisation_filter.district)
    if organisation_filter.status:
        query = query.where(col(Organisation.status) == organisation_filter.status)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    offset = (organisation_filter.page - 1) * organisation_filter.per_page
    organisations = db.exec(
        query.order_by(Organisation.name).offset(offset).limit(organisation_filter.per_page)
    ).all()
    return list(organisations), total


def districts(db: Session) -> list[str]:
    rows = db.exec(select(Organisation.district).distinct().where(Organisation.district != ""))
    return sorted(rows.all())


# --- intelligence --------------------------------------------------------------------------


def current_flags(db: Session, organisation_id: int) -> list[IntelligenceFlag]:
    return list(
        db.exec(
            select(IntelligenceFlag)
            .where(
                IntelligenceFlag.organisation_id == organisation_id,
                col(IntelligenceFlag.superseded_at).is_(None),
            )
            .order_by(IntelligenceFlag.flag)
        ).all()
    )


def current_flags_by_organisation(db: Session) -> dict[int, set[str]]:
    """The types of every organisation's current flags, in one query (for selections)."""
    found: dict[int, set[str]] = {}
    rows = db.exec(
        select(IntelligenceFlag.organisation_id, IntelligenceFlag.flag).where(
            col(IntelligenceFlag.superseded_at).is_(None)
        )
    ).all()
    for organisation_id, flag in rows:
        found.setdefault(organisation_id, set()).add(flag)
    return found


@dataclass(frozen=True)
class OrganisationPage:
    organisation: Organisation
    members: list[tuple[Membership, User]] | None
    flags: list[IntelligenceFlag] | None
    history: list[IntelligenceFlag] | None


def organisation_page(
    db: Session, organisation_id: int, *, with_members: bool, with_intelligence: bool
) -> OrganisationPage | None:
    """An organisation with what the viewer may see of its people and intelligence."""
    org = db.get(Organisation, organisation_id)
    if org is None:
        return None
    members = (
        list(
            db.exec(
                select(Membership, User)
                .join(User, col(User.id) == Membership.user_id)
                .where(Membership.organisation_id == organisation_id)
                .order_by(User.full_name)
            ).all()
        )
        if with_members
        else None
    )
    flags = current_flags(db, organisation_id) if with_intelligence else None
    history = flag_history(db, organisation_id) if with_intelligence else None
    return OrganisationPage(org, members, flags, history)


def flag_history(db: Session, organisation_id: int) -> list[IntelligenceFlag]:
    return list(
        db.exec(
            select(IntelligenceFlag)
            .where(IntelligenceFlag.organisation_id == organisation_id)
            .order_by(col(IntelligenceFlag.created_at).desc(), col(IntelligenceFlag.id).desc())
        ).all()
    )


def note_intelligence(
    db: Session,
    ctx: AuditContext,
    organisation_id: int,
    *,
    flag: str,
    value: str,
    source: str,
    noted_on: date,
    note: str = "",
) -> str:
    """Record intelligence; an existing flag of the same type is superseded, never overwritten.

    Returns what happened: "created", "superseded" (an earlier flag now has a successor) or
    "unchanged" (the same intelligence is already current)."""
    current = next((f for f in current_flags(db, organisation_id) if f.flag == flag), None)
    fresh = {"value": value, "source": source, "noted_on": noted_on, "note": note}
    if current is not None and all(getattr(current, k) == v for k, v in fresh.items()):
        return "unchanged"
    new = IntelligenceFlag(
        organisation_id=organisation_id,
        flag=flag,
        created_by=ctx.actor_id,
        value=value,
        source=source,
        noted_on=noted_on,
        note=note,
    )
    db.add(new)
    db.flush()
    if current is not None:
        current.superseded_at, current.superseded_by = utcnow(), new.id
        db.add(current)
        record(
            db,
            ctx,
            "intelligence.supersede",
            object_type="intelligence_flag",
            object_id=current.id,
            organisation_id=organisation_id,
            old={"flag": flag, "value": current.value},
            new={"superseded_by": new.id},
        )
    record(
        db,
        ctx,
        "intelligence.create",
        object_type="intelligence_flag",
        object_id=new.id,
        organisation_id=organisation_id,
        new={"flag": flag, **fresh},
    )
    return "created" if current is None else "superseded"
