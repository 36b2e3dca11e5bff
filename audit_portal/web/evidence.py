"""Evidence challenges over HTTP: QA issues a challenge; the organisation explains, uploads
files and submits; files are downloaded only by those allowed to. Endpoints parse, call one
domain function (``audit_portal.challenges``), render.

Uploads never go through ``request.form()``: the guard hands a multipart body to
``read_upload``, which streams it to a temporary directory within the evidence limits, and
checks the CSRF token before the endpoint (and so storage) sees anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from audit_portal import clock
from audit_portal.audit import security_event
from audit_portal.challenges.files import (
    Download,
    PieceLine,
    evidence_storage,
    find_download,
    incoming_directory,
    max_file_bytes,
    max_request_bytes,
    may_download,
    piece_scope,
    pieces_by_item,
    record_download,
    storage_key,
)
from audit_portal.challenges.issuing import (
    ChallengeError,
    ChallengeNotFound,
    ChallengeRecord,
    candidates,
    challenge_scope,
    challenged_items,
    extend_due_date,
    issue_challenge,
    load_challenge,
    offered_items,
    rating_label,
)
from audit_portal.challenges.responding import (
    MAX_EXPLANATION,
    Inspected,
    add_files,
    change_refused,
    delete_stored,
    inspect_upload,
    remove_piece,
    save_explanations,
    submit_evidence,
    unanswered,
)
from audit_portal.challenges.review import (
    ChallengeOutcomes,
    challenge_outcomes,
    outcome_line,
    review_refused,
)
from audit_portal.evidence import (
    FileRefused,
    ParsedUpload,
    UploadedPart,
    UploadError,
    parse_upload,
)
from audit_portal.evidence.filenames import content_disposition, download_name, safe_display_name
from audit_portal.evidence.sizes import describe_size
from audit_portal.models import ChallengedItem, saved_id
from audit_portal.models.dipsamples import ChallengeStage
from audit_portal.parsing import MAX_VERSION, DateProblem, parse_date_parts, parse_int
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import current_catalogue
from audit_portal.questionnaires.model import Definition, Item
from audit_portal.returns.answers import field_prefix
from audit_portal.sampling import SampleError
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.guard import audit_context, page

# The upload route's path, for the body-size middleware (its limit is the evidence setting).
UPLOAD_PATH = re.compile(r"/challenges/[0-9]+/items/[^/]+/files")
READ_CHUNK = 256 * 1024


def _definition(request: Request, record: ChallengeRecord) -> Definition:
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    found = catalogue.get(
        record.submission.questionnaire_key, record.submission.questionnaire_version
    )
    if found is None:
        raise HTTPException(404)
    return found


# ---------------------------------------------------------------------------------------------
# Setting up and issuing (QA)


def _date_parts(form: Any, name: str) -> dict[str, str]:
    return {p: str(form.get(f"{name}-{p}", "")).strip()[:10] for p in ("day", "month", "year")}


def _parse_due(parts: dict[str, str]) -> tuple[date | None, str | None]:
    try:
        due = parse_date_parts(parts["day"], parts["month"], parts["year"], what="The due date")
    except DateProblem as problem:
        return None, str(problem)
    return due, None


async def challenge_setup(request: Request) -> Response:
    challenge_id, today = request.path_params["challenge_id"], clock.today()
    record = await run_db(request, lambda db: load_challenge(db, challenge_id))
    definition = _definition(request, record)
    found = candidates(definition, record.submission)
    standards = [s for s in definition.sections if any(c.section.id == s.id for c in found)]
    q = request.query_params
    mode = "random" if q.get("mode") == "random" else "green_in_standards"
    chosen_standards = [s for s in q.getlist("standards") if isinstance(s, str)] or [
        s.id for s in standards
    ]
    count = parse_int(q.get("count"), high=1000) or 0
    offer_error = ""
    try:
        if mode == "random":
            selected = offered_items(record, found, mode="random", count=count or 5)
        else:
            selected = offered_items(
                record, found, mode="green_in_standards", standards=chosen_standards
            )
    except SampleError as offered_wrongly:
        selected, offer_error = [], str(offered_wrongly)
    errors: dict[str, str] = {}
    due_parts = {"day": "", "month": "", "year": ""}
    if request.method == "POST":
        form = await request.form()
        selected = [str(v) for v in form.getlist("items")][:500]
        due_parts = _date_parts(form, "due")
        due, problem = _parse_due(due_parts)
        if problem:
            errors["due"] = problem
        if not selected:
            errors["items"] = "Choose at least one item to challenge"
        if not errors and due is not None:
            settings, ctx = request.app.state.settings, audit_context(request)
            chosen = set(selected)
            try:
                await run_db(
                    request,
                    lambda db: issue_challenge(
                        db, settings, ctx, challenge_id, definition, chosen, due, today
                    ),
                    write=True,
                )
            except ChallengeError as refused:
                field = "due" if "date" in str(refused) else "items"
                errors[field] = str(refused)
            else:
                return await redirect_with_message(
                    request,
                    f"/challenges/{challenge_id}",
                    f"The challenge has been issued. {record.organisation.name} has been "
                    "emailed with the items and the due date.",
                )
    return render(
        request,
        "evidence/setup.html",
        {
            "title": f"Choose the evidence to ask {record.organisation.name} for",
            "record": record,
            "standards": standards,
            "by_standard": {s.id: [c for c in found if c.section.id == s.id] for s in standards},
            "selected": set(selected),
            "mode": mode,
            "chosen_standards": set(chosen_standards),
            "count": count or 5,
            "offer_error": offer_error,
            "errors": errors,
            "due": due_parts,
            "issued": record.stage is not ChallengeStage.DRAFT,
        },
        status_code=400 if errors else 200,
    )


async def challenge_due_date(request: Request) -> Response:
    challenge_id, today = request.path_params["challenge_id"], clock.today()
    form = await request.form()
    parts = _date_parts(form, "due")
    due, problem = _parse_due(parts)
    if due is not None and problem is None:
        settings, ctx = request.app.state.settings, audit_context(request)
        try:
            await run_db(
                request,
                lambda db: extend_due_date(db, settings, ctx, challenge_id, due, today),
                write=True,
            )
        except ChallengeError as refused:
            problem = str(refused)
        else:
            return await redirect_with_message(
                request,
                f"/challenges/{challenge_id}",
                "The due date has been changed and the organisation has been told.",
            )
    return await _challenge_page(
        request, status_code=400, due_error=problem or "Enter the new due date", due_parts=parts
    )


# ---------------------------------------------------------------------------------------------
# The challenge page (the organisation responds; QA reads)


@dataclass(frozen=True)
class ItemLine:
    challenged: ChallengedItem
    item: Item | None
    fid: str
    rating: str
    pieces: list[PieceLine]

    @property
    def question(self) -> str:
        return self.item.prompt if self.item is not None else self.challenged.item_id


def _lines(
    definition: Definition, items: list[ChallengedItem], pieces: dict[int, list[PieceLine]]
) -> list[ItemLine]:
    return [
        ItemLine(
            c,
            definition.item(c.item_id),
            field_prefix(c.item_id),
            rating_label(definition, c.self_rating),
            pieces.get(saved_id(c), []),
        )
        for c in items
    ]


async def _challenge_page(
    request: Request,
    *,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    item_errors: dict[str, str] | None = None,
    upload_errors: dict[str, str] | None = None,
    upload_dates: dict[str, dict[str, str]] | None = None,
    problems: list[tuple[str, str]] | None = None,
    refused: str = "",
    due_error: str = "",
    due_parts: dict[str, str] | None = None,
) -> Response:
    challenge_id, today = request.path_params["challenge_id"], clock.today()
    settings, actor = request.app.state.settings, request.state.actor
    years = settings.evidence_stale_years

    def load(
        db: Session,
    ) -> tuple[ChallengeRecord, list[ChallengedItem], dict, ChallengeOutcomes]:
        record = load_challenge(db, challenge_id)
        return (
            record,
            challenged_items(db, challenge_id),
            pieces_by_item(db, challenge_id, today, years),
            challenge_outcomes(db, challenge_id),
        )

    record, items, pieces, found = await run_db(request, load)
    org_id = saved_id(record.organisation)
    manage = allows(actor, Permission.CHALLENGES_MANAGE)
    if record.stage is ChallengeStage.DRAFT:
        if manage:
            return RedirectResponse(f"/challenges/{challenge_id}/setup", status_code=303)
        raise HTTPException(404)
    definition = _definition(request, record)
    lines = _lines(definition, items, pieces)
    member = allows(actor, Permission.CHALLENGE_RESPOND, org_id)
    blocked = change_refused(record.challenge, today)
    # The organisation reads the outcomes once every item has one; QA reads them as they come.
    show_outcomes = manage or record.stage is ChallengeStage.REVIEWED
    outcomes = {}
    for c in items:
        outcome = found.outcomes.get(saved_id(c)) if show_outcomes else None
        if outcome is not None:
            action = found.actions.get(outcome.action_id or 0)
            outcomes[saved_id(c)] = outcome_line(definition, c, outcome, action)
    return render(
        request,
        "evidence/challenge.html",
        {
            "title": f"Evidence for {record.campaign.title}",
            "record": record,
            "lines": lines,
            "can_respond": member and blocked is None,
            "blocked": blocked if member else None,
            "can_manage": manage,
            "can_review": manage and review_refused(record.challenge) is None,
            "outcomes": outcomes,
            "can_download": may_download(actor, org_id, settings),
            "typed": typed or {},
            "item_errors": item_errors or {},
            "upload_errors": upload_errors or {},
            "upload_dates": upload_dates or {},
            "problems": problems or [],
            "refused": refused,
            "due_error": due_error,
            "due_parts": due_parts or {"day": "", "month": "", "year": ""},
            "max_file": describe_size(max_file_bytes(settings)),
            "max_explanation": MAX_EXPLANATION,
            "stale_years": years,
        },
        status_code=status_code,
    )


async def challenge_page(request: Request) -> Response:
    return await _challenge_page(request)


async def _item_ids(request: Request) -> list[ChallengedItem]:
    challenge_id = request.path_params["challenge_id"]
    return await run_db(request, lambda db: challenged_items(db, challenge_id))


def _typed(form: FormData, items: list[ChallengedItem]) -> tuple[dict, dict, dict]:
    explanations: dict[str, str] = {}
    versions: dict[str, int | None] = {}
    typed: dict[str, str] = {}
    for c in items:
        fid = field_prefix(c.item_id)
        raw = form.get(f"{fid}-explanation")
        if not isinstance(raw, str):
            continue
        explanations[c.item_id] = raw
        typed[c.item_id] = raw
        versions[c.item_id] = parse_int(form.get(f"{fid}-version"), high=MAX_VERSION)
    return explanations, versions, typed


async def challenge_save(request: Request) -> Response:
    challenge_id = request.path_params["challenge_id"]
    form = await request.form()
    problem_page, saved = await _save_typed(request, await _item_ids(request), form)
    if problem_page is not None:
        return problem_page
    text = "Your explanations are saved." if saved else "Nothing had changed."
    return await redirect_with_message(request, f"/challenges/{challenge_id}", text)


async def _save_typed(
    request: Request, items: list[ChallengedItem], form: Any
) -> tuple[Response | None, bool]:
    """Save the explanations the page's form carries, whichever of its buttons was pressed
    (save, upload, remove or submit), so nothing typed is lost on the way. Returns the page
    to show instead when they cannot be saved (what was typed stays on it), and whether any
    explanation changed."""
    challenge_id, today = request.path_params["challenge_id"], clock.today()
    explanations, versions, typed = _typed(form, items)
    if not explanations:
        return None, False
    ctx = audit_context(request)
    try:
        outcome = await run_db(
            request,
            lambda db: save_explanations(db, ctx, challenge_id, explanations, versions, today),
            write=True,
        )
    except ChallengeError as refused:
        page = await _challenge_page(
            request,
            status_code=409,
            typed={k: v[:20_000] for k, v in typed.items()},
            refused=str(refused),
        )
        return page, False
    errors = dict(outcome.errors)
    for item_id in outcome.conflicts:
        errors[item_id] = (
            "A colleague saved a different explanation: yours is shown, save again to keep it"
        )
    if errors:
        # What was typed stays on the page; a conflict's version becomes the colleague's, so
        # saving again keeps this person's text.
        keep = {k: v[:20_000] for k, v in typed.items() if k in errors}
        problems = [(field_prefix(k) + "-explanation", m) for k, m in errors.items()]
        page = await _challenge_page(
            request, status_code=400, typed=keep, item_errors=errors, problems=problems
        )
        return page, False
    return None, bool(outcome.saved)


# ---------------------------------------------------------------------------------------------
# Files


# The challenge page is one form: an upload carries each item's explanation, version, empty
# file box and date boxes (six fields an item), so a long challenge needs more than the default.
PAGE_FIELDS = 1000


async def read_upload(request: Request) -> ParsedUpload | Response:
    """Stream the body to the incoming directory within the evidence limits, or refuse it."""
    settings = request.app.state.settings
    try:
        return await parse_upload(
            request,
            incoming_directory(settings),
            max_file_bytes=max_file_bytes(settings),
            max_request_bytes=max_request_bytes(settings),
            max_fields=PAGE_FIELDS,
        )
    except UploadError as error:
        back = f"/challenges/{request.path_params['challenge_id']}"
        return render(
            request,
            "evidence/upload_refused.html",
            {
                "title": "The file could not be uploaded",
                "message": error.message,
                "back": back,
            },
            status_code=error.status_code,
        )


def _inspect_all(files: list[UploadedPart]) -> list[Inspected]:
    return [inspect_upload(p.path, p.filename, p.display_name) for p in files]


async def upload_file(request: Request) -> Response:
    """Upload the files chosen for one item. The page is one form, so the explanations typed
    for every item come too, and are saved first."""
    challenge_id, item_id = request.path_params["challenge_id"], request.path_params["item_id"]
    today = clock.today()
    items = await _item_ids(request)
    if item_id not in {c.item_id for c in items}:
        raise HTTPException(404)
    upload: ParsedUpload | None = getattr(request.state, "upload", None)
    fid = field_prefix(item_id)
    fields = _Fields(upload)
    problem_page, explained = await _save_typed(request, items, fields)
    if problem_page is not None:
        return problem_page
    # The item's own date boxes; "in-force" and "file" are what a form of one item sends.
    date_name = f"{fid}-in-force" if fields.get(f"{fid}-in-force-day") is not None else "in-force"
    dates = {item_id: _date_parts(fields, date_name)} if upload else {}
    chosen = [f for f in upload.files if f.field_name in {f"{fid}-file", "file"}] if upload else []
    elsewhere = [f.display_name for f in upload.files if f not in chosen] if upload else []

    async def refuse(message: str, status_code: int = 400) -> Response:
        return await _challenge_page(
            request,
            status_code=status_code,
            upload_errors={item_id: message},
            upload_dates=dates,
            problems=[(f"{fid}-file", message)],
        )

    if not chosen:
        return await refuse("Choose a file to upload")
    try:
        in_force = parse_date_parts(
            *dates[item_id].values(), what="The date the evidence was in force"
        )
    except DateProblem as problem:
        return await refuse(str(problem))
    if in_force is not None and in_force > today:
        return await refuse("The date the evidence was in force must be today or in the past")
    try:
        inspected = await run_in_threadpool(_inspect_all, chosen)
    except FileRefused as refused:
        return await refuse(str(refused))
    storage, ctx = evidence_storage(request.app.state.settings), audit_context(request)
    written: list[str] = []
    try:
        added = await run_db(
            request,
            lambda db: add_files(
                db, ctx, storage, challenge_id, item_id, inspected, in_force, today, written
            ),
            write=True,
        )
    except ChallengeError as refused:
        return await refuse(str(refused), 409)
    except BaseException:
        await run_in_threadpool(delete_stored, storage, written)
        raise
    names = ", ".join(f"‘{a.file.display_name}’" for a in added)
    saved = " Your explanations are saved too." if explained else ""
    return await redirect_with_message(
        request,
        f"/challenges/{challenge_id}#{fid}",
        f"{names} added as evidence.{saved}{not_uploaded(elsewhere)}",
    )


def not_uploaded(names: list[str]) -> str:
    """What the person must do about files chosen for other questions: a file box's choice
    is gone once the page comes back, and each question's files go with its own button."""
    if not names:
        return ""
    quoted = ", ".join(f"‘{name}’" for name in names)
    if len(names) == 1:
        return (
            f" {quoted} was chosen for another question and has not been uploaded:"
            " choose it again there and select its Upload file button."
        )
    return (
        f" {quoted} were chosen for other questions and have not been uploaded:"
        " choose them again there and select each question’s Upload file button."
    )


class _Fields:
    """A parsed upload's text fields with a form's ``get``."""

    def __init__(self, upload: ParsedUpload | None) -> None:
        self.upload = upload

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.upload.value(name) if self.upload else None
        return default if value is None else value


async def remove_file(request: Request) -> Response:
    challenge_id, piece_id = request.path_params["challenge_id"], request.path_params["piece_id"]
    ctx, today = audit_context(request), clock.today()
    problem_page, _ = await _save_typed(request, await _item_ids(request), await request.form())
    if problem_page is not None:
        return problem_page
    try:
        key = await run_db(
            request, lambda db: remove_piece(db, ctx, challenge_id, piece_id, today), write=True
        )
    except ChallengeError as refused:
        return await _challenge_page(request, status_code=409, refused=str(refused))
    except ChallengeNotFound:
        # Pressed twice, or removed by a colleague: the file is not there any more either way.
        return await redirect_with_message(
            request,
            f"/challenges/{challenge_id}",
            "That file had already been removed.",
            "important",
        )
    if key is not None:
        storage = evidence_storage(request.app.state.settings)
        await run_in_threadpool(delete_stored, storage, [key])
    return await redirect_with_message(
        request, f"/challenges/{challenge_id}", "The file has been removed."
    )


async def submit(request: Request) -> Response:
    challenge_id, ctx, today = (
        request.path_params["challenge_id"],
        audit_context(request),
        clock.today(),
    )
    items, form = await _item_ids(request), await request.form()
    problem_page, _ = await _save_typed(request, items, form)
    if problem_page is not None:
        return problem_page
    pending = chosen_not_uploaded(form, [c.item_id for c in items])
    if pending:
        return await _challenge_page(
            request,
            status_code=400,
            upload_errors=pending,
            problems=[(f"{field_prefix(i)}-file", message) for i, message in pending.items()],
        )
    try:
        settings = request.app.state.settings
        await run_db(
            request,
            lambda db: submit_evidence(db, settings, ctx, challenge_id, today),
            write=True,
        )
    except ChallengeError as refused:
        missing = await run_db(request, lambda db: unanswered(db, challenge_id))
        if not missing:
            return await _challenge_page(request, status_code=409, refused=str(refused))
        errors = {c.item_id: "Upload a file or write an explanation for this item" for c in missing}
        problems = [
            (
                field_prefix(c.item_id) + "-explanation",
                f"Item {c.item_id}: upload a file or write an explanation",
            )
            for c in missing
        ]
        return await _challenge_page(
            request, status_code=400, item_errors=errors, problems=problems
        )
    return await redirect_with_message(
        request,
        f"/challenges/{challenge_id}",
        "Your evidence has been submitted. The partnership's quality assurance group will "
        "review it.",
    )


def chosen_not_uploaded(form: FormData, item_ids: list[str]) -> dict[str, str]:
    """Files chosen in the page's file boxes but not uploaded, by item: the submit button
    sends the form without files (only their names), and the evidence would go without them.
    The page comes back with the boxes empty, so submitting again leaves them out."""
    pending = {}
    for item_id in item_ids:
        name = form.get(f"{field_prefix(item_id)}-file")
        if isinstance(name, str) and name.strip():
            pending[item_id] = (
                f"‘{safe_display_name(name)}’ was chosen but not uploaded. To include it, choose "
                "it again and select Upload file; to leave it out, submit again"
            )
    return pending


async def download(request: Request) -> Response:
    piece_id, settings = request.path_params["piece_id"], request.app.state.settings
    found: Download = await run_db(request, lambda db: find_download(db, piece_id))
    org_id = found.file.organisation_id
    if not may_download(request.state.actor, org_id, settings):
        ctx = audit_context(request)
        await run_db(
            request,
            lambda db: security_event(
                db,
                ctx,
                "authorisation_refused",
                path=request.url.path,
                permission="evidence.download (scrutineer setting off)",
                organisation_id=org_id,
            ),
            write=True,
        )
        raise HTTPException(404)
    storage = evidence_storage(settings)
    try:
        handle = await run_in_threadpool(storage.open, storage_key(found.file.storage_key))
    except FileNotFoundError:
        raise HTTPException(404) from None
    ctx = audit_context(request)
    try:
        await run_db(request, lambda db: record_download(db, ctx, found), write=True)
    except BaseException:
        handle.close()
        raise
    name = download_name(found.file.display_name, found.file.kind)
    return StreamingResponse(
        _chunks(handle),
        media_type=found.file.content_type,
        headers={
            "Content-Disposition": content_disposition(name),
            "Content-Length": str(found.file.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
        },
    )


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(READ_CHUNK):
            yield chunk


# ---------------------------------------------------------------------------------------------


def _challenge(db: Session, params: dict) -> int | None:
    return challenge_scope(db, params["challenge_id"])


def _piece(db: Session, params: dict) -> int | None:
    return piece_scope(db, params["piece_id"])


def on_challenge(
    path: str, endpoint: Any, permission: Permission, methods: tuple[str, ...] = ("GET",), **kw: Any
) -> Any:
    return page(
        "/challenges/{challenge_id:id}" + path,
        endpoint,
        permission=permission,
        scope=_challenge,
        methods=methods,
        **kw,
    )


routes = [
    on_challenge("/setup", challenge_setup, Permission.CHALLENGES_MANAGE, ("GET", "POST")),
    on_challenge("/due-date", challenge_due_date, Permission.CHALLENGES_MANAGE, ("POST",)),
    on_challenge("", challenge_page, Permission.CHALLENGE_VIEW),
    on_challenge("", challenge_save, Permission.CHALLENGE_RESPOND, ("POST",)),
    on_challenge(
        "/items/{item_id}/files",
        upload_file,
        Permission.CHALLENGE_RESPOND,
        ("POST",),
        upload=read_upload,
    ),
    on_challenge(
        "/pieces/{piece_id:id}/remove", remove_file, Permission.CHALLENGE_RESPOND, ("POST",)
    ),
    on_challenge("/submit", submit, Permission.CHALLENGE_RESPOND, ("POST",)),
    page(
        "/evidence/{piece_id:id}",
        download,
        permission=Permission.EVIDENCE_DOWNLOAD,
        scope=_piece,
        name="evidence_download",
    ),
]
