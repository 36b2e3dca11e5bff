"""The demo county: the same for the same seed, and its rows pass the portal's own checks.

A small county (the same code, fewer organisations) is seeded into the database under test and
read back through the portal's own readiness rule, typed-row rule and report page.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.demo.county import Sizes, county
from audit_portal.demo.seed import SEED, seed_county
from audit_portal.models import (
    Campaign,
    FollowUp,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    SubmittedAnswer,
)
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.returns.editing import actions_of, answers_of, assess_return
from audit_portal.returns.typed_answers import answer_rows
from tests.personas import World, signed_in

TODAY = date(2026, 11, 2)
SMALL = Sizes(agencies=8, schools=40, early_years=40)


def test_the_same_seed_makes_the_same_plausible_county() -> None:
    first, again, other = county(SEED), county(SEED), county(SEED + 1)
    assert first == again and first != other
    assert Counter(o.kind for o in first) == {"agency": 40, "school": 350, "early-years": 1100}
    assert len({o.name for o in first}) == len(first)  # every name unique
    identified = [(o.identifier_scheme, o.identifier) for o in first if o.identifier]
    assert len(set(identified)) == len(identified)
    assert all(re.fullmatch(r"1[14]\d{4}", o.identifier) for o in first if o.kind == "school")
    assert all(re.fullmatch(r"EY\d{6}", o.identifier) for o in first if o.kind == "early-years")
    contacts = [o.contact for o in first if o.contact]
    assert all(c.contact_email.endswith(".example") for c in contacts)
    assert all(re.fullmatch(r"01632 960\d{3}", c.contact_phone) for c in contacts)
    assert 0.05 < sum(o.flagged for o in first) / len(first) < 0.2
    phases = Counter(o.phase for o in first if o.kind == "school")
    assert phases["primary"] > phases["secondary"] > 0


def test_a_seeded_county_passes_the_portals_own_checks(
    app: Starlette, clean_db: Engine, settings: Settings, world: World
) -> None:
    catalogue = load_catalogue(settings.questionnaires_dir)
    steps: list[str] = []
    with session_scope(clean_db, write=True) as db:  # the fixture's campaign is no one's last year
        fixture_campaign = db.get(Campaign, world.campaign_id)
        assert fixture_campaign is not None
        fixture_campaign.opens_on = date(2030, 1, 1)
        db.add(fixture_campaign)
    with clock.travel(TODAY), session_scope(clean_db, write=True) as db:
        counts, ids, campaign_ids = seed_county(
            db,
            catalogue,
            AuditContext.command_line(),
            TODAY,
            lambda what, _n: steps.append(what),
            county(SEED, SMALL),
        )
    assert counts.organisations == 88 and len(steps) == 7
    with session_scope(clean_db, write=False) as db:
        campaigns = [db.get(Campaign, i) for i in campaign_ids]
        assert [c.status for c in campaigns if c] == ["closed"] * 3 + ["open"] * 3
        statuses: Counter[str] = Counter()
        for campaign in campaigns:
            assert campaign is not None
            definition = catalogue.get(campaign.questionnaire_key, campaign.questionnaire_version)
            assert definition is not None
            returns = db.exec(select(Return).where(Return.campaign_id == campaign.id)).all()
            for ret in returns:
                statuses[ret.status] += 1
                org = db.get(Organisation, ret.organisation_id)
                assert org is not None
                submissions = db.exec(
                    select(Submission).where(Submission.return_id == ret.id)
                ).all()
                if ret.status in (ReturnStatus.NOT_STARTED, ReturnStatus.IN_PROGRESS):
                    assert submissions == []
                    continue
                [submission] = submissions
                readiness = assess_return(
                    definition, org, answers_of(db, ret.id or 0), actions_of(db, ret.id or 0)
                )
                assert readiness.ready, (org.name, readiness.problems[:3])
                assert submission.overall_rag == readiness.score.overall
                typed = db.exec(
                    select(SubmittedAnswer).where(SubmittedAnswer.submission_id == submission.id)
                ).all()
                assert sorted(
                    (t.item_id, t.rating, t.rag, t.less_effective) for t in typed
                ) == sorted(
                    (r.item_id, r.rating, r.rag, r.less_effective)
                    for r in answer_rows(submission.content)
                )
                follow_up = db.exec(select(FollowUp).where(FollowUp.return_id == ret.id)).first()
                if campaign.status == "closed":
                    assert (follow_up is not None) == bool(readiness.score.less_effective)
        assert set(statuses) == {s.value for s in ReturnStatus}  # every state is there
    with clock.travel(TODAY), TestClient(app) as client:
        signed_in(client, clean_db, world.people["scrutineer"])
        schools_now = campaign_ids[3]
        page = client.get(f"/campaigns/{schools_now}/report")
        assert page.status_code == 200
        last_year = campaigns[0]
        assert last_year is not None and last_year.title in page.text  # year on year
        assert "2022.1" in page.text  # across questionnaire versions
    assert ids  # organisations found again by name
