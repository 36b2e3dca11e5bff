"""Evidence challenges for tests, made directly in the database (not through the dip-sample
pages): a confirmed sample with one sampled return and its challenge in stage "draft", on top
of a real submitted return; or, for the route matrix, an issued challenge with one file."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.applications import Starlette

from audit_portal import clock
from audit_portal.challenges.files import evidence_storage, stored_name
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    ChallengedItem,
    DipSample,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
    SampledReturn,
    Submission,
    saved_id,
)
from tests.builders import submit_with_two_ambers
from tests.personas import World

SEED = 424242


@dataclass(frozen=True)
class Challenge:
    challenge_id: int
    return_id: int
    submission_id: int
    sample_id: int


def draft_challenge(
    db: Session, world: World, organisation_id: int, submission_id: int, seed: int = SEED
) -> Challenge:
    """A confirmed sample of one return, and that return's challenge in stage "draft"."""
    return_id = world.returns[organisation_id]
    sample = DipSample(
        campaign_id=world.campaign_id,
        method="simple",
        spec={"format": 1, "method": "simple", "size": 1},
        seed=seed,
        population_size=2,
        filtered_size=2,
        requested_size=1,
        population_keys=["100001", "100002"],
        chosen_by_name="Test QA",
    )
    db.add(sample)
    db.flush()
    sampled = SampledReturn(
        dip_sample_id=saved_id(sample),
        return_id=return_id,
        organisation_id=organisation_id,
        rationale="simple random",
    )
    db.add(sampled)
    db.flush()
    challenge = EvidenceChallenge(
        sampled_return_id=saved_id(sampled),
        return_id=return_id,
        organisation_id=organisation_id,
        submission_id=submission_id,
    )
    db.add(challenge)
    db.flush()
    return Challenge(saved_id(challenge), return_id, submission_id, saved_id(sample))


def submitted_and_sampled(
    app: Starlette, engine: Engine, world: World, on: date = date(2026, 3, 1)
) -> Challenge:
    """Organisation A's return submitted over HTTP on ``on`` (two items amber, the rest green),
    sampled, with its challenge in draft."""
    return_id = submit_with_two_ambers(app, engine, world, on)
    with session_scope(engine, write=True) as db:
        submission = db.exec(
            select(Submission)
            .where(Submission.return_id == return_id)
            .order_by(col(Submission.revision).desc())
        ).first()
        assert submission is not None
        return draft_challenge(db, world, world.org_a, saved_id(submission))


def add_challenges(engine: Engine, world: World, settings: Settings) -> dict[int, dict[str, int]]:
    """For each organisation of the world: an issued challenge on item s175.1.1 (due in 30 days)
    with one stored text file as its evidence. Ids by organisation: challenge_id, piece_id."""
    storage = evidence_storage(settings)
    found: dict[int, dict[str, int]] = {}
    with session_scope(engine, write=True) as db:
        for organisation_id, return_id in world.returns.items():
            submission = db.exec(
                select(Submission).where(Submission.return_id == return_id)
            ).first()
            if submission is None:
                submission = Submission(
                    return_id=return_id,
                    revision=1,
                    declaration_name="Earlier",
                    declaration_role="Head",
                    declaration_date=date(2025, 3, 1),
                    questionnaire_key="section-175-schools",
                    questionnaire_version="2025.1",
                    questionnaire_hash="0" * 64,
                    content={"answers": {}, "actions": [], "score": {"items": {}}},
                )
                db.add(submission)
                db.flush()
            made = draft_challenge(db, world, organisation_id, saved_id(submission))
            challenge = db.get(EvidenceChallenge, made.challenge_id)
            assert challenge is not None
            challenge.stage, challenge.due_on = "issued", clock.today() + timedelta(days=30)
            db.add(challenge)
            item = ChallengedItem(
                challenge_id=made.challenge_id,
                item_id="s175.1.1",
                self_rating="3",
                self_rag="green",
            )
            db.add(item)
            db.flush()
            with tempfile.TemporaryDirectory() as directory:
                path = Path(directory) / "policy.txt"
                path.write_text(f"Safeguarding policy of organisation {organisation_id}\n")
                stored = storage.put(path)
            file = EvidenceFile(
                organisation_id=organisation_id,
                storage_key=stored_name(stored.key),
                sha256=stored.sha256,
                size=stored.size,
                kind="txt",
                content_type="text/plain",
                display_name="policy.txt",
            )
            db.add(file)
            db.flush()
            piece = EvidencePiece(
                challenged_item_id=saved_id(item),
                evidence_file_id=saved_id(file),
                in_force_on=date(2025, 9, 1),
            )
            db.add(piece)
            db.flush()
            found[organisation_id] = {
                "challenge_id": made.challenge_id,
                "piece_id": saved_id(piece),
            }
    return found


def issue_over_http(
    app: Starlette,
    engine: Engine,
    world: World,
    challenge_id: int,
    items: list[str],
    due: date,
) -> None:
    """QA issues the draft challenge on ``items``, due on ``due``."""
    from starlette.testclient import TestClient

    from tests.personas import signed_in

    with TestClient(app, follow_redirects=False) as qa:
        token = signed_in(qa, engine, world.people["qa"])
        response = qa.post(
            f"/challenges/{challenge_id}/setup",
            data={
                "csrf_token": token,
                "items": items,
                "due-day": str(due.day),
                "due-month": str(due.month),
                "due-year": str(due.year),
            },
        )
        assert response.status_code == 303, response.text[:3000]


def files_under(directory: Path) -> list[Path]:
    """Every file below ``directory`` (none when it does not exist)."""
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []
