"""The challenge report figures read from a real database (SQLite and PostgreSQL): a return
submitted over HTTP, challenged, with outcomes and moderated ratings stored as QA's review
stores them; a draft challenge asks nothing yet and is left out."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette

from audit_portal.db import session_scope
from audit_portal.models import (
    ChallengedItem,
    ChallengeStage,
    EvidenceChallenge,
    ItemOutcome,
    Outcome,
    Submission,
    saved_id,
)
from audit_portal.reports.challenge_figures import ChallengedRow, challenge_report
from audit_portal.reports.challenge_queries import challenge_data
from tests.builders import SCHOOLS
from tests.challenge_builders import draft_challenge, submitted_and_sampled
from tests.personas import World

# item: (outcome, moderated rating); None: challenged but not reviewed yet
REVIEWED = {
    "s175.1.1": (Outcome.SUBSTANTIATED, 2),  # self-rated 2 (Partly in place): agreed
    "s175.1.2": (Outcome.PARTLY, 1),  # self-rated 2: one step lower
    "s175.2.1": (Outcome.NOT, 1),  # self-rated 3 (Fully in place): two steps lower
    "s175.3.1": None,
}


def challenge_items(engine: Engine, challenge_id: int, items: dict, stage: str) -> None:
    with session_scope(engine, write=True) as db:
        challenge = db.get(EvidenceChallenge, challenge_id)
        assert challenge is not None
        submission = db.get(Submission, challenge.submission_id)
        assert submission is not None
        answers = submission.content.get("answers", {})
        challenge.stage = stage
        db.add(challenge)
        for item_id, review in items.items():
            value = answers.get(item_id, {}).get("value")
            challenged = ChallengedItem(
                challenge_id=challenge_id, item_id=item_id, self_rating=str(value)
            )
            db.add(challenged)
            db.flush()
            if review is None:
                continue
            outcome, moderated = review
            db.add(
                ItemOutcome(
                    challenged_item_id=saved_id(challenged),
                    submission_id=submission.id,
                    item_id=item_id,
                    outcome=outcome.value,
                    moderated_rating=str(moderated),
                    moderated_rag={3: "green", 2: "amber", 1: "red"}[moderated],
                )
            )


def test_figures_load_from_the_database(app: Starlette, clean_db: Engine, world: World) -> None:
    assert SCHOOLS is not None
    issued = submitted_and_sampled(app, clean_db, world)
    challenge_items(clean_db, issued.challenge_id, REVIEWED, ChallengeStage.SUBMITTED.value)

    # Organisation B: a challenge still in draft, with an outcome row that must not count.
    with session_scope(clean_db, write=True) as db:
        other = Submission(
            return_id=world.returns[world.org_b],
            revision=1,
            declaration_name="Bea",
            declaration_role="Head",
            declaration_date=date(2026, 3, 2),
            questionnaire_key="section-175-schools",
            questionnaire_version="2025.1",
            questionnaire_hash="0" * 64,
            content={"answers": {"s175.1.1": {"value": 3}}},
        )
        db.add(other)
        db.flush()
        draft = draft_challenge(db, world, world.org_b, saved_id(other), seed=7)
    challenge_items(
        clean_db, draft.challenge_id, {"s175.1.1": (Outcome.NOT, 1)}, ChallengeStage.DRAFT.value
    )

    with session_scope(clean_db, write=False) as db:
        data = challenge_data(db, world.campaign_id, SCHOOLS)
        assert db.exec(select(ItemOutcome)).all()  # both outcomes stored; one is left out

    assert data.scale.values == (3, 2, 1)
    assert list(data.rows) == [
        ChallengedRow(world.org_a, "school", "s175.1", "s175.1.1", "substantiated", 2, 2),
        ChallengedRow(world.org_a, "school", "s175.1", "s175.1.2", "partly_substantiated", 2, 1),
        ChallengedRow(world.org_a, "school", "s175.2", "s175.2.1", "not_substantiated", 3, 1),
        ChallengedRow(world.org_a, "school", "s175.3", "s175.3.1", None, 3, None),
    ]

    report = challenge_report(data)
    overall = report.outcomes_by_standard.overall
    assert (overall.challenged, overall.reviewed) == (4, 3)
    assert overall.substantiated.text == "33% (1 of 3)"
    assert overall.not_substantiated.text == "33% (1 of 3)"
    governance = report.outcomes_by_standard.groups[0]
    assert governance.label == "Governance and strategic leadership"
    assert governance.partly.text == "50% (1 of 2)"
    [schools] = report.outcomes_by_kind.groups
    assert schools.label == "School or college" and schools.reviewed == 3

    gaps = report.gaps_by_kind.overall
    assert (gaps.lower, gaps.same, gaps.higher) == (2, 1, 0)
    assert gaps.total_steps == 3
    assert gaps.mean_gap_text == "1.0 steps below the self-rating on average"
    by_standard = {g.key: g for g in report.gaps_by_standard.groups}
    assert by_standard["s175.2"].total_steps == 2
    assert by_standard["s175.3"].compared == 0
