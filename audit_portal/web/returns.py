"""Completing a return: sections, autosave, actions, checking, signing and frozen submissions.

Every form works as a plain POST (Save and continue); htmx only saves each item as it changes.
Both paths go through ``_save_items``, so validation, conflicts and audit are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.followups import follow_up_due
from audit_portal.models import Action, Answer, Campaign, Organisation, Return, ReturnStatus, utcnow
from audit_portal.parsing import MAX_VERSION, parse_int
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import Definition, current_catalogue
from audit_portal.questionnaires.locks import VersionRefused, verify_version
from audit_portal.questionnaires.model import Item
from audit_portal.reports.organisation_summary import build_summary, summary_pdf
from audit_portal.returns.answers import (
    UnknownItem,
    field_prefix,
    find_item,
    parse_item,
    typed_answers,
)
from audit_portal.returns.carry import carry_forward, previous_submission
from audit_portal.returns.readiness import Readiness, applicable_items
from audit_portal.returns.store import (
    Declaration,
    ReturnError,
    accept_return,
    actions_of,
    add_action,
    answers_of,
    as_data,
    assess_return,
    profile_of,
    remove_action,
    return_for_amendment,
    save_answer,
    submissions_of,
    submit_return,
)
from audit_portal.scoring import applies
from audit_portal.web.context import get_or_404, redirect_with_message, render, run_db
from audit_portal.web.guard import (
    Endpoint,
    GuardedRoute,
    KeptTyping,
    TypingKeeper,
    audit_context,
    page,
)


def return_organisation(db: Session, params: dict) -> int | None:
    """Scope resolver: the organisation a return belongs to (None: no such return)."""
    ret = db.get(Return, params["return_id"])
    return ret.organisation_id if ret else None


@dataclass
class ReturnView:
    ret: Return
    campaign: Campaign
    org: Organisation
    definition: Definition
    questionnaire_hash: str
    answers: dict[str, Answer]
    actions: list[Action]

    def readiness(self) -> Readiness:
        return assess_return(self.definition, self.org, self.answers, self.actions)

    @property
    def editable(self) -> bool:
        return ReturnStatus(self.ret.status).editable and (
            self.campaign.status != "closed" or self.ret.status == ReturnStatus.RETURNED
        )


def _load(request: Request, db: Session, return_id: int) -> ReturnView:
    ret = get_or_404(db, Return, return_id)
    campaign = get_or_404(db, Campaign, ret.campaign_id)
    org = get_or_404(db, Organisation, ret.organisation_id)
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    definition = verify_version(
        db, catalogue, campaign.questionnaire_key, campaign.questionnaire_version
    )
    loaded = catalogue.file_for(campaign.questionnaire_key, campaign.questionnaire_version)
    assert loaded is not None and loaded.content_hash is not None
    return ReturnView(
        ret,
        campaign,
        org,
        definition,
        loaded.content_hash,
        answers_of(db, ret.id),
        actions_of(db, ret.id),
    )


async def load_view(request: Request) -> ReturnView:
    return_id = request.path_params["return_id"]
    try:
        return await run_db(request, lambda db: _load(request, db, return_id))
    except VersionRefused as problem:
        raise HTTPException(409, str(problem)) from None


def _answer_fields(answer: Answer | None) -> dict:
    """What the item template shows: stored values (or None for a new answer)."""
    if answer is None:
        return {}
    data = as_data(answer)
    value = "na" if data.not_applicable else data.value
    fields = {
        "value": value,
        "narrative": data.narrative,
        "evidence": data.evidence,
        "na_reason": data.na_reason,
        "version": answer.version,
        "carried": answer.carried_forward,
        "carry_note": answer.carry_note,
    }
    if isinstance(data.value, str) and len(data.value) == 10 and data.value[4] == "-":
        fields.update(
            year=data.value[:4], month=str(int(data.value[5:7])), day=str(int(data.value[8:]))
        )
    return fields


def _typed_fields(item: Item, form) -> dict:  # type: ignore[no-untyped-def]
    """What the person typed, to show again after an error or conflict: nothing is lost."""
    prefix = field_prefix(item.id)
    get = lambda name: form.get(f"{prefix}-{name}", "")  # noqa: E731
    value = form.getlist(f"{prefix}-value") if item.kind == "multiple_choice" else get("value")
    return {
        "value": value,
        "narrative": get("narrative"),
        "evidence": get("evidence"),
        "na_reason": get("na-reason"),
        "day": get("value-day"),
        "month": get("value-month"),
        "year": get("value-year"),
    }


# --- overview and sections --------------------------------------------------------------------


async def return_overview(request: Request) -> Response:
    view = await load_view(request)
    readiness = view.readiness()
    profile = profile_of(view.org)
    sections = []
    for section in view.definition.sections:
        items = [i for i in section.items if applies(i, profile)]
        if not items:
            continue
        answered = sum(
            1 for i in items if i.id in view.answers and not as_data(view.answers[i.id]).is_empty
        )
        sections.append((section, len(items), answered))
    can_edit = view.editable and _can(request, Permission.RETURN_EDIT, view)
    previous = None
    if can_edit and not view.answers:
        previous = await run_db(
            request, lambda db: previous_submission(db, view.ret, view.campaign)
        )
    return render(
        request,
        "returns/overview.html",
        {
            "title": f"{view.org.name}: {view.campaign.title}",
            "v": view,
            "readiness": readiness,
            "sections": sections,
            "previous": previous,
            "can_edit": can_edit,
            "can_review": allows(request.state.actor, Permission.RETURN_REVIEW),
            "submissions": await run_db(request, lambda db: submissions_of(db, view.ret.id)),
        },
    )


def _can(request: Request, permission: Permission, view: ReturnView) -> bool:
    return allows(request.state.actor, permission, view.org.id)


def _section(view: ReturnView, section_id: str):  # type: ignore[no-untyped-def]
    sections = view.definition.sections
    index = next((n for n, s in enumerate(sections) if s.id == section_id), None)
    if index is None:
        raise HTTPException(404)
    return index, sections[index]


async def section_page(request: Request) -> Response:
    view = await load_view(request)
    index, section = _section(view, request.path_params["section_id"])
    profile = profile_of(view.org)
    items = [i for i in section.items if applies(i, profile)]
    if not view.editable:
        return RedirectResponse(f"/returns/{view.ret.id}", status_code=303)
    fields = {i.id: _answer_fields(view.answers.get(i.id)) for i in items}
    errors: dict[str, dict] = {}
    conflicts: dict[str, dict] = {}
    if request.method == "POST":
        form = await request.form()
        outcome = await _save_items(request, view, items, form)
        if outcome.all_saved:
            nxt = _next_section(view, index)
            target = (
                f"/returns/{view.ret.id}/sections/{nxt.id}"
                if nxt
                else f"/returns/{view.ret.id}/check"
            )
            return RedirectResponse(target, status_code=303)
        errors, conflicts = outcome.errors, outcome.conflicts
        for item in items:
            if item.id in errors or item.id in conflicts:
                fields[item.id] = {
                    **_typed_fields(item, form),
                    "version": outcome.versions.get(item.id, fields[item.id].get("version")),
                }
    actions = {}
    for action in view.actions:
        actions.setdefault(action.item_id, []).append(action)
    return render(
        request,
        "returns/section.html",
        {
            "title": section.title,
            "v": view,
            "section": section,
            "items": items,
            "number": index + 1,
            "fields": fields,
            "errors": errors,
            "conflicts": conflicts,
            "actions": actions,
            "less_effective": {
                p.value for p in view.definition.rating_scale.points if p.less_effective
            },
        },
        status_code=400 if errors or conflicts else 200,
    )


def _next_section(view: ReturnView, index: int):  # type: ignore[no-untyped-def]
    profile = profile_of(view.org)
    for section in view.definition.sections[index + 1 :]:
        if any(applies(i, profile) for i in section.items):
            return section
    return None


@dataclass
class SaveOutcome:
    errors: dict[str, dict]
    conflicts: dict[str, dict]  # item id -> the newer stored answer's fields
    versions: dict[str, int]
    saved_at: str = ""

    @property
    def all_saved(self) -> bool:
        return not self.errors and not self.conflicts


async def _save_items(request: Request, view: ReturnView, items: list[Item], form) -> SaveOutcome:  # type: ignore[no-untyped-def]
    ctx: AuditContext = audit_context(request)
    parsed = {item.id: parse_item(view.definition, item, form) for item in items}
    outcome = SaveOutcome({k: p.errors for k, p in parsed.items() if p.errors}, {}, {})

    def work(db: Session) -> None:
        ret, campaign = db.get(Return, view.ret.id), db.get(Campaign, view.campaign.id)
        for item in items:
            result = parsed[item.id]
            if result.answer is None:
                continue
            raw = form.get(f"{field_prefix(item.id)}-version", "")
            based_on = parse_int(raw, high=MAX_VERSION)
            if based_on is None and result.answer.is_empty and item.id not in view.answers:
                continue  # nothing typed for a new item: nothing to save
            saved = save_answer(db, ctx, ret, campaign, item.id, result.answer, based_on)
            outcome.versions[item.id] = saved.answer.version if saved.answer else 0
            if saved.conflict and saved.answer is not None:
                outcome.conflicts[item.id] = _answer_fields(saved.answer)

    try:
        await run_db(request, work, write=True)
    except ReturnError as problem:
        raise HTTPException(409, str(problem)) from None
    outcome.saved_at = utcnow().strftime("%H:%M")
    return outcome


async def autosave_item(request: Request) -> Response:
    """htmx: save one item as it changes; answer with its status line (and its new version)."""
    view = await load_view(request)
    try:
        item = find_item(view.definition, request.path_params["item_id"], profile_of(view.org))
    except UnknownItem as problem:
        raise HTTPException(400, str(problem)) from None
    form = await request.form()
    outcome = await _save_items(request, view, [item], form)
    # 200 on purpose for validation errors and conflicts: htmx 2 swaps only 2xx responses.
    return render(
        request,
        "partials/save_status.html",
        {
            "item": item,
            "v": view,
            "outcome": outcome,
            "errors": outcome.errors.get(item.id, {}),
            "conflict": outcome.conflicts.get(item.id),
            "version": outcome.versions.get(item.id),
            "fid": field_prefix(item.id),
            "scale": view.definition.rating_scale,
        },
    )


# --- actions ------------------------------------------------------------------------------------


async def action_add(request: Request) -> Response:
    view = await load_view(request)
    item_id = request.path_params["item_id"]
    if view.definition.item(item_id) is None:
        raise HTTPException(400, f"{item_id} is not a question in this questionnaire")
    form = await request.form()
    what, owner = str(form.get("what", "")).strip(), str(form.get("owner", "")).strip()
    anchor = f"/returns/{view.ret.id}/sections/{item_id.rsplit('.', 1)[0]}#{field_prefix(item_id)}"
    try:
        target = date.fromisoformat(str(form.get("target_date", "")))
    except ValueError:
        target = None
    problems = [
        m
        for ok, m in (
            (what, "say what will be done"),
            (owner, "say who owns the action"),
            (target, "give a target date as year-month-day"),
        )
        if not ok
    ]
    if len(what) > 2000 or len(owner) > 200:
        problems.append("keep the action under 2,000 characters and the owner under 200")
    if problems:
        return await redirect_with_message(
            request, anchor, "The action was not added: " + "; ".join(problems) + "."
        )
    ctx = audit_context(request)

    def work(db: Session) -> None:
        add_action(
            db,
            ctx,
            db.get(Return, view.ret.id),
            db.get(Campaign, view.campaign.id),
            item_id,
            what,
            owner,
            target,
        )  # type: ignore[arg-type]

    try:
        await run_db(request, work, write=True)
    except ReturnError as problem:
        raise HTTPException(409, str(problem)) from None
    return await redirect_with_message(request, anchor, "Action added.")


async def action_delete(request: Request) -> Response:
    view = await load_view(request)
    action_id, ctx = request.path_params["action_id"], audit_context(request)

    def work(db: Session) -> str | None:
        action = db.get(Action, action_id)
        if action is None or action.return_id != view.ret.id:
            return None  # already removed (a double click, or a colleague): nothing to do
        remove_action(
            db, ctx, db.get(Return, view.ret.id), db.get(Campaign, view.campaign.id), action
        )
        return action.item_id

    try:
        item_id = await run_db(request, work, write=True)
    except ReturnError as problem:
        raise HTTPException(409, str(problem)) from None
    if item_id is None:
        return await redirect_with_message(
            request, f"/returns/{view.ret.id}", "That action had already been removed."
        )
    anchor = f"/returns/{view.ret.id}/sections/{item_id.rsplit('.', 1)[0]}#{field_prefix(item_id)}"
    return await redirect_with_message(request, anchor, "Action removed.")


# --- check, sign, submissions ---------------------------------------------------------------------


async def check_answers(request: Request) -> Response:
    view = await load_view(request)
    readiness = view.readiness()
    profile = profile_of(view.org)
    problems: dict[str, list[str]] = {}
    for p in readiness.problems:
        problems.setdefault(p.item_id, []).append(p.message)
    return render(
        request,
        "returns/check.html",
        {
            "title": "Check your answers",
            "v": view,
            "readiness": readiness,
            "problems": problems,
            "items": applicable_items(view.definition, profile),
            "answers": {k: as_data(a) for k, a in view.answers.items()},
            "actions": view.actions,
            "can_submit": _can(request, Permission.RETURN_SUBMIT, view) and view.editable,
        },
    )


async def submit_page(request: Request) -> Response:
    view = await load_view(request)
    readiness = view.readiness()
    errors: dict[str, str] = {}
    values = {"name": request.state.actor.full_name, "role": "", "confirm": ""}
    if not view.editable:
        return RedirectResponse(f"/returns/{view.ret.id}", status_code=303)
    if request.method == "POST":
        form = await request.form()
        values = {k: str(form.get(k, "")).strip() for k in ("name", "role", "confirm")}
        if not values["name"]:
            errors["name"] = "Enter your full name"
        if not values["role"]:
            errors["role"] = "Enter your role, for example Headteacher or Chair of governors"
        if values["confirm"] != "yes":
            errors["confirm"] = "Confirm the declaration to submit the return"
        if not readiness.ready:
            errors["ready"] = "The return is not ready to submit: check your answers first"
        if not errors:
            ctx, today = audit_context(request), clock.today()

            def work(db: Session) -> int:
                submission = submit_return(
                    db,
                    ctx,
                    db.get(Return, view.ret.id),
                    db.get(Campaign, view.campaign.id),
                    view.definition,
                    view.questionnaire_hash,
                    Declaration(values["name"][:200], values["role"][:200], today),
                )
                return submission.revision

            try:
                revision = await run_db(request, work, write=True)
            except ReturnError as problem:
                errors["ready"] = str(problem)
            else:
                due = follow_up_due(today, view.campaign.follow_up_months)
                return render(
                    request,
                    "returns/submitted.html",
                    {
                        "title": "Return submitted",
                        "v": view,
                        "revision": revision,
                        "due": due,
                    },
                )
    return render(
        request,
        "returns/submit.html",
        {
            "title": "Sign and submit",
            "v": view,
            "readiness": readiness,
            "errors": errors,
            "values": values,
        },
        status_code=400 if errors else 200,
    )


async def submission_view(request: Request) -> Response:
    view = await load_view(request)
    revision = request.path_params["revision"]
    submissions = await run_db(request, lambda db: submissions_of(db, view.ret.id))
    submission = next((s for s in submissions if s.revision == revision), None)
    if submission is None:
        raise HTTPException(404)
    if request.url.path.endswith(".json"):
        payload = {
            "return_id": view.ret.id,
            "revision": submission.revision,
            "submitted_at": submission.submitted_at.isoformat(),
            "declaration": {
                "name": submission.declaration_name,
                "role": submission.declaration_role,
                "date": submission.declaration_date.isoformat(),
            },
            "questionnaire": {
                "key": submission.questionnaire_key,
                "version": submission.questionnaire_version,
                "sha256": submission.questionnaire_hash,
            },
            **submission.content,
        }
        filename = f"return-{view.ret.id}-revision-{revision}.json"
        return JSONResponse(
            payload, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )
    return render(
        request,
        "returns/submission.html",
        {
            "title": f"Submitted return, revision {revision}",
            "v": view,
            "s": submission,
        },
    )


async def amend(request: Request) -> Response:
    view = await load_view(request)
    reason, ctx = str((await request.form()).get("reason", "")), audit_context(request)
    try:
        await run_db(
            request,
            lambda db: return_for_amendment(db, ctx, db.get(Return, view.ret.id), reason),
            write=True,
        )
    except ReturnError as problem:
        return await redirect_with_message(request, f"/returns/{view.ret.id}", str(problem))
    return await redirect_with_message(
        request, f"/returns/{view.ret.id}", "The return has been returned for amendment."
    )


async def accept(request: Request) -> Response:
    view = await load_view(request)
    ctx = audit_context(request)
    try:
        await run_db(
            request, lambda db: accept_return(db, ctx, db.get(Return, view.ret.id)), write=True
        )
    except ReturnError as problem:
        return await redirect_with_message(request, f"/returns/{view.ret.id}", str(problem))
    return await redirect_with_message(
        request, f"/returns/{view.ret.id}", "The return has been accepted."
    )


async def carry_forward_answers(request: Request) -> Response:
    view = await load_view(request)
    ctx = audit_context(request)
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)

    def work(db: Session) -> int:
        ret, campaign = db.get(Return, view.ret.id), db.get(Campaign, view.campaign.id)
        return carry_forward(db, ctx, ret, campaign, view.definition, catalogue)

    try:
        copied = await run_db(request, work, write=True)
    except ReturnError as problem:
        return await redirect_with_message(request, f"/returns/{view.ret.id}", str(problem))
    return await redirect_with_message(
        request,
        f"/returns/{view.ret.id}",
        f"{copied} answers were copied from your last return. Check each one: they are marked "
        "‘carried forward’ until you save them.",
    )


async def summary(request: Request) -> Response:
    """The organisation's own summary (page or PDF): the latest submission, or the draft so far."""
    view = await load_view(request)
    submissions = await run_db(request, lambda db: submissions_of(db, view.ret.id))
    latest = submissions[-1] if submissions and not view.editable else None
    readiness = view.readiness()
    due = follow_up_due(latest.declaration_date, view.campaign.follow_up_months) if latest else None
    signed = (
        (
            f"Signed by {latest.declaration_name}, {latest.declaration_role}, on "
            f"{latest.declaration_date:%d %B %Y}"
        )
        if latest
        else "Not yet submitted: ratings so far"
    )
    data = build_summary(
        definition=view.definition,
        score=readiness.score,
        answers={k: as_data(a) for k, a in view.answers.items()},
        actions=view.actions,
        organisation=view.org.name,
        partnership=request.app.state.settings.partnership_name,
        campaign=view.campaign.title,
        status=ReturnStatus(view.ret.status).label,
        follow_up_due=due,
        signed=signed,
    )
    if request.url.path.endswith(".pdf"):
        filename = f"safeguarding-summary-{view.ret.id}.pdf"
        return Response(
            summary_pdf(data),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return render(
        request, "returns/summary.html", {"title": "Summary for your board", "v": view, "s": data}
    )


def keep_answers(request: Request, form: FormData) -> KeptTyping:
    """After a refused form: the answers typed, as text, and the section page to go back to."""
    params = request.path_params
    section = params.get("section_id") or str(params.get("item_id", "")).rsplit(".", 1)[0]
    back = f"/returns/{params['return_id']}" + (f"/sections/{section}" if section else "")
    return KeptTyping(typed_answers(form), back)


def on_return(
    path: str,
    endpoint: Endpoint,
    permission: Permission,
    methods: tuple[str, ...] = ("GET",),
    name: str | None = None,
    keep_typing: TypingKeeper | None = None,
) -> GuardedRoute:
    """A route below /returns/{return_id}: its permission is scoped to the return's organisation."""
    return page(
        "/returns/{return_id:id}" + path,
        endpoint,
        permission=permission,
        scope=return_organisation,
        methods=methods,
        name=name,
        keep_typing=keep_typing,
    )


routes = [
    on_return("", return_overview, Permission.RETURN_VIEW),
    on_return(
        "/sections/{section_id}",
        section_page,
        Permission.RETURN_EDIT,
        ("GET", "POST"),
        keep_typing=keep_answers,
    ),
    on_return(
        "/items/{item_id}",
        autosave_item,
        Permission.RETURN_EDIT,
        ("POST",),
        keep_typing=keep_answers,
    ),
    on_return("/items/{item_id}/actions", action_add, Permission.RETURN_EDIT, ("POST",)),
    on_return("/actions/{action_id:id}/delete", action_delete, Permission.RETURN_EDIT, ("POST",)),
    on_return("/carry-forward", carry_forward_answers, Permission.RETURN_EDIT, ("POST",)),
    on_return("/check", check_answers, Permission.RETURN_VIEW),
    on_return("/summary", summary, Permission.RETURN_VIEW),
    on_return("/summary.pdf", summary, Permission.RETURN_VIEW, name="summary_pdf"),
    on_return("/submit", submit_page, Permission.RETURN_SUBMIT, ("GET", "POST")),
    on_return("/submissions/{revision:id}", submission_view, Permission.RETURN_VIEW),
    on_return(
        "/submissions/{revision:id}.json",
        submission_view,
        Permission.RETURN_VIEW,
        name="submission_json",
    ),
    on_return("/amend", amend, Permission.RETURN_REVIEW, ("POST",)),
    on_return("/accept", accept, Permission.RETURN_REVIEW, ("POST",)),
]
