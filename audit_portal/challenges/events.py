"""Challenge events: the peer-challenge meetings where the QA sub-group talks through what the
sampled organisations showed. A record says when the meeting was held, who came, which
organisations were discussed and what was said; a later correction is audited old and new.

The organisations offered are the campaign's sampled ones (every confirmed sample, less those
removed), or every organisation with a return in the campaign when nothing has been sampled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, changes, record
from audit_portal.campaigns import get_campaign
from audit_portal.errors import NotFound
from audit_portal.models import (
    Campaign,
    ChallengeEvent,
    DipSample,
    Organisation,
    Return,
    SampledReturn,
    User,
    saved_id,
)

MAX_ATTENDEES = 2000
MAX_NOTES = 10000
MAX_ORGANISATIONS = 1000


class EventNotFound(NotFound):
    """No challenge event has that id."""


class EventError(ValueError):
    """What was given cannot be recorded; ``field`` says which part of the form is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class EventData:
    """A challenge event as typed: checked again here whatever the form did."""

    held_on: date
    attendees: str
    organisation_ids: tuple[int, ...]
    notes: str = ""


@dataclass(frozen=True)
class OrganisationChoice:
    organisation_id: int
    name: str
    district: str = ""


@dataclass(frozen=True)
class EventChoices:
    """The campaign's title and the organisations an event can say were discussed."""

    campaign_title: str
    organisations: tuple[OrganisationChoice, ...]
    from_sample: bool  # False: nothing sampled yet, so every organisation in the campaign

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(o.organisation_id for o in self.organisations)


@dataclass(frozen=True)
class EventLine:
    event: ChallengeEvent
    organisation_names: tuple[str, ...]


@dataclass(frozen=True)
class EventView:
    event: ChallengeEvent
    campaign: Campaign | None
    organisation_names: tuple[str, ...]
    recorded_by_name: str


# ---------------------------------------------------------------------------------------------
# Reading


def _choices_for(db: Session, organisation_ids: Iterable[int]) -> tuple[OrganisationChoice, ...]:
    ids = sorted(set(organisation_ids))
    if not ids:
        return ()
    rows = db.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all()
    found = [OrganisationChoice(saved_id(o), o.name, o.district) for o in rows]
    return tuple(sorted(found, key=lambda o: (o.name.casefold(), o.organisation_id)))


def event_choices(db: Session, campaign_id: int, keep: Iterable[int] = ()) -> EventChoices:
    """The organisations to offer; ``keep`` adds those an event already names (so a correction
    never loses an organisation that has since left the sample)."""
    campaign = get_campaign(db, campaign_id)
    sampled = set(
        db.exec(
            select(SampledReturn.organisation_id)
            .join(DipSample, col(DipSample.id) == col(SampledReturn.dip_sample_id))
            .where(DipSample.campaign_id == campaign_id)
            .where(col(SampledReturn.removed_at).is_(None))
        ).all()
    )
    from_sample = bool(sampled)
    ids = sampled or set(
        db.exec(select(Return.organisation_id).where(Return.campaign_id == campaign_id)).all()
    )
    return EventChoices(campaign.title, _choices_for(db, ids | set(keep)), from_sample)


def _names(db: Session, organisation_ids: Sequence[int]) -> dict[int, str]:
    if not organisation_ids:
        return {}
    rows = db.exec(
        select(Organisation.id, Organisation.name).where(
            col(Organisation.id).in_(sorted(set(organisation_ids)))
        )
    ).all()
    return {i: n for i, n in rows if i is not None}


def _named(ids: Sequence[int], names: dict[int, str]) -> tuple[str, ...]:
    shown = [names.get(i, "An organisation no longer on the register") for i in ids]
    return tuple(sorted(shown, key=str.casefold))


def list_events(db: Session, campaign_id: int) -> tuple[Campaign, list[EventLine]]:
    """A campaign's events, the latest meeting first."""
    campaign = get_campaign(db, campaign_id)
    events = db.exec(
        select(ChallengeEvent)
        .where(ChallengeEvent.campaign_id == campaign_id)
        .order_by(col(ChallengeEvent.held_on).desc(), col(ChallengeEvent.id).desc())
    ).all()
    names = _names(db, [i for e in events for i in e.organisation_ids])
    return campaign, [EventLine(e, _named(e.organisation_ids, names)) for e in events]


def get_event(db: Session, event_id: int) -> ChallengeEvent:
    event = db.get(ChallengeEvent, event_id)
    if event is None:
        raise EventNotFound(event_id)
    return event


def load_event(db: Session, event_id: int) -> EventView:
    event = get_event(db, event_id)
    campaign = db.get(Campaign, event.campaign_id) if event.campaign_id is not None else None
    by = db.get(User, event.recorded_by) if event.recorded_by is not None else None
    names = _names(db, event.organisation_ids)
    return EventView(
        event, campaign, _named(event.organisation_ids, names), by.full_name if by else ""
    )


def event_for_editing(db: Session, event_id: int) -> tuple[EventView, EventChoices]:
    """An event and the organisations its correction may name (those it names already kept)."""
    view = load_event(db, event_id)
    event = view.event
    if view.campaign is None:  # its campaign was deleted: only what it names already
        return view, EventChoices("", _choices_for(db, event.organisation_ids), from_sample=True)
    return view, event_choices(db, view.campaign.id or 0, keep=event.organisation_ids)


# ---------------------------------------------------------------------------------------------
# Recording and correcting


def _checked(data: EventData, allowed: frozenset[int], today: date) -> EventData:
    if data.held_on > today:
        raise EventError("held_on", "The date the meeting was held must be today or in the past")
    attendees = data.attendees.strip()
    if not attendees:
        raise EventError("attendees", "Enter who attended the meeting")
    if len(attendees) > MAX_ATTENDEES:
        raise EventError("attendees", f"Attendees must be {MAX_ATTENDEES} characters or fewer")
    notes = data.notes.strip()
    if len(notes) > MAX_NOTES:
        raise EventError("notes", f"Notes must be {MAX_NOTES} characters or fewer")
    ids = tuple(sorted(set(data.organisation_ids)))
    if len(ids) > MAX_ORGANISATIONS or not set(ids) <= allowed:
        raise EventError("organisations", "Choose the organisations discussed from the list")
    return EventData(data.held_on, attendees, ids, notes)


def _values(event: ChallengeEvent) -> dict[str, object]:
    return {
        "held_on": event.held_on,
        "attendees": event.attendees,
        "organisation_ids": list(event.organisation_ids),
        "notes": event.notes,
    }


def record_event(
    db: Session,
    ctx: AuditContext,
    campaign_id: int,
    data: EventData,
    today: date,
) -> ChallengeEvent:
    """Record a meeting held for the campaign, with its audit event."""
    clean = _checked(data, event_choices(db, campaign_id).ids, today)
    event = ChallengeEvent(
        campaign_id=campaign_id,
        held_on=clean.held_on,
        attendees=clean.attendees,
        organisation_ids=list(clean.organisation_ids),
        notes=clean.notes,
        recorded_by=ctx.actor_id,
    )
    db.add(event)
    db.flush()
    record(
        db,
        ctx,
        "challenge_event.recorded",
        object_type="challenge_event",
        object_id=saved_id(event),
        new={"campaign_id": campaign_id, **_values(event)},
    )
    return event


def update_event(
    db: Session, ctx: AuditContext, event_id: int, data: EventData, today: date
) -> bool:
    """Correct an event; audited old and new. False when nothing changed (and nothing written)."""
    event = get_event(db, event_id)
    if event.campaign_id is not None:
        allowed = event_choices(db, event.campaign_id, keep=event.organisation_ids).ids
    else:
        allowed = frozenset(event.organisation_ids)
    clean = _checked(data, allowed, today)
    before = _values(event)
    event.held_on, event.attendees = clean.held_on, clean.attendees
    event.organisation_ids, event.notes = list(clean.organisation_ids), clean.notes
    old, new = changes(before, _values(event))
    if not new:
        return False
    db.add(event)
    db.flush()
    record(
        db,
        ctx,
        "challenge_event.changed",
        object_type="challenge_event",
        object_id=event_id,
        old=old,
        new=new,
    )
    return True
