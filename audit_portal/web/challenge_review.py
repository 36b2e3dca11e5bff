"""The QA sub-group reviews an organisation's submitted evidence, one challenged item at a
time: an outcome, a moderated rating from the item's scale, a comment and, where the evidence
falls short, a required action for the follow-up. Endpoints parse, call one domain function
(``audit_portal.challenges.review``), render."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from audit_portal import clock
from audit_portal.challenges.files import PieceLine, may_download, pieces_by_item
from audit_portal.challenges.issuing import (
    ChallengeError,
    ChallengeRecord,
    challenged_items,
    load_challenge,
    rating_label,
)
from audit_portal.challenges.review import (
    ACTION_OUTCOMES,
    MAX_COMMENT,
    ChallengeOutcomes,
    challenge_outcomes,
    parse_review,
    record_outcome,
    review_refused,
)
from audit_portal.models import Action, ChallengedItem, ItemOutcome, Outcome
from audit_portal.policy import Permission
from audit_portal.questionnaires import current_catalogue
from audit_portal.questionnaires.model import Definition, Item
from audit_portal.returns.answers import ACTION_OWNER_MAX, ACTION_WHAT_MAX, field_prefix
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.evidence import on_challenge
from audit_portal.web.guard import audit_context

# Where each field's message links to, after the item's field prefix.
ANCHORS = {
    "outcome": "outcome",
    "rating": "rating",
    "comment": "comment",
    "add_action": "add-action",
    "what": "action-what",
    "owner": "action-owner",
    "target": "action-target",
}


def _definition(request: Request, record: ChallengeRecord) -> Definition:
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    found = catalogue.get(
        record.submission.questionnaire_key, record.submission.questionnaire_version
    )
    if found is None:
        raise HTTPException(404)
    return found


@dataclass(frozen=True)
class ReviewLine:
    """One challenged item as QA reviews it: what was claimed, the evidence, any outcome."""

    challenged: ChallengedItem
    item: Item | None
    fid: str
    rating: str
    pieces: list[PieceLine]
    outcome: ItemOutcome | None
    moderated: str
    action: Action | None

    @property
    def question(self) -> str:
        return self.item.prompt if self.item is not None else self.challenged.item_id

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome.outcome).label if self.outcome is not None else ""


def _lines(
    definition: Definition,
    items: list[ChallengedItem],
    pieces: dict[int, list[PieceLine]],
    found: ChallengeOutcomes,
) -> list[ReviewLine]:
    lines = []
    for c in items:
        outcome = found.outcomes.get(c.id or 0)
        action = found.actions.get(outcome.action_id or 0) if outcome is not None else None
        lines.append(
            ReviewLine(
                c,
                definition.item(c.item_id),
                field_prefix(c.item_id),
                rating_label(definition, c.self_rating),
                pieces.get(c.id or 0, []),
                outcome,
                rating_label(definition, outcome.moderated_rating) if outcome else "",
                action,
            )
        )
    return lines


async def _review_page(
    request: Request,
    *,
    status_code: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    refused: str = "",
) -> Response:
    challenge_id, today = request.path_params["challenge_id"], clock.today()
    settings = request.app.state.settings
    years = settings.evidence_stale_years

    def load(db: Session) -> tuple[ChallengeRecord, list[ChallengedItem], dict, ChallengeOutcomes]:
        return (
            load_challenge(db, challenge_id),
            challenged_items(db, challenge_id),
            pieces_by_item(db, challenge_id, today, years),
            challenge_outcomes(db, challenge_id),
        )

    record, items, pieces, found = await run_db(request, load)
    definition = _definition(request, record)
    lines = _lines(definition, items, pieces, found)
    not_ready = review_refused(record.challenge)
    errors = errors or {}
    problems = [
        (f"{field_prefix(item_id)}-{ANCHORS.get(name, 'outcome')}", message)
        for item_id, messages in errors.items()
        for name, message in messages.items()
    ]
    return render(
        request,
        "evidence/review.html",
        {
            "title": f"Review the evidence from {record.organisation.name}",
            "record": record,
            "lines": lines,
            "reviewed": sum(1 for line in lines if line.outcome is not None),
            "not_ready": not_ready,
            "points": definition.rating_scale.points,
            "outcomes": list(Outcome),
            "action_outcomes": {o.value for o in ACTION_OUTCOMES},
            "errors": errors,
            "typed": typed or {},
            "problems": problems,
            "refused": refused,
            "can_download": may_download(
                request.state.actor, record.organisation.id or 0, settings
            ),
            "max_comment": MAX_COMMENT,
            "max_what": ACTION_WHAT_MAX,
            "max_owner": ACTION_OWNER_MAX,
        },
        status_code=409 if not_ready and status_code == 200 else status_code,
    )


async def review_page(request: Request) -> Response:
    return await _review_page(request)


async def record_item_outcome(request: Request) -> Response:
    challenge_id, item_id = request.path_params["challenge_id"], request.path_params["item_id"]
    today = clock.today()

    def load(db: Session) -> tuple[ChallengeRecord, list[ChallengedItem]]:
        return load_challenge(db, challenge_id), challenged_items(db, challenge_id)

    record, items = await run_db(request, load)
    if item_id not in {c.item_id for c in items}:
        raise HTTPException(404)
    if review_refused(record.challenge):
        return await _review_page(request, status_code=409)
    definition = _definition(request, record)
    form = await request.form()
    draft, problems = parse_review(form, item_id, definition.rating_scale, today)
    if problems:
        return await _review_page(
            request, status_code=400, errors={item_id: problems}, typed={item_id: dict(draft.typed)}
        )
    settings, ctx = request.app.state.settings, audit_context(request)
    try:
        done = await run_db(
            request,
            lambda db: record_outcome(db, settings, ctx, challenge_id, definition, item_id, draft),
            write=True,
        )
    except ChallengeError as refused:
        return await _review_page(request, status_code=409, refused=str(refused))
    name = record.organisation.name
    if done.completed:
        text = (
            "The outcome has been saved. Every item now has an outcome, so the review is "
            f"complete and {name} has been emailed."
        )
    elif not done.changed:
        text = "Nothing had changed."
    else:
        text = f"The outcome for item {item_id} has been saved."
    if done.action is not None:
        text += f" The required action has been added to {name}'s six-month follow-up."
    return await redirect_with_message(
        request, f"/challenges/{challenge_id}/review#{field_prefix(item_id)}", text
    )


routes = [
    on_challenge("/review", review_page, Permission.CHALLENGES_MANAGE),
    on_challenge(
        "/items/{item_id}/outcome", record_item_outcome, Permission.CHALLENGES_MANAGE, ("POST",)
    ),
]
