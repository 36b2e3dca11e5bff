"""Six-month follow-ups: the organisation writes and signs its updates, the partnership reviews
them, and everyone can see how a campaign's follow-ups are going. Endpoints parse, call one
domain function (``followups.records``), render."""

from __future__ import annotations

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audit_portal import clock
from audit_portal.campaigns import get_campaign
from audit_portal.followups.dashboard import FollowUpFilter, campaign_follow_ups
from audit_portal.followups.form import field_prefix, parse_update, typed_fields
from audit_portal.followups.records import (
    FollowUpContext,
    FollowUpDeclaration,
    FollowUpError,
    UpdateData,
    add_partnership_action,
    load_follow_up,
    readiness_problems,
    review_follow_up,
    save_updates,
    state_of,
    submit_follow_up,
)
from audit_portal.followups.rules import ActionProgress, FollowUpStatus
from audit_portal.models import ActionSource, saved_id
from audit_portal.models.organisations import KINDS
from audit_portal.organisations import districts
from audit_portal.parsing import MAX_VERSION, parse_int
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import Catalogue, current_catalogue
from audit_portal.returns.answers import parse_action
from audit_portal.returns.context import load_return, return_scope
from audit_portal.returns.submitting import declaration_problems
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.guard import Endpoint, GuardedRoute, audit_context, page

NEW_ACTION = "action"  # field names on the form that adds one action: action-what...


def _catalogue(request: Request) -> Catalogue:
    return current_catalogue(request.app.state.settings.questionnaires_dir)


async def _context(request: Request) -> FollowUpContext:
    return_id, catalogue = request.path_params["return_id"], _catalogue(request)

    def load(db: Session) -> FollowUpContext:
        the_return = load_return(db, catalogue, return_id, with_answers=False)
        return load_follow_up(db, the_return.definition, return_id)

    return await run_db(request, load)


def _fields(context: FollowUpContext) -> dict[int, dict]:
    """What the form shows for each action: the stored update (or nothing yet)."""
    shown = {}
    for line in context.lines:
        update = line.update
        target = update.new_target_date if update else None
        shown[saved_id(line.action)] = {
            "progress": update.progress if update else "",
            "narrative": update.narrative if update else "",
            "revised_rating": str(update.revised_rating)
            if update and update.revised_rating
            else "",
            "evidence": update.evidence if update else "",
            "day": str(target.day) if target else "",
            "month": str(target.month) if target else "",
            "year": str(target.year) if target else "",
            "version": update.version if update else "",
        }
    return shown


def _page(
    request: Request,
    context: FollowUpContext,
    *,
    errors: dict | None = None,
    typed: dict | None = None,
    status_code: int = 200,
    extra: dict | None = None,
) -> Response:
    actor = request.state.actor
    org_id = context.organisation.id
    today = clock.today()
    state = state_of(context.follow_up, today)
    fields = _fields(context) | (typed or {})
    return render(
        request,
        "followups/form.html",
        {
            "title": f"Six-month follow-up: {context.organisation.name}",
            "context": context,
            "state": state,
            "fields": fields,
            "errors": errors or {},
            "problems": [
                (action_id, field, message)
                for action_id, found in (errors or {}).items()
                for field, message in found.items()
            ],
            "outstanding": readiness_problems(context, today),
            "can_edit": context.editable and allows(actor, Permission.RETURN_EDIT, org_id),
            "can_submit": context.editable and allows(actor, Permission.RETURN_SUBMIT, org_id),
            "can_review": allows(actor, Permission.FOLLOW_UP_REVIEW)
            and state.status is FollowUpStatus.SUBMITTED,
            "progress_choices": list(ActionProgress),
            "scale": context.definition.rating_scale,
            **(extra or {}),
        },
        status_code=status_code,
    )


async def follow_up_page(request: Request) -> Response:
    return _page(request, await _context(request))


def _typed_updates(
    form: FormData, context: FollowUpContext, only: int | None = None
) -> tuple[dict[int, UpdateData], dict[int, dict[str, str]], dict[int, int | None]]:
    updates, problems, versions = {}, {}, {}
    for line in context.lines:
        action_id = saved_id(line.action)
        if only is not None and action_id != only:
            continue
        data, found = parse_update(form, action_id)
        if found:
            problems[action_id] = found
        else:
            updates[action_id] = data
        versions[action_id] = parse_int(
            form.get(f"{field_prefix(action_id)}-version"), high=MAX_VERSION
        )
    return updates, problems, versions


async def follow_up_save(request: Request) -> Response:
    context = await _context(request)
    form = await request.form()
    updates, problems, versions = _typed_updates(form, context)
    ctx, today = audit_context(request), clock.today()
    allowed = {p.value for p in context.definition.rating_scale.points}
    follow_up_id = context.follow_up_id
    try:
        outcome = await run_db(
            request,
            lambda db: save_updates(db, ctx, follow_up_id, updates, versions, allowed, today),
            write=True,
        )
    except FollowUpError as problem:
        raise HTTPException(409, str(problem)) from None
    errors = {**problems, **outcome.errors}
    for action_id in outcome.conflicts:
        errors.setdefault(action_id, {})["progress"] = (
            "A colleague saved a different update: yours is shown, save again to keep it"
        )
    if errors:
        typed = {k: typed_fields(form, k) | {"version": str(versions.get(k) or "")} for k in errors}
        return _page(request, await _context(request), errors=errors, typed=typed, status_code=400)
    return await redirect_with_message(
        request,
        f"/returns/{context.ret.id}/follow-up",
        "Your updates are saved. A signatory submits the follow-up when every action has one.",
    )


async def follow_up_autosave(request: Request) -> Response:
    """htmx: save one action's update as it changes; answer with its status line."""
    context = await _context(request)
    action_id = request.path_params["action_id"]
    if action_id not in {saved_id(line.action) for line in context.lines}:
        raise HTTPException(404)
    form = await request.form()
    updates, problems, versions = _typed_updates(form, context, only=action_id)
    ctx, today = audit_context(request), clock.today()
    allowed = {p.value for p in context.definition.rating_scale.points}
    follow_up_id = context.follow_up_id
    try:
        outcome = await run_db(
            request,
            lambda db: save_updates(db, ctx, follow_up_id, updates, versions, allowed, today),
            write=True,
        )
    except FollowUpError as problem:
        raise HTTPException(409, str(problem)) from None
    saved = outcome.saved.get(action_id) or outcome.conflicts.get(action_id)
    return render(
        request,
        "followups/form.html",
        {
            "fid": field_prefix(action_id),
            "errors": problems.get(action_id) or outcome.errors.get(action_id, {}),
            "conflict": action_id in outcome.conflicts,
            "saved_at": clock.now() if action_id in outcome.saved else None,
            "version": saved.version if saved else None,
        },
        block="autosave_status",
    )


async def follow_up_submit(request: Request) -> Response:
    context = await _context(request)
    if not context.editable:
        return RedirectResponse(f"/returns/{context.ret.id}/follow-up", status_code=303)
    today = clock.today()
    outstanding = readiness_problems(context, today)
    errors: dict[str, str] = {}
    values = {"name": request.state.actor.full_name, "role": "", "confirm": ""}
    if request.method == "POST":
        form = await request.form()
        values = {k: str(form.get(k, "")).strip() for k in ("name", "role", "confirm")}
        errors = declaration_problems(values["name"], values["role"], values["confirm"] == "yes")
        if outstanding:
            errors["ready"] = "The follow-up is not ready to submit: every action needs an update"
        if not errors:
            settings, ctx = request.app.state.settings, audit_context(request)
            declaration = FollowUpDeclaration(values["name"], values["role"], today)
            try:
                await run_db(
                    request,
                    lambda db: submit_follow_up(db, settings, ctx, context, declaration, today),
                    write=True,
                )
            except FollowUpError as problem:
                errors["ready"] = str(problem)
            else:
                return await redirect_with_message(
                    request,
                    f"/returns/{context.ret.id}/follow-up",
                    "The follow-up has been submitted. The partnership will read it and tell you "
                    "if it needs anything more.",
                )
    return render(
        request,
        "followups/submit.html",
        {
            "title": "Sign and submit the follow-up",
            "context": context,
            "errors": errors,
            "values": values,
            "outstanding": outstanding,
        },
        status_code=400 if errors else 200,
    )


async def follow_up_round(request: Request) -> Response:
    context = await _context(request)
    wanted = request.path_params["round"]
    found = next((r for r in context.rounds if r.round == wanted), None)
    if found is None:
        raise HTTPException(404)
    scale = context.definition.rating_scale
    labels = {p.value: p.label for p in scale.points}
    return render(
        request,
        "followups/round.html",
        {
            "title": f"Follow-up, round {wanted}",
            "context": context,
            "submission": found,
            "labels": labels,
            "progress_labels": {p.value: p.label for p in ActionProgress},
            "review": next((r for r in context.reviews if r.round == wanted), None),
        },
    )


async def follow_up_review(request: Request) -> Response:
    return_id, ctx = request.path_params["return_id"], audit_context(request)
    form = await request.form()
    decision, comment = str(form.get("decision", "")), str(form.get("comment", ""))
    if decision not in {"accept", "more_information"}:
        context = await _context(request)
        return _review_error(request, context, "Choose whether to accept the follow-up", comment)
    settings = request.app.state.settings
    try:
        await run_db(
            request,
            lambda db: review_follow_up(
                db, settings, ctx, return_id, decision == "accept", comment
            ),
            write=True,
        )
    except FollowUpError as problem:
        return _review_error(request, await _context(request), str(problem), comment)
    text = (
        "The follow-up has been accepted."
        if decision == "accept"
        else "The organisation has been asked for more information."
    )
    return await redirect_with_message(request, f"/returns/{return_id}/follow-up", text)


def _review_error(
    request: Request, context: FollowUpContext, message: str, comment: str
) -> Response:
    extra = {"review_error": message, "review_comment": comment[:2000]}
    return _page(request, context, status_code=400, extra=extra)


async def add_action_to_return(request: Request) -> Response:
    """The partnership adds an action to a submitted return (after an evidence challenge, say);
    it joins the return's follow-up, which is opened if there was none, and the organisation
    is told."""
    return_id, catalogue = request.path_params["return_id"], _catalogue(request)
    the_return = await run_db(
        request, lambda db: load_return(db, catalogue, return_id, with_answers=False)
    )
    if the_return.editable:
        raise HTTPException(409, "Actions are added to a return once it has been submitted")
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        item_id = str(form.get("item_id", ""))[:40]
        draft, problems = parse_action(form, item_id, clock.today(), prefix=NEW_ACTION)
        values = {"item_id": item_id, **draft.typed}
        if the_return.definition.item(item_id) is None:
            problems = {"item": "Choose the question the action is about", **problems}
        if not problems:
            settings, ctx = request.app.state.settings, audit_context(request)
            await run_db(
                request,
                lambda db: add_partnership_action(
                    db, settings, ctx, return_id, item_id, draft, ActionSource.QA
                ),
                write=True,
            )
            return await redirect_with_message(
                request,
                f"/returns/{return_id}/follow-up",
                "The action has been added to the follow-up and the organisation has been told.",
            )
    return render(
        request,
        "followups/add_action.html",
        {
            "title": "Add an action",
            "the_return": the_return,
            "values": values,
            "errors": problems,
        },
        status_code=400 if problems else 200,
    )


async def campaign_follow_ups_page(request: Request) -> Response:
    campaign_id, catalogue, today = (
        request.path_params["campaign_id"],
        _catalogue(request),
        clock.today(),
    )
    q = request.query_params
    f = FollowUpFilter(
        kind=q.get("kind", ""),
        district=q.get("district", ""),
        status=q.get("status", ""),
        sort=q.get("sort", "overdue"),
        descending=q.get("order", "desc") == "desc",
    ).cleaned()
    contacts = allows(request.state.actor, Permission.FOLLOW_UP_REVIEW)

    def load(db: Session) -> tuple:
        campaign = get_campaign(db, campaign_id)
        definition = catalogue.get(campaign.questionnaire_key, campaign.questionnaire_version)
        board = campaign_follow_ups(db, campaign_id, definition, today, f, with_contacts=contacts)
        return campaign, definition, board, districts(db)

    campaign, definition, board, all_districts = await run_db(request, load)
    return render(
        request,
        "followups/dashboard.html",
        {
            "title": f"Follow-ups: {campaign.title}",
            "campaign": campaign,
            "definition": definition,
            "board": board,
            "follow_up_filter": f,
            "statuses": list(FollowUpStatus),
            "kinds": list(KINDS.items()),
            "districts": all_districts,
            "show_contacts": contacts,
            "can_open": contacts,
        },
    )


def _follow_up_scope(db: Session, params: dict) -> int | None:
    return return_scope(db, params["return_id"])


def on_follow_up(
    path: str,
    endpoint: Endpoint,
    permission: Permission,
    methods: tuple[str, ...] = ("GET",),
    name: str | None = None,
) -> GuardedRoute:
    return page(
        "/returns/{return_id:id}" + path,
        endpoint,
        permission=permission,
        scope=_follow_up_scope,
        methods=methods,
        name=name,
    )


routes = [
    on_follow_up("/follow-up", follow_up_page, Permission.RETURN_VIEW),
    on_follow_up(
        "/follow-up", follow_up_save, Permission.RETURN_EDIT, ("POST",), name="follow_up_save"
    ),
    on_follow_up(
        "/follow-up/actions/{action_id:id}", follow_up_autosave, Permission.RETURN_EDIT, ("POST",)
    ),
    on_follow_up("/follow-up/submit", follow_up_submit, Permission.RETURN_SUBMIT, ("GET", "POST")),
    on_follow_up("/follow-up/rounds/{round:id}", follow_up_round, Permission.RETURN_VIEW),
    on_follow_up("/follow-up/review", follow_up_review, Permission.FOLLOW_UP_REVIEW, ("POST",)),
    on_follow_up("/actions", add_action_to_return, Permission.FOLLOW_UP_REVIEW, ("GET", "POST")),
    page(
        "/campaigns/{campaign_id:id}/follow-ups",
        campaign_follow_ups_page,
        permission=Permission.FOLLOW_UPS_VIEW,
    ),
]
