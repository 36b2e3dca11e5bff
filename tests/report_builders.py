"""Dip samples and evidence challenges over a generated campaign (``generate`` in
tests/web/test_report_queries.py), written straight to the database, with the facts the tests
count independently: which organisation, kind, item, self-rating, outcome and moderated rating.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import col, select

from audit_portal.db import session_scope
from audit_portal.models import (
    ChallengedItem,
    ChallengeStage,
    DipSample,
    EvidenceChallenge,
    ItemOutcome,
    Outcome,
    Return,
    SampledReturn,
    Submission,
    saved_id,
)
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.figures import SUBMITTED
from tests.report_data import Generated

SAMPLE_SEED = 97531
CHOSEN_BY = "Quinn <b>QA</b> & Co"


@dataclass(frozen=True)
class ChallengeFact:
    organisation_id: int
    kind: str
    district: str
    item_id: str
    section_id: str
    self_rating: int | None  # None: not applicable
    outcome: str | None  # None: not reviewed yet
    moderated: int | None


def add_generated_challenges(
    engine: Engine, g: Generated, d: Definition, seed: int
) -> list[ChallengeFact]:
    """A confirmed simple sample of about two thirds of the submitted returns, each challenged
    on two to six items; most items reviewed. One more challenge stays in draft (asks nothing
    yet, so it must not count). Returns the facts of the issued ones."""
    chance = random.Random(seed)
    section_of = {i.id: s.id for s in d.sections for i in s.items}
    values = [p.value for p in d.rating_scale.points]
    submitted = sorted(o for o, s in g.status.items() if s in SUBMITTED)
    chosen = [o for o in submitted if chance.random() < 0.67]
    facts: list[ChallengeFact] = []
    with session_scope(engine, write=True) as db:
        sample = DipSample(
            campaign_id=g.campaign_id,
            method="simple",
            spec={
                "format": 1,
                "method": "simple",
                "size": len(chosen),
                "percent": None,
                "stratify_by": None,
                "min_per_stratum": 0,
                "weights": {},
                "include": [],
                "exclude": ["urn:999999"],
                "filters": {
                    "kinds": [],
                    "districts": [],
                    "overall_rags": [],
                    "green_without_evidence_only": False,
                },
            },
            seed=SAMPLE_SEED,
            population_size=len(submitted),
            filtered_size=len(submitted),
            requested_size=len(chosen),
            population_keys=[f"org:{o}" for o in submitted],
            chosen_by_name=CHOSEN_BY,
        )
        db.add(sample)
        db.flush()
        for n, org in enumerate(chosen):
            stage = ChallengeStage.DRAFT if n == 0 else chance.choice(list(ChallengeStage)[1:])
            return_id = db.exec(
                select(Return.id).where(
                    Return.campaign_id == g.campaign_id, Return.organisation_id == org
                )
            ).one()
            submission_id = db.exec(
                select(Submission.id)
                .where(Submission.return_id == return_id)
                .order_by(col(Submission.revision).desc())
            ).first()
            assert return_id is not None and submission_id is not None
            sampled = SampledReturn(
                dip_sample_id=saved_id(sample), return_id=return_id, organisation_id=org
            )
            db.add(sampled)
            db.flush()
            challenge = EvidenceChallenge(
                sampled_return_id=saved_id(sampled),
                return_id=return_id,
                organisation_id=org,
                submission_id=submission_id,
                stage=stage.value,
                due_on=date(2026, 5, 1),
            )
            db.add(challenge)
            db.flush()
            answers = g.latest[org]
            for item_id in sorted(chance.sample(sorted(answers), chance.randint(2, 6))):
                own = answers[item_id]
                item = ChallengedItem(
                    challenge_id=saved_id(challenge), item_id=item_id, self_rating=str(own)
                )
                db.add(item)
                db.flush()
                outcome = moderated = None
                if chance.random() < 0.8:
                    outcome = chance.choice(list(Outcome)).value
                    moderated = chance.choice(values)
                    db.add(
                        ItemOutcome(
                            challenged_item_id=saved_id(item),
                            submission_id=submission_id,
                            item_id=item_id,
                            outcome=outcome,
                            moderated_rating=str(moderated),
                        )
                    )
                if stage is not ChallengeStage.DRAFT:
                    facts.append(
                        ChallengeFact(
                            organisation_id=org,
                            kind=g.orgs[org]["kind"],
                            district=g.orgs[org]["district"],
                            item_id=item_id,
                            section_id=section_of[item_id],
                            self_rating=own,
                            outcome=outcome,
                            moderated=moderated,
                        )
                    )
    assert facts, "the seed must challenge something"
    return facts
