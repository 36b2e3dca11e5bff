"""Feedback letters: QA drafts a letter to an organisation about its submitted return, edits
it, saves it and sends it; the organisation reads the letter as sent on its return, never a
draft. Endpoints parse, call one domain function (``audit_portal.feedback``), render."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from wtforms import Form, TextAreaField

from audit_portal import clock
from audit_portal.feedback.letter import draft_letter
from audit_portal.feedback.records import (
    LetterAlreadySent,
    LetterConflict,
    LetterError,
    LetterSubject,
    body_problem,
    campaign_letters,
    letter_facts,
    load_subject,
    save_draft,
    send_letter,
    sent_letter,
)
from audit_portal.models import FeedbackLetter, LetterStatus, ReturnStatus
from audit_portal.models.feedback import MAX_LETTER
from audit_portal.parsing import MAX_VERSION, parse_int
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import current_catalogue
from audit_portal.questionnaires.model import Definition
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.guard import audit_context, page
from audit_portal.web.returns import on_return
from audit_portal.wording import long_date

VERSION_PROBLEM = "The form was not sent as the page gave it. Open the letter again and retry."


class LetterForm(Form):
    body = TextAreaField("Text of the letter")


@dataclass(frozen=True)
class EditorState:
    """What the editor shows besides the form: a problem, a conflict, a fresh draft."""

    problem: str = ""  # why nothing can be written or sent now (the page is a 409)
    fresh: bool = False  # the text is a new draft from the ratings, not the saved one
    version: int = 0  # the version of the saved letter the form is based on
    conflict: bool = False


def _definition(request: Request, subject: LetterSubject) -> Definition | None:
    submission = subject.submission
    if submission is None:
        return None
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    return catalogue.get(submission.questionnaire_key, submission.questionnaire_version)


async def _first_draft(request: Request, subject: LetterSubject) -> str:
    """The letter written from the return's ratings (it is not saved until QA saves it)."""
    definition = _definition(request, subject)
    if definition is None:
        raise LetterError(
            "The questionnaire this return was submitted on cannot be found, so no letter "
            "can be written from it."
        )
    settings, today = request.app.state.settings, clock.today()
    facts = await run_db(request, lambda db: letter_facts(db, definition, subject, settings, today))
    return draft_letter(facts)


def _editor(
    request: Request,
    subject: LetterSubject,
    form: LetterForm,
    state: EditorState,
    status_code: int = 200,
) -> Response:
    organisation = subject.organisation.name
    return render(
        request,
        "feedback/editor.html",
        {
            "title": f"Feedback letter to {organisation}",
            "subject": subject,
            "letter": subject.letter,
            "form": form,
            "state": state,
            "max_letter": MAX_LETTER,
            "return_status": ReturnStatus(subject.ret.status),
            "can_send": (
                subject.letter is not None
                and not state.fresh
                and not state.problem
                and not form.body.errors
            ),
        },
        status_code=409 if state.problem and status_code == 200 else status_code,
    )


async def letter_page(request: Request) -> Response:
    """The letter: as sent, or the draft to edit (a new one written from the ratings)."""
    return_id = request.path_params["return_id"]
    subject = await run_db(request, lambda db: load_subject(db, return_id))
    letter = subject.letter
    if letter is not None and letter.status == LetterStatus.SENT.value:
        return _sent_page(request, subject, letter, editor=True)
    if subject.problem:
        return _editor(request, subject, LetterForm(), EditorState(problem=subject.problem))
    if letter is not None and request.query_params.get("fresh") != "1":
        form = LetterForm(data={"body": letter.body})
        return _editor(request, subject, form, EditorState(version=letter.version))
    try:
        text = await _first_draft(request, subject)
    except LetterError as problem:
        return _editor(request, subject, LetterForm(), EditorState(problem=str(problem)))
    version = letter.version if letter is not None else 0
    form = LetterForm(data={"body": text})
    return _editor(request, subject, form, EditorState(fresh=True, version=version))


def _version(value: object) -> int:
    found = parse_int(value, low=0, high=MAX_VERSION)
    if found is None:
        raise HTTPException(400, VERSION_PROBLEM)
    return found


def _by_name(request: Request) -> str:
    actor = request.state.actor
    return (actor.full_name or actor.email)[:200]


async def save_letter(request: Request) -> Response:
    return_id = request.path_params["return_id"]
    posted = await request.form()
    form = LetterForm(posted)
    based_on = _version(posted.get("version"))
    subject = await run_db(request, lambda db: load_subject(db, return_id))
    if subject.letter is not None and subject.letter.status == LetterStatus.SENT.value:
        return await _already_sent(request, subject.letter)
    if subject.problem:
        return _editor(request, subject, form, EditorState(problem=subject.problem))
    body = form.body.data or ""
    problem = body_problem(body)
    state = EditorState(fresh=based_on == 0, version=based_on)
    if problem:
        form.body.errors = [problem]
        return _editor(request, subject, form, state, 400)
    ctx, by_name = audit_context(request), _by_name(request)
    try:
        await run_db(
            request,
            lambda db: save_draft(db, ctx, return_id, body, based_on, by_name),
            write=True,
        )
    except LetterAlreadySent as sent:
        return await _already_sent(request, sent.letter)
    except LetterConflict as conflict:
        fresh = await run_db(request, lambda db: load_subject(db, return_id))
        shown = LetterForm(data={"body": conflict.current.body})
        shown.body.errors = [str(conflict)]
        state = EditorState(version=conflict.current.version, conflict=True)
        return _editor(request, fresh, shown, state, 409)
    except LetterError as refused:
        form.body.errors = [str(refused)]
        return _editor(request, subject, form, EditorState(problem=str(refused)), 409)
    return await redirect_with_message(
        request,
        f"/feedback-letters/{return_id}#send",
        "The draft letter has been saved. Read it once more, then send it.",
    )


async def _already_sent(request: Request, letter: FeedbackLetter) -> Response:
    when = long_date(letter.sent_at.date()) if letter.sent_at else "earlier"
    return await redirect_with_message(
        request,
        f"/feedback-letters/{letter.return_id}",
        f"This letter was sent on {when}. It has not been changed or sent again.",
        "important",
    )


async def send(request: Request) -> Response:
    return_id = request.path_params["return_id"]
    posted = await request.form()
    based_on = _version(posted.get("version"))
    settings, ctx, by_name = request.app.state.settings, audit_context(request), _by_name(request)
    try:
        letter = await run_db(
            request,
            lambda db: send_letter(db, settings, ctx, return_id, based_on, by_name),
            write=True,
        )
    except LetterAlreadySent as sent:
        return await _already_sent(request, sent.letter)
    except LetterError as refused:
        subject = await run_db(request, lambda db: load_subject(db, return_id))
        current = subject.letter
        form = LetterForm(data={"body": current.body if current else ""})
        form.body.errors = [str(refused)]
        state = EditorState(
            version=current.version if current else 0,
            conflict=isinstance(refused, LetterConflict),
        )
        return _editor(request, subject, form, state, 409)
    people = len(letter.sent_to)
    whom = "1 person" if people == 1 else f"{people} people"
    return await redirect_with_message(
        request,
        f"/feedback-letters/{return_id}",
        f"The letter has been emailed to {whom}. It is now on the organisation's return, "
        "where they can read it.",
    )


def _sent_page(
    request: Request, subject: LetterSubject, letter: FeedbackLetter | None, *, editor: bool
) -> Response:
    return render(
        request,
        "feedback/sent.html",
        {
            "title": f"Feedback letter to {subject.organisation.name}",
            "subject": subject,
            "letter": letter,
            "editor": editor,
            "can_manage": allows(request.state.actor, Permission.FEEDBACK_LETTERS_MANAGE),
        },
    )


async def organisation_letter(request: Request) -> Response:
    """The organisation's view: the letter as sent, or that none has been sent yet."""
    return_id = request.path_params["return_id"]

    def load(db: Session) -> tuple[LetterSubject, FeedbackLetter | None]:
        return load_subject(db, return_id), sent_letter(db, return_id)

    subject, letter = await run_db(request, load)
    return _sent_page(request, subject, letter, editor=False)


async def campaign_letters_page(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    campaign, lines = await run_db(request, lambda db: campaign_letters(db, campaign_id))
    return render(
        request,
        "feedback/campaign.html",
        {"title": f"Feedback letters: {campaign.title}", "campaign": campaign, "lines": lines},
    )


routes = [
    page(
        "/feedback-letters/{return_id:id}",
        letter_page,
        permission=Permission.FEEDBACK_LETTERS_MANAGE,
        name="feedback_letter",
    ),
    page(
        "/feedback-letters/{return_id:id}",
        save_letter,
        permission=Permission.FEEDBACK_LETTERS_MANAGE,
        methods=["POST"],
        name="feedback_letter_save",
    ),
    page(
        "/feedback-letters/{return_id:id}/send",
        send,
        permission=Permission.FEEDBACK_LETTERS_MANAGE,
        methods=["POST"],
        name="feedback_letter_send",
    ),
    on_return("/feedback", organisation_letter, Permission.FEEDBACK_LETTER_VIEW),
    page(
        "/campaigns/{campaign_id:id}/feedback-letters",
        campaign_letters_page,
        permission=Permission.FEEDBACK_LETTERS_MANAGE,
        name="campaign_feedback_letters",
    ),
]
