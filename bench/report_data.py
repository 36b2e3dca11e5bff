"""A national campaign for the report benchmark: organisations, returns, submissions, answers.

Everything goes in with bulk inserts straight into the tables the campaign report reads, in
the shapes the portal writes (``audit_portal/demo/seed.py`` does the same for the demo):
``organisation``, ``audit_return``, ``submission`` and ``submitted_answer``, the typed rows
written when a return is signed. The 100 typed rows of each submission are made by the database
itself (one ``INSERT ... SELECT`` per few hundred submissions, crossing them with the items), so
2.5 million rows take minutes rather than an hour. Ratings are spread deterministically: mostly
"Fully in place", a tail of "Partly" and "Not in place" heavier on a few items, a few "Not
applicable"; about 2% of returns were handed back and signed again (two submissions: only the
latest may count). The submissions' JSON content is a stub, as the report never reads it,
unless ``contents=True`` asks for it in full (the answer-level export reads nothing else). Each
submission's content is then made in Python, in the shape signing a return freezes (answers with
their narratives and evidence, the actions, the score; the ratings spread as above), and its
typed rows are made from it by the portal's own ``answer_rows``, as signing does: slower than the
database making them, but a submission is a frozen record that cannot be filled in afterwards.

Organisations are added in steps (``add_organisations``), so the same campaign can be measured
at two sizes in one run.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, text
from tqdm import tqdm

from audit_portal.models import (
    Campaign,
    Membership,
    Organisation,
    Return,
    Submission,
    SubmittedAnswer,
    User,
    WebSession,
)
from audit_portal.questionnaires.model import Item
from audit_portal.returns.typed_answers import answer_rows
from bench.dataset import _bulk, _table, lock_questionnaire
from bench.questionnaire import KEY, VERSION, answerable, definition_in

SUBMISSIONS_PER_INSERT = 500  # x 100 items: 50,000 typed rows per statement
PHASES = ("primary",) * 7 + ("secondary",) * 2 + ("all-through",)
DISTRICTS = 40
RESUBMITTED_EVERY = 50  # one return in 50 was handed back for amendment and signed again
NARRATIVE = (
    "Two governors joined in the spring and are not yet trained; the course is booked for "
    "the autumn term and the clerk will record it in the training log."
)
EVIDENCE = "Single central record, training log and the minutes of the board's summer meeting."
NOT_APPLICABLE = "We have no boarding pupils, so this does not apply to our school."
ACTION = "Train the two new governors and record it in the training log."
OTHER_ANSWERS = {"date": "2025-09-01", "number": 2}  # what a non-rating item is answered


@dataclass(frozen=True)
class Reader:
    """A quality assurance account, signed in: the report page's reader."""

    session_token: str


@dataclass(frozen=True)
class Added:
    organisations: int
    returns: int
    submissions: int
    answers: int


def create_campaign(engine: Engine, questionnaires: Path) -> tuple[int, Reader]:
    """Lock the questionnaire, open the campaign, and sign a QA reader in."""
    lock_questionnaire(engine, questionnaires)
    now = datetime.now(UTC)
    today = now.date()
    with engine.begin() as conn:
        campaign = _table(Campaign)
        campaign_id: int = conn.execute(
            insert(campaign).returning(campaign.c.id),
            [
                {
                    "title": "National schools safeguarding audit (benchmark)",
                    "questionnaire_key": KEY,
                    "questionnaire_version": VERSION,
                    "opens_on": today - timedelta(days=60),
                    "closes_on": today + timedelta(days=10),
                    "status": "open",
                    "selection": {"duty_types": ["section-175-school"]},
                    "opened_at": now - timedelta(days=60),
                }
            ],
        ).scalar_one()
        reader = _reader(conn, now)
    return campaign_id, reader


def _reader(conn: Connection, now: datetime) -> Reader:
    user = _table(User)
    user_id = conn.execute(
        insert(user).returning(user.c.id),
        [
            {
                "email": "qa@bench.example",
                "full_name": "Quality Assurance",
                "security_stamp": secrets.token_hex(16),
                "recovery_codes": [],
            }
        ],
    ).scalar_one()
    conn.execute(insert(_table(Membership)), [{"user_id": user_id, "role": "qa"}])
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(_table(WebSession)),
        [
            {
                "id": hashlib.sha256(token.encode()).hexdigest(),
                "user_id": user_id,
                "csrf_secret": secrets.token_hex(32),
                "mfa_verified": True,  # as after the second step of signing in
                "data": {},
                "created_at": now,
                "authenticated_at": now,
                "last_seen_at": now,
            }
        ],
    )
    return Reader(token)


def add_organisations(
    engine: Engine,
    questionnaires: Path,
    campaign_id: int,
    first: int,
    count: int,
    *,
    contents: bool = False,
) -> Added:
    """Organisations ``first`` .. ``first + count - 1``, each invited with a return; with
    ``contents``, every submission's content in full rather than a stub."""
    answered = answerable(definition_in(questionnaires))
    items = [(n, i.id, i.kind == "rating") for n, i in enumerate(answered)]
    plan = [_plan(n) for n in range(first, first + count)]
    submitted = sum(len(revisions) for _, revisions in plan)
    total = 2 * count + submitted * (1 + len(items))
    signed = datetime.now(UTC) - timedelta(days=20)
    with engine.begin() as conn, tqdm(total=total, desc="rows", unit="row", unit_scale=True) as bar:
        org_ids = _bulk(
            conn, _table(Organisation), [_organisation(n) for n in range(first, first + count)], bar
        )
        return_rows = [
            _return(campaign_id, org_id, status, len(revisions), signed)
            for org_id, (status, revisions) in zip(org_ids, plan, strict=True)
        ]
        return_ids = _bulk(conn, _table(Return), return_rows, bar)
        signing = [
            (org_id, return_id, revision)
            for org_id, return_id, (_, revisions) in zip(org_ids, return_ids, plan, strict=True)
            for revision in revisions
        ]
        if contents:
            submission_ids = _signed_in_full(conn, answered, campaign_id, signing, signed, bar)
        else:
            submission_ids = _bulk(
                conn,
                _table(Submission),
                [_submission(return_id, revision, signed) for _, return_id, revision in signing],
                bar,
            )
            for start in range(0, len(submission_ids), SUBMISSIONS_PER_INSERT):
                chunk = submission_ids[start : start + SUBMISSIONS_PER_INSERT]
                conn.execute(
                    _typed_rows_statement(items),
                    {"campaign": campaign_id, "low": min(chunk), "high": max(chunk)},
                )
                bar.update(len(chunk) * len(items))
    analyse(engine)
    return Added(count, count, len(submission_ids), len(submission_ids) * len(items))


def analyse(engine: Engine) -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or an operator (SQLite) would keep."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _plan(n: int) -> tuple[str, tuple[int, ...]]:
    """(return status, revisions signed) of the n-th organisation's return."""
    share = (n * 37) % 100
    if share < 3:
        return "not_started", ()
    if share < 6:
        return "in_progress", ()
    revisions = (1, 2) if n % RESUBMITTED_EVERY == 0 else (1,)
    return ("submitted" if share < 60 else "accepted"), revisions


def _organisation(n: int) -> dict[str, Any]:
    return {
        "name": f"Benchmark School {n + 1:05d}",
        "duty_type": "section-175-school",
        "kind": "school",
        "phase": PHASES[n % len(PHASES)],
        "identifier_scheme": "urn",
        "identifier": f"8{n:06d}",
        "district": f"District {n % DISTRICTS + 1:02d}",
        "features": [],
    }


def _return(
    campaign_id: int, organisation_id: int, status: str, revisions: int, signed: datetime
) -> dict[str, Any]:
    done = status in ("submitted", "accepted")
    return {
        "campaign_id": campaign_id,
        "organisation_id": organisation_id,
        "status": status,
        "revision": max(revisions, 1),
        "submitted_at": signed if done else None,
        "accepted_at": signed + timedelta(days=5) if status == "accepted" else None,
    }


def _submission(
    return_id: int, revision: int, signed: datetime, content: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "return_id": return_id,
        "revision": revision,
        "submitted_at": signed + timedelta(days=revision - 1),
        "declaration_name": "Head Teacher",
        "declaration_role": "Headteacher",
        "declaration_date": date.fromordinal(signed.date().toordinal() + revision - 1),
        "questionnaire_key": KEY,
        "questionnaire_version": VERSION,
        "questionnaire_hash": "0" * 64,
        "overall_rag": "green",
        "content": content or {"benchmark": "the report reads the typed rows, not this"},
    }


def _typed_rows_statement(items: list[tuple[int, str, bool]]) -> Any:
    """Every item's typed row for the submissions with ids from :low to :high, in one INSERT.

    ``spread`` is a deterministic 0-99 per (submission, item); every ninth item is weaker.
    """
    values = ", ".join(f"({n}, '{item_id}', {1 if rating else 0})" for n, item_id, rating in items)
    spread = "((s.id * 31 + i.ordinal * 17 + (s.id % 7) * i.ordinal) % 100)"
    weak = "(CASE WHEN i.ordinal % 9 = 0 THEN 15 ELSE 0 END)"
    rating = (
        f"CASE WHEN i.rating = 0 OR {spread} < 2 THEN NULL "
        f"WHEN {spread} < 5 + {weak} / 3 THEN 1 WHEN {spread} < 20 + {weak} THEN 2 ELSE 3 END"
    )
    return text(
        f"WITH i(ordinal, item_id, rating) AS (VALUES {values}) "  # noqa: S608 - our own item ids
        "INSERT INTO submitted_answer (submission_id, return_id, campaign_id, organisation_id, "
        "item_id, rating, rag, less_effective, not_applicable, evidence_described) "
        f"SELECT s.id, s.return_id, r.campaign_id, r.organisation_id, i.item_id, {rating}, "
        f"CASE {rating} WHEN 1 THEN 'red' WHEN 2 THEN 'amber' WHEN 3 THEN 'green' END, "
        f"CASE WHEN ({rating}) IN (1, 2) THEN TRUE ELSE FALSE END, "
        f"CASE WHEN i.rating = 1 AND {spread} < 2 THEN TRUE ELSE FALSE END, "
        f"CASE WHEN {spread} % 3 = 0 THEN FALSE ELSE TRUE END "
        "FROM submission s JOIN audit_return r ON r.id = s.return_id CROSS JOIN i "
        "WHERE s.id BETWEEN :low AND :high AND r.campaign_id = :campaign"
    )


def _signed_in_full(
    conn: Connection,
    answered: Sequence[Item],
    campaign_id: int,
    signing: Sequence[tuple[int, int, int]],
    signed: datetime,
    bar: tqdm,
) -> list[int]:
    """Submissions (organisation, return, revision) with their content in full, and the typed
    rows made from it by ``answer_rows``, a few hundred submissions at a time."""
    ids: list[int] = []
    for start in range(0, len(signing), SUBMISSIONS_PER_INSERT):
        chunk = signing[start : start + SUBMISSIONS_PER_INSERT]
        contents = [
            _content(answered, org_id, return_id * 2 + revision)
            for org_id, return_id, revision in chunk
        ]
        rows = [
            _submission(return_id, revision, signed, content)
            for (_, return_id, revision), content in zip(chunk, contents, strict=True)
        ]
        chunk_ids = _bulk(conn, _table(Submission), rows, bar)
        typed = [
            {
                "submission_id": submission_id,
                "return_id": return_id,
                "campaign_id": campaign_id,
                "organisation_id": org_id,
                **row.__dict__,
            }
            for submission_id, (org_id, return_id, _), content in zip(
                chunk_ids, chunk, contents, strict=True
            )
            for row in answer_rows(content)
        ]
        _bulk(conn, _table(SubmittedAnswer), typed, bar, returning=False)
        ids.extend(chunk_ids)
    return ids


def _content(answered: Sequence[Item], organisation_id: int, seed: int) -> dict[str, Any]:
    """A submission's content as ``submit_return`` freezes it. The ratings follow the spread
    of ``_typed_rows_statement``, from ``seed`` rather than the submission's id."""
    answers, actions, rags, weak = {}, [], {}, []
    for n, item in enumerate(answered):
        spread = (seed * 31 + n * 17 + (seed % 7) * n) % 100
        tail = 15 if n % 9 == 0 else 0
        rating = item.kind == "rating"
        not_applicable = rating and spread < 2
        value: Any = None
        if rating and not not_applicable:
            value = 1 if spread < 5 + tail // 3 else 2 if spread < 20 + tail else 3
            rags[item.id] = {1: "red", 2: "amber", 3: "green"}[value]
        elif not rating:
            value = OTHER_ANSWERS[item.kind]
        less_effective = value in (1, 2) and rating
        answers[item.id] = {
            "value": value,
            "not_applicable": not_applicable,
            "na_reason": NOT_APPLICABLE if not_applicable else "",
            "narrative": NARRATIVE if less_effective else "",
            "evidence": EVIDENCE if spread % 3 else "",
            "version": 1,
        }
        if less_effective:
            weak.append(item.id)
            actions.append(
                {
                    "id": len(actions) + 1,
                    "item_id": item.id,
                    "what": ACTION,
                    "owner": "Chair of governors",
                    "target_date": "2026-03-31",
                }
            )
    worst = "red" if "red" in rags.values() else "amber" if weak else "green"
    return {
        "organisation": {"id": organisation_id, "duty_type": "section-175-school"},
        "campaign": {"title": "National schools safeguarding audit (benchmark)"},
        "answers": answers,
        "actions": actions,
        "score": {"items": rags, "overall": worst, "less_effective": weak},
    }
