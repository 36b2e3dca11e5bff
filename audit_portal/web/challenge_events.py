"""Challenge events (peer-challenge meetings): a campaign's list, one event, recording one and
correcting it. Endpoints parse, call one domain function (``challenges.events``), render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from wtforms import Form, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from audit_portal import clock
from audit_portal.challenges.events import (
    MAX_ATTENDEES,
    MAX_NOTES,
    MAX_ORGANISATIONS,
    EventData,
    EventError,
    OrganisationChoice,
    event_choices,
    event_for_editing,
    list_events,
    load_event,
    record_event,
    update_event,
)
from audit_portal.parsing import parse_id
from audit_portal.policy import Permission, allows
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.date_field import DatePartsField
from audit_portal.web.guard import audit_context, page
from audit_portal.wording import long_date

CHOOSE_FROM_LIST = "Choose the organisations discussed from the list"


class ChallengeEventForm(Form):
    held_on = DatePartsField(
        "Date the meeting was held",
        required="Enter the date the meeting was held",
        what="the date the meeting was held",
    )
    attendees = TextAreaField(
        "Who attended",
        validators=[
            DataRequired("Enter who attended the meeting"),
            Length(
                max=MAX_ATTENDEES,
                message=f"Who attended must be {MAX_ATTENDEES} characters or fewer",
            ),
        ],
    )
    organisations = SelectMultipleField(
        "Organisations discussed", choices=[], validate_choice=False
    )
    notes = TextAreaField(
        "Notes",
        validators=[
            Optional(),
            Length(max=MAX_NOTES, message=f"Notes must be {MAX_NOTES} characters or fewer"),
        ],
    )

    def __init__(
        self,
        formdata: FormData | None = None,
        *,
        allowed: Sequence[OrganisationChoice] = (),
        **kwargs: object,
    ) -> None:
        super().__init__(formdata, **kwargs)
        self.allowed = frozenset(o.organisation_id for o in allowed)
        self.organisation_ids: tuple[int, ...] = ()

    def validate_held_on(self, field: DatePartsField) -> None:
        if field.data is not None and field.data > clock.today():
            raise ValidationError("The date the meeting was held must be today or in the past")

    def validate_organisations(self, field: SelectMultipleField) -> None:
        typed = [v for v in (field.data or []) if isinstance(v, str)]
        ids = {parse_id(v) for v in typed}
        if len(typed) > MAX_ORGANISATIONS or None in ids or not ids <= self.allowed:
            raise ValidationError(CHOOSE_FROM_LIST)
        self.organisation_ids = tuple(sorted(i for i in ids if i is not None))

    def event_data(self) -> EventData:
        held_on = self.held_on.data
        assert isinstance(held_on, date)  # validate() passed
        return EventData(
            held_on=held_on,
            attendees=self.attendees.data or "",
            organisation_ids=self.organisation_ids,
            notes=self.notes.data or "",
        )

    def fail(self, problem: EventError) -> None:
        name = problem.field if problem.field in self._fields else "attendees"
        self[name].errors = [*self[name].errors, str(problem)]


@dataclass(frozen=True)
class FormPage:
    """What the event form shows around the form itself."""

    title: str
    action: str
    organisations: Sequence[OrganisationChoice]
    campaign_title: str
    from_sample: bool
    back: str


def _form_page(
    request: Request, form: ChallengeEventForm, shown: FormPage, status_code: int = 200
) -> Response:
    return render(
        request,
        "qa/challenge_event_form.html",
        {
            "title": shown.title,
            "page": shown,
            "form": form,
            "chosen": {str(v) for v in form.organisations.data or []},
        },
        status_code=status_code,
    )


async def events_list(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    campaign, lines = await run_db(request, lambda db: list_events(db, campaign_id))
    return render(
        request,
        "qa/challenge_events.html",
        {
            "title": f"Challenge events: {campaign.title}",
            "campaign": campaign,
            "lines": lines,
            "can_manage": allows(request.state.actor, Permission.CHALLENGES_MANAGE),
        },
    )


async def event_new(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    choices = await run_db(request, lambda db: event_choices(db, campaign_id))
    shown = FormPage(
        title="Record a challenge event",
        action=f"/campaigns/{campaign_id}/challenge-events/new",
        organisations=choices.organisations,
        campaign_title=choices.campaign_title,
        from_sample=choices.from_sample,
        back=f"/campaigns/{campaign_id}/challenge-events",
    )
    if request.method == "GET":
        return _form_page(request, ChallengeEventForm(allowed=choices.organisations), shown)
    form = ChallengeEventForm(await request.form(), allowed=choices.organisations)
    if not form.validate():
        return _form_page(request, form, shown, 400)
    data, ctx, today = form.event_data(), audit_context(request), clock.today()
    try:
        event = await run_db(
            request, lambda db: record_event(db, ctx, campaign_id, data, today), write=True
        )
    except EventError as problem:
        form.fail(problem)
        return _form_page(request, form, shown, 400)
    return await redirect_with_message(
        request, f"/challenge-events/{event.id}", "The challenge event has been recorded."
    )


async def event_view(request: Request) -> Response:
    event_id = request.path_params["event_id"]
    view = await run_db(request, lambda db: load_event(db, event_id))
    return render(
        request,
        "qa/challenge_event.html",
        {
            "title": f"Challenge event held on {long_date(view.event.held_on)}",
            "view": view,
            "can_manage": allows(request.state.actor, Permission.CHALLENGES_MANAGE),
        },
    )


async def event_edit(request: Request) -> Response:
    event_id = request.path_params["event_id"]
    view, choices = await run_db(request, lambda db: event_for_editing(db, event_id))
    event = view.event
    shown = FormPage(
        title="Change a challenge event",
        action=f"/challenge-events/{event_id}/edit",
        organisations=choices.organisations,
        campaign_title=choices.campaign_title,
        from_sample=choices.from_sample,
        back=f"/challenge-events/{event_id}",
    )
    if request.method == "GET":
        form = ChallengeEventForm(
            allowed=choices.organisations,
            data={
                "held_on": event.held_on,
                "attendees": event.attendees,
                "organisations": [str(i) for i in event.organisation_ids],
                "notes": event.notes,
            },
        )
        return _form_page(request, form, shown)
    form = ChallengeEventForm(await request.form(), allowed=choices.organisations)
    if not form.validate():
        return _form_page(request, form, shown, 400)
    data, ctx, today = form.event_data(), audit_context(request), clock.today()
    try:
        changed = await run_db(
            request, lambda db: update_event(db, ctx, event_id, data, today), write=True
        )
    except EventError as problem:
        form.fail(problem)
        return _form_page(request, form, shown, 400)
    text = "The challenge event has been changed." if changed else "Nothing was changed."
    return await redirect_with_message(
        request, f"/challenge-events/{event_id}", text, "success" if changed else "important"
    )


routes = [
    page(
        "/campaigns/{campaign_id:id}/challenge-events",
        events_list,
        permission=Permission.DIP_SAMPLES_VIEW,
    ),
    page(
        "/campaigns/{campaign_id:id}/challenge-events/new",
        event_new,
        permission=Permission.CHALLENGES_MANAGE,
        methods=["GET", "POST"],
    ),
    page("/challenge-events/{event_id:id}", event_view, permission=Permission.DIP_SAMPLES_VIEW),
    page(
        "/challenge-events/{event_id:id}/edit",
        event_edit,
        permission=Permission.CHALLENGES_MANAGE,
        methods=["GET", "POST"],
    ),
]
