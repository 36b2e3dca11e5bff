"""Completing a return: sections, autosave, actions, checking, signing and frozen submissions.

Every form works as a plain POST (Save and continue); htmx only saves each item as it changes.
Both paths go through ``returns.editing.save_answers``, so validation, conflicts and audit are
the same. Endpoints parse, call one domain function, render.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from audit_portal import clock
from audit_portal.challenges.issuing import challenge_for_return
from audit_portal.challenges.review import outcome_lines, reviewed_outcomes
from audit_portal.feedback.records import letter_of
from audit_portal.followups import follow_up_due
from audit_portal.followups.records import follow_up_for, follow_up_in_words, state_of
from audit_portal.followups.rules import needs_follow_up
from audit_portal.models import Action, Answer, AuditEvent, FollowUp, ReturnStatus, Submission
from audit_portal.models.dipsamples import ChallengeStage
from audit_portal.parsing import MAX_VERSION, parse_id, parse_int
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import Catalogue, current_catalogue
from audit_portal.questionnaires.blank_pdf import blank_pdf
from audit_portal.questionnaires.locks import VersionRefused
from audit_portal.questionnaires.model import Item, RatingScale, Section
from audit_portal.reports.organisation_summary import build_summary, summary_pdf
from audit_portal.returns.answers import (
    UnknownItem,
    field_prefix,
    parse_action,
    parse_item,
    typed_answers,
)
from audit_portal.returns.carry import Previous, carry_forward, previous_submission
from audit_portal.returns.context import (
    RETURN_OWNER,
    Autosaved,
    ReturnContext,
    ReturnNotFound,
    SectionStatus,
    autosave,
    load_return,
    return_scope,
)
from audit_portal.returns.editing import (
    ActionChange,
    ReturnError,
    SaveOutcome,
    as_data,
    close_reason_problem,
    save_section,
)
from audit_portal.returns.readiness import Readiness
from audit_portal.returns.reading import (
    ActionLine,
    StandardBlock,
    read_return,
    submitted_actions,
)
from audit_portal.returns.submitting import (
    Declaration,
    accept_return,
    amendment_history,
    amendment_problem,
    ask_to_sign,
    declaration_problems,
    return_for_amendment,
    submission_document,
    submissions_of,
    submit_return,
)
from audit_portal.scoring import explain_overall
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.guard import (
    Endpoint,
    GuardedRoute,
    KeptTyping,
    ScopeResolver,
    TypingKeeper,
    audit_context,
    page,
)
from audit_portal.wording import long_date


def _catalogue(request: Request) -> Catalogue:
    return current_catalogue(request.app.state.settings.questionnaires_dir)


async def load_context(
    request: Request, *, with_answers: bool = True, section_id: str | None = None
) -> ReturnContext:
    """The return the URL names (its organisation was checked by the guard), or 404 / 409;
    with ``section_id``, only that standard's answers and actions."""
    return_id, catalogue = request.path_params["return_id"], _catalogue(request)
    try:
        return await run_db(
            request,
            lambda db: load_return(
                db, catalogue, return_id, with_answers=with_answers, section_id=section_id
            ),
        )
    except ReturnNotFound:
        raise HTTPException(404) from None
    except VersionRefused as problem:
        raise HTTPException(409, str(problem)) from None


def answer_fields(answer: Answer | None) -> dict:
    """What the item template shows: stored values (or nothing for a new answer)."""
    if answer is None:
        return {}
    data = as_data(answer)
    fields = {
        "value": "na" if data.not_applicable else data.value,
        "narrative": data.narrative,
        "evidence": data.evidence,
        "na_reason": data.na_reason,
        "version": answer.version,
        "carried": answer.carried_forward,
        "carry_note": answer.carry_note,
    }
    if isinstance(data.value, str) and len(data.value) == 10 and data.value[4] == "-":
        year, month, day = data.value.split("-")
        fields.update(year=year, month=str(int(month)), day=str(int(day)))
    return fields


def typed_fields(item: Item, form: FormData) -> dict:
    """What the person typed, to show again after an error or conflict: nothing is lost."""
    prefix = field_prefix(item.id)

    def get(name: str) -> str:
        value = form.get(f"{prefix}-{name}", "")
        return value if isinstance(value, str) else ""

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


def based_on(form: FormData, item_id: str) -> int | None:
    return parse_int(form.get(f"{field_prefix(item_id)}-version"), high=MAX_VERSION)


# --- overview and sections --------------------------------------------------------------------


async def return_overview(request: Request) -> Response:
    return await _overview(request, await load_context(request))


async def _overview(
    request: Request, the_return: ReturnContext, amend_error: str = "", reason: str = ""
) -> Response:
    can_edit = the_return.editable and _can(request, Permission.RETURN_EDIT, the_return)
    ret, campaign = the_return.ret, the_return.campaign
    fresh = can_edit and not the_return.answers

    return_id = the_return.return_id

    def extras(db: Session) -> tuple[Previous | None, list[Submission], FollowUp | None]:
        previous = previous_submission(db, ret, campaign) if fresh else None
        return previous, submissions_of(db, return_id), follow_up_for(db, return_id)

    previous, submissions, follow_up = await run_db(request, extras)
    challenge, outcomes, letter = (
        await run_db(
            request,
            lambda db: (
                challenge_for_return(db, return_id),
                reviewed_outcomes(db, return_id),
                letter_of(db, return_id),
            ),
        )
        if submissions
        else (None, [], None)
    )
    today = clock.today()
    readiness = the_return.readiness()
    tasks = the_return.task_list(readiness, today)
    return render(
        request,
        "returns/overview.html",
        {
            "title": f"{the_return.organisation.name}: {campaign.title}",
            "the_return": the_return,
            "status": ReturnStatus(ret.status),
            "readiness": readiness,
            "overall_explained": explain_overall(the_return.definition, readiness.score),
            "tasks": tasks,
            "completed": sum(1 for t in tasks if t.status == SectionStatus.COMPLETED),
            "previous": previous,
            "can_edit": can_edit,
            "can_review": allows(request.state.actor, Permission.RETURN_REVIEW),
            "submissions": submissions,
            "amend_error": amend_error,
            "reason": reason,
            "follow_up": follow_up,
            "follow_up_state": state_of(follow_up, today) if follow_up else None,
            "challenge": challenge,
            "challenge_stage": ChallengeStage(challenge.stage) if challenge else None,
            "outcomes": outcome_lines(the_return.definition, outcomes),
            "letter": letter,
            "can_write_letter": allows(request.state.actor, Permission.FEEDBACK_LETTERS_MANAGE),
            "can_add_action": allows(request.state.actor, Permission.FOLLOW_UP_REVIEW)
            and not the_return.editable
            and bool(submissions),
        },
        status_code=400 if amend_error else 200,
    )


async def blank_questionnaire(request: Request) -> Response:
    """The return's questionnaire as a blank PDF, to prepare answers offline."""
    the_return = await load_context(request, with_answers=False)
    definition, partnership = the_return.definition, request.app.state.settings.partnership_name
    pdf = await run_in_threadpool(blank_pdf, definition, partnership)
    filename = f"{definition.key}-{definition.version}-blank.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _can(request: Request, permission: Permission, the_return: ReturnContext) -> bool:
    return allows(request.state.actor, permission, the_return.organisation.id)


def _section(the_return: ReturnContext, section_id: str) -> tuple[int, Section]:
    sections = the_return.definition.sections
    index = next((n for n, s in enumerate(sections) if s.id == section_id), None)
    if index is None:
        raise HTTPException(404)
    return index, sections[index]


def _next_section(the_return: ReturnContext, index: int) -> Section | None:
    return next(
        (s for s in the_return.definition.sections[index + 1 :] if the_return.items_of(s)), None
    )


def _labels_for(saved: Autosaved) -> Callable[[dict], dict]:
    return lambda fields: _with_label(saved.scale, fields)


def _scale_label(the_return: ReturnContext, fields: dict) -> dict:
    return _with_label(the_return.definition.rating_scale, fields)


def _with_label(scale: RatingScale, fields: dict) -> dict:
    """A conflicting answer's fields, with the rating as people read it."""
    value = fields.get("value")
    if value == "na" and scale.not_applicable:
        label = scale.not_applicable.label
    elif isinstance(value, int) and (point := scale.point(value)) is not None:
        label = point.label
    else:
        label = str(value) if value not in (None, "", []) else ""
    return {**fields, "label": label}


async def _save(
    request: Request,
    the_return: ReturnContext,
    items: list[Item],
    form: FormData,
    change: ActionChange | None,
) -> SaveOutcome:
    ctx = audit_context(request)
    parsed = {item.id: parse_item(the_return.definition, item, form) for item in items}
    versions = {item.id: based_on(form, item.id) for item in items}
    return_id = the_return.return_id
    try:
        return await run_db(
            request,
            lambda db: save_section(db, ctx, return_id, parsed, versions, change),
            write=True,
        )
    except ReturnError as problem:
        raise HTTPException(409, str(problem)) from None


def _action_change(
    form: FormData, items: list[Item], actions: list[Action]
) -> tuple[ActionChange | None, dict[str, dict[str, str]], dict[str, dict]]:
    """The action the person asked to add, remove or close with this save, or what is wrong
    with it."""
    wanted = {item.id for item in items}
    adding, removing = form.get("add_action"), parse_id(form.get("remove_action"))
    closing = parse_id(form.get("close_action"))
    if closing is not None:
        reason = str(form.get(f"action-{closing}-close-reason", "")).strip()
        item_id = next((a.item_id for a in actions if a.id == closing), "")
        problem = close_reason_problem(reason)
        if problem and item_id in wanted:
            return None, {item_id: {"close": problem}}, {item_id: {"close_reason": reason}}
        return ActionChange(item_id, close_id=closing, reason=reason), {}, {}
    if isinstance(adding, str) and adding in wanted:
        draft, problems = parse_action(form, adding, clock.today())
        if problems:
            return None, {adding: problems}, {adding: dict(draft.typed)}
        return ActionChange(adding, draft=draft), {}, {}
    if removing is not None:
        return ActionChange("", remove_id=removing), {}, {}
    return None, {}, {}


NOT_SAVED_FROZEN = (
    "Your changes were not saved: this return has been submitted or its campaign has closed, "
    "so it can no longer be changed."
)


async def section_page(request: Request) -> Response:
    section_id = request.path_params["section_id"]
    the_return = await load_context(request, section_id=section_id)
    index, section = _section(the_return, section_id)
    if not the_return.editable:
        overview = f"/returns/{the_return.return_id}"
        if request.method == "POST":  # a tab left open since before it was submitted
            return await redirect_with_message(request, overview, NOT_SAVED_FROZEN, "important")
        return RedirectResponse(overview, status_code=303)
    items = the_return.items_of(section)
    back_to_check = request.query_params.get("return_to") == "check"
    outcome, typed = SaveOutcome(), {}
    action_errors: dict[str, dict[str, str]] = {}
    action_typed: dict[str, dict] = {}
    just_saved = False
    if request.method == "POST":
        form = await request.form()
        change, action_errors, action_typed = _action_change(form, items, the_return.actions)
        outcome = await _save(request, the_return, items, form, change)
        if outcome.all_saved and not action_errors:
            if change is not None:
                message = (
                    "Action added."
                    if change.draft
                    else ("Action closed." if change.close_id else "Action removed.")
                )
                anchor = f"#{field_prefix(change.item_id)}-actions" if change.item_id else ""
                return await redirect_with_message(request, str(request.url) + anchor, message)
            the_return = await load_context(request, section_id=section_id)  # just saved, fresh
            if not any(the_return.needs(item) for item in items):
                return RedirectResponse(_after_section(the_return, index, back_to_check), 303)
            just_saved = True
        else:
            typed = {
                item.id: typed_fields(item, form)
                | {"version": outcome.version(item.id) or _version(the_return, item.id)}
                for item in items
                if item.id in outcome.errors or item.id in outcome.conflicts
            }
    return render(
        request,
        "returns/section.html",
        _section_context(
            the_return,
            index,
            section,
            items,
            outcome,
            typed,
            action_errors,
            action_typed,
            just_saved,
            back_to_check,
            request,
        ),
        status_code=400 if outcome.errors or outcome.conflicts or action_errors else 200,
    )


def _version(the_return: ReturnContext, item_id: str) -> int | None:
    answer = the_return.answers.get(item_id)
    return answer.version if answer is not None else None


def _after_section(the_return: ReturnContext, index: int, back_to_check: bool) -> str:
    following = _next_section(the_return, index)
    if back_to_check or following is None:
        return f"/returns/{the_return.return_id}/check"
    return f"/returns/{the_return.return_id}/sections/{following.id}"


def _section_context(
    the_return: ReturnContext,
    index: int,
    section: Section,
    items: list[Item],
    outcome: SaveOutcome,
    typed: dict,
    action_errors: dict,
    action_typed: dict,
    just_saved: bool,
    back_to_check: bool,
    request: Request,
) -> dict:
    numbers = {item.id: f"{index + 1}.{n}" for n, item in enumerate(items, start=1)}
    fields = {i.id: typed.get(i.id) or answer_fields(the_return.answers.get(i.id)) for i in items}
    needs = {item.id: the_return.needs(item) for item in items}
    problems = [
        (item_id, field, message)
        for item_id, errs in outcome.errors.items()
        for field, message in errs.items()
    ]
    problems += [
        (item_id, "value", "A colleague saved a different answer: save again to keep yours")
        for item_id in outcome.conflicts
    ]
    problems += [
        (item_id, field, message)
        for item_id, errs in action_errors.items()
        for field, message in errs.items()
    ]
    outstanding = [(k, f, m) for k, found in needs.items() for f, m in found.items()]
    following = _next_section(the_return, index)
    focus = next((k for k, f, _ in outstanding if f == "actions"), None) if just_saved else None
    query = "?return_to=check" if back_to_check else ""
    return {
        "title": section.title,
        "the_return": the_return,
        "section": section,
        "section_count": len(the_return.definition.sections),
        "items": items,
        "skipped": len(section.items) - len(items),
        "number": index + 1,
        "numbers": numbers,
        "fields": fields,
        "errors": outcome.errors,
        "conflicts": {
            k: _scale_label(the_return, answer_fields(a)) for k, a in outcome.conflicts.items()
        },
        "problems": problems,
        "needs": needs,
        "outstanding": outstanding,
        "just_saved": just_saved,
        "focus_item": focus,
        "actions": the_return.actions_by_item(),
        "action_errors": action_errors,
        "action_typed": action_typed,
        "less_effective": {
            p.value for p in the_return.definition.rating_scale.points if p.less_effective
        },
        "form_action": str(request.url.path) + query,
        "next_url": _after_section(the_return, index, back_to_check),
        "next_label": "checking your answers"
        if back_to_check or following is None
        else f"the next standard, {following.title}",
    }


async def autosave_item(request: Request) -> Response:
    """htmx: save one item as it changes; answer with its status line (and its new version)."""
    return_id, item_id = request.path_params["return_id"], request.path_params["item_id"]
    catalogue, ctx, form = _catalogue(request), audit_context(request), await request.form()
    try:
        saved = await run_db(
            request,
            lambda db: autosave(db, catalogue, ctx, return_id, item_id, form),
            write=True,
        )
    except UnknownItem as problem:
        raise HTTPException(400, str(problem)) from None
    except ReturnError as problem:
        raise HTTPException(409, str(problem)) from None
    except VersionRefused as problem:
        raise HTTPException(409, str(problem)) from None
    item, outcome = saved.item, saved.outcome
    conflict = outcome.conflicts.get(item.id)
    scale_of = _labels_for(saved)
    # 200 on purpose for validation errors and conflicts: htmx 2 swaps only 2xx responses.
    return render(
        request,
        "returns/section.html",
        {
            "fid": field_prefix(item.id),
            "saved_at": clock.now() if item.id in outcome.saved else None,
            "errors": outcome.errors.get(item.id, {}),
            "conflict": scale_of(answer_fields(conflict)) if conflict is not None else None,
            "needs": saved.needs,
            "hint_fields": _hint_fields(item, saved.scale),
            "version": outcome.version(item.id),
        },
        block="autosave_status",
    )


def _hint_fields(item: Item, scale: RatingScale) -> tuple[str, ...]:
    """The fields of an item's page that carry a "Still needed" hint (see _item.html): the
    autosave refreshes each of them, emptying the ones whose need was met."""
    if item.kind != "rating":
        return ()
    reason = scale.not_applicable is not None and scale.not_applicable.reason_required
    return ("narrative", "actions") + (("na-reason",) if reason else ())


# --- check, sign, submissions ---------------------------------------------------------------------


def live_blocks(the_return: ReturnContext, readiness: Readiness) -> list[StandardBlock]:
    """The return's current answers as people read them, by standard."""
    return read_return(
        the_return.definition,
        the_return.profile,
        {k: as_data(a).__dict__ for k, a in the_return.answers.items()},
        [(a.item_id, ActionLine(a.what, a.owner, a.target_date)) for a in the_return.actions],
        readiness.score.items,
        readiness.score.sections,
    )


async def check_answers(request: Request) -> Response:
    the_return = await load_context(request)
    readiness = the_return.readiness()
    problems: dict[str, list[str]] = {}
    for p in readiness.problems:
        problems.setdefault(p.item_id, []).append(p.message)
    blocks = live_blocks(the_return, readiness)
    rid = the_return.return_id

    def change_url(section_id: str, item_id: str) -> str:
        return f"/returns/{rid}/sections/{section_id}?return_to=check#{field_prefix(item_id)}-item"

    return render(
        request,
        "returns/check.html",
        {
            "title": "Check your answers",
            "the_return": the_return,
            "readiness": readiness,
            "overall_explained": explain_overall(the_return.definition, readiness.score),
            "blocks": blocks,
            "numbers": {line.item.id: line.number for b in blocks for line in b.lines},
            "problems": problems,
            "change_url": change_url,
            "can_change": the_return.editable and _can(request, Permission.RETURN_EDIT, the_return),
            "can_submit": _can(request, Permission.RETURN_SUBMIT, the_return)
            and the_return.editable,
        },
    )


async def tell_signatory(request: Request) -> Response:
    the_return = await load_context(request, with_answers=False)
    settings, ctx, by = request.app.state.settings, audit_context(request), request.state.actor
    return_id, definition = the_return.return_id, the_return.definition
    try:
        told = await run_db(
            request,
            lambda db: ask_to_sign(db, settings, ctx, return_id, definition, by.full_name),
            write=True,
        )
    except ReturnError as problem:
        return await redirect_with_message(
            request, f"/returns/{return_id}/check", str(problem), "important"
        )
    message = (
        f"Your signatory has been told the return is ready to sign ({told} emailed)."
        if told
        else "Nobody at your organisation has the signatory role yet: ask the partnership "
        "business office to add your head teacher, chair of governors or chief officer."
    )
    return await redirect_with_message(
        request, f"/returns/{return_id}/check", message, "success" if told else "important"
    )


async def submit_page(request: Request) -> Response:
    the_return = await load_context(request)
    if not the_return.editable:
        return RedirectResponse(f"/returns/{the_return.return_id}", status_code=303)
    readiness = the_return.readiness()
    errors: dict[str, str] = {}
    values = {"name": request.state.actor.full_name, "role": "", "confirm": ""}
    if request.method == "POST":
        form = await request.form()
        values = {k: str(form.get(k, "")).strip() for k in ("name", "role", "confirm")}
        errors = declaration_problems(values["name"], values["role"], values["confirm"] == "yes")
        if not readiness.ready:
            errors["ready"] = "The return is not ready to submit: check your answers first"
        if not errors:
            ctx, today = audit_context(request), clock.today()
            settings = request.app.state.settings
            declaration = Declaration(values["name"], values["role"], today)
            return_id, definition = the_return.return_id, the_return.definition
            digest = the_return.questionnaire_hash
            try:
                submission = await run_db(
                    request,
                    lambda db: submit_return(
                        db, settings, ctx, return_id, definition, digest, declaration
                    ),
                    write=True,
                )
            except ReturnError as problem:
                errors["ready"] = str(problem)
            else:
                score = readiness.score
                needs_update = needs_follow_up(score.less_effective, len(the_return.actions))
                return render(
                    request,
                    "returns/submitted.html",
                    {
                        "title": "Return submitted",
                        "the_return": the_return,
                        "revision": submission.revision,
                        "due": follow_up_due(today, the_return.campaign.follow_up_months)
                        if needs_update
                        else None,
                        "overall": score.overall,
                    },
                )
    return render(
        request,
        "returns/submit.html",
        {
            "title": "Sign and submit",
            "the_return": the_return,
            "readiness": readiness,
            "errors": errors,
            "values": values,
        },
        status_code=400 if errors else 200,
    )


async def submission_view(request: Request) -> Response:
    the_return = await load_context(request, with_answers=False)
    revision, return_id = request.path_params["revision"], the_return.return_id

    def load(db: Session) -> tuple[list[Submission], list[AuditEvent]]:
        return submissions_of(db, return_id), amendment_history(db, return_id)

    submissions, history = await run_db(request, load)
    submission = next((s for s in submissions if s.revision == revision), None)
    if submission is None:
        raise HTTPException(404)
    if request.url.path.endswith(".json"):
        filename = f"return-{return_id}-revision-{revision}.json"
        return JSONResponse(
            submission_document(return_id, submission),
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    earlier = [s for s in submissions if s.revision < revision]
    previous = earlier[-1].content.get("answers", {}) if earlier else None
    content, score = submission.content, submission.content.get("score", {})
    blocks = read_return(
        the_return.definition,
        the_return.profile,
        content.get("answers", {}),
        submitted_actions(content),
        score.get("items", {}),
        score.get("sections", {}),
        previous,
        submitted_actions(earlier[-1].content) if earlier else (),
    )
    return render(
        request,
        "returns/submission.html",
        {
            "title": f"Submitted return, revision {revision}",
            "the_return": the_return,
            "submission": submission,
            "blocks": blocks,
            "previous_revision": earlier[-1].revision if earlier else None,
            "history": history,
            "submissions": submissions,
        },
    )


async def amend(request: Request) -> Response:
    return_id, ctx = request.path_params["return_id"], audit_context(request)
    reason = str((await request.form()).get("reason", ""))
    problem = amendment_problem(reason)
    if problem is None:
        try:
            settings = request.app.state.settings
            await run_db(
                request,
                lambda db: return_for_amendment(db, settings, ctx, return_id, reason),
                write=True,
            )
        except ReturnError as refused:
            problem = str(refused)
    if problem:
        return await _overview(request, await load_context(request), problem, reason[:2000])
    return await redirect_with_message(
        request, f"/returns/{return_id}", "The return has been returned for amendment."
    )


async def accept(request: Request) -> Response:
    return_id, ctx = request.path_params["return_id"], audit_context(request)
    try:
        settings = request.app.state.settings
        await run_db(request, lambda db: accept_return(db, settings, ctx, return_id), write=True)
    except ReturnError as problem:
        return await redirect_with_message(
            request, f"/returns/{return_id}", str(problem), "important"
        )
    return await redirect_with_message(
        request, f"/returns/{return_id}", "The return has been accepted."
    )


async def carry_forward_answers(request: Request) -> Response:
    the_return = await load_context(request, with_answers=False)
    ctx, catalogue = audit_context(request), _catalogue(request)
    return_id, definition = the_return.return_id, the_return.definition
    try:
        copied = await run_db(
            request,
            lambda db: carry_forward(db, ctx, return_id, definition, catalogue),
            write=True,
        )
    except ReturnError as problem:
        return await redirect_with_message(
            request, f"/returns/{return_id}", str(problem), "important"
        )
    return await redirect_with_message(
        request,
        f"/returns/{return_id}",
        f"{copied} answers were copied from your last return. Check each one: they are marked "
        "‘carried forward’ until you save them.",
    )


async def summary(request: Request) -> Response:
    """The organisation's own summary (page or PDF): the latest submission, or the draft so far."""
    the_return = await load_context(request)
    return_id = the_return.return_id
    submissions, follow_up, outcomes = await run_db(
        request,
        lambda db: (
            submissions_of(db, return_id),
            follow_up_for(db, return_id),
            reviewed_outcomes(db, return_id),
        ),
    )
    latest = submissions[-1] if submissions and not the_return.editable else None
    readiness = the_return.readiness()
    due = follow_up.due_on if follow_up and latest else None
    signed = (
        (
            f"Signed by {latest.declaration_name}, {latest.declaration_role}, on "
            f"{long_date(latest.declaration_date)}"
        )
        if latest
        else "Not yet submitted: ratings so far"
    )
    data = build_summary(
        definition=the_return.definition,
        score=readiness.score,
        answers={k: as_data(a) for k, a in the_return.answers.items()},
        actions=the_return.actions,
        organisation=the_return.organisation.name,
        partnership=request.app.state.settings.partnership_name,
        campaign=the_return.campaign.title,
        status=ReturnStatus(the_return.ret.status).label,
        follow_up_due=due,
        signed=signed,
        follow_up=follow_up_in_words(follow_up, clock.today()) if follow_up else "",
        outcomes=outcome_lines(the_return.definition, outcomes),
    )
    if request.url.path.endswith(".pdf"):
        filename = f"safeguarding-summary-{return_id}.pdf"
        return Response(
            summary_pdf(data),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return render(
        request,
        "returns/summary.html",
        {"title": "Summary for your board", "the_return": the_return, "summary": data},
    )


# --- routes -------------------------------------------------------------------------------------


def keep_answers(request: Request, form: FormData) -> KeptTyping:
    """After a refused form: the answers typed, as text, and the section page to go back to."""
    params = request.path_params
    section = params.get("section_id") or str(params.get("item_id", "")).rsplit(".", 1)[0]
    back = f"/returns/{params['return_id']}" + (f"/sections/{section}" if section else "")
    return KeptTyping(typed_answers(form), back)


def return_organisation(db: Session, params: dict) -> int | None:
    """Scope resolver: the organisation a return belongs to (None: no such return)."""
    return return_scope(db, params["return_id"])


def on_return(
    path: str,
    endpoint: Endpoint,
    permission: Permission,
    methods: tuple[str, ...] = ("GET",),
    name: str | None = None,
    keep_typing: TypingKeeper | None = None,
    scope: ScopeResolver = return_organisation,
) -> GuardedRoute:
    """A route below /returns/{return_id}: its permission is scoped to the return's organisation."""
    return page(
        "/returns/{return_id:id}" + path,
        endpoint,
        permission=permission,
        scope=scope,
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
        scope=RETURN_OWNER,
    ),
    on_return("/carry-forward", carry_forward_answers, Permission.RETURN_EDIT, ("POST",)),
    on_return("/check", check_answers, Permission.RETURN_VIEW),
    on_return("/questionnaire.pdf", blank_questionnaire, Permission.RETURN_VIEW),
    on_return("/ready", tell_signatory, Permission.RETURN_EDIT, ("POST",)),
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
