"""The demo county: the same for the same seed, and its rows pass the portal's own checks.

A small county (the same code, fewer organisations) is seeded into the database under test and
read back through the portal's own readiness rule, typed-row rule and report page; with its
people, its dip samples and evidence challenges are read back as stored, from the disk and
through the pages.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections import Counter
from datetime import date

from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.challenges.files import storage_key
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.demo.challenges import REQUIRED_ACTION
from audit_portal.demo.county import Sizes, county
from audit_portal.demo.people import seed_demo
from audit_portal.demo.seed import SEED, seed_county
from audit_portal.models import (
    Action,
    Campaign,
    ChallengedItem,
    DipSample,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
    FollowUp,
    ItemOutcome,
    Membership,
    Organisation,
    OutboxEmail,
    Return,
    ReturnStatus,
    Role,
    SampledReturn,
    Submission,
    SubmittedAnswer,
    User,
)
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.returns.editing import actions_of, answers_of, assess_return
from audit_portal.returns.typed_answers import answer_rows
from tests.personas import Persona, World, signed_in

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


def _challenges(db: Session, campaign_id: int) -> list[tuple[EvidenceChallenge, Organisation]]:
    rows = db.exec(
        select(EvidenceChallenge, Organisation)
        .join(Organisation, col(Organisation.id) == EvidenceChallenge.organisation_id)
        .join(Return, col(Return.id) == EvidenceChallenge.return_id)
        .where(Return.campaign_id == campaign_id)
        .order_by(col(EvidenceChallenge.id))
    ).all()
    return [(c, o) for c, o in rows]


def _state(db: Session, challenge: EvidenceChallenge) -> str:
    """A challenge as the organisation would describe it."""
    items = db.exec(select(ChallengedItem).where(ChallengedItem.challenge_id == challenge.id)).all()
    with_files = db.exec(
        select(EvidencePiece.challenged_item_id).where(
            col(EvidencePiece.challenged_item_id).in_([i.id for i in items])
        )
    ).all()
    answered = [i for i in items if i.explanation and i.id in with_files]
    assert len(items) == 3
    if challenge.stage == "submitted":
        assert len(answered) == 3
        return "submitted"
    assert challenge.stage == "issued" and challenge.due_on is not None
    if challenge.due_on < TODAY:
        assert answered == []
        return "past due"
    return "evidence in draft" if answered else "not started"


def test_the_demo_has_samples_challenges_evidence_and_outcomes(
    app: Starlette, clean_db: Engine, settings: Settings, world: World
) -> None:
    catalogue = load_catalogue(settings.questionnaires_dir)
    with clock.travel(TODAY), session_scope(clean_db, write=True) as db:
        demo = seed_demo(db, settings, catalogue, TODAY, lambda _n: None, county(SEED, SMALL))
    assert demo.challenges == 9
    with session_scope(clean_db, write=False) as db:
        qa = db.exec(select(User).where(User.email == "qa@demo.example")).one()
        samples = db.exec(select(DipSample).order_by(col(DipSample.id))).all()
        campaigns = [db.get(Campaign, s.campaign_id) for s in samples]
        assert [c.status for c in campaigns if c] == ["closed", "open"]  # last year, this year
        assert all(c and c.title.startswith("Schools safeguarding audit") for c in campaigns)
        for sample in samples:
            assert (sample.method, sample.chosen_by, sample.chosen_by_name) == (
                "risk",
                qa.id,
                "Quinn Assurance",
            )
            sampled = db.exec(
                select(SampledReturn).where(SampledReturn.dip_sample_id == sample.id)
            ).all()
            assert len(sampled) == 12
        last_year, this_year = (_challenges(db, s.campaign_id) for s in samples)
        assert Counter(c.stage for c, _ in last_year) == {"reviewed": 5, "draft": 7}
        issued = [c for c, _ in this_year if c.stage != "draft"]
        assert sorted(_state(db, c) for c in issued) == [
            "evidence in draft", "not started", "past due", "submitted"
        ]  # fmt: skip

        outcomes = db.exec(select(ItemOutcome).order_by(col(ItemOutcome.id))).all()
        assert Counter(o.outcome for o in outcomes) == {
            "substantiated": 11, "partly_substantiated": 3, "not_substantiated": 1
        }  # fmt: skip
        assert all(o.reviewed_by == qa.id for o in outcomes)
        [refuted] = [o for o in outcomes if o.outcome == "not_substantiated"]
        assert (refuted.moderated_rating, refuted.moderated_rag) == ("1", "red")
        action = db.get(Action, refuted.action_id)
        assert action is not None and (action.what, action.source) == (REQUIRED_ACTION, "challenge")
        assert db.exec(select(FollowUp).where(FollowUp.return_id == action.return_id)).one()

        files = db.exec(
            select(EvidenceFile, Organisation).join(
                Organisation, col(Organisation.id) == EvidenceFile.organisation_id
            )
        ).all()
        assert len(files) == 3 * 5 + 3 + 1  # every item last year; four items this year
        for file, org in files:  # on the disk, as recorded, with real text
            data = (settings.upload_dir / "evidence" / storage_key(file.storage_key)).read_bytes()
            assert hashlib.sha256(data).hexdigest() == file.sha256 and len(data) == file.size
            text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
            assert org.name in text and "Evidence for the safeguarding audit" in text
            assert (file.kind, file.placeholder_reason) == ("pdf", "")
        pieces = db.exec(select(EvidencePiece).order_by(col(EvidencePiece.id))).all()
        by_file = {f.id: f for f, _ in files}

        to_qa = db.exec(select(OutboxEmail.subject).where(OutboxEmail.to_address == qa.email))
        assert sum(s.startswith("Evidence submitted: ") for s in to_qa) == 6  # 5 + 1
        reminders = db.exec(
            select(OutboxEmail.to_address).where(col(OutboxEmail.subject).contains("eminder"))
        ).all()
        assert "dsl@school.demo.example" in reminders
        dsl = db.exec(select(User).where(User.email == "dsl@school.demo.example")).one()
        school_id = db.exec(
            select(Membership.organisation_id).where(Membership.user_id == dsl.id)
        ).one()
        assert school_id is not None
        to_school = db.exec(
            select(OutboxEmail.subject).where(OutboxEmail.to_address == dsl.email)
        ).all()
        # the demo school's return of last year was sampled by hand, challenged and reviewed
        [school_challenge] = [c for c, o in last_year if o.id == school_id]
        assert school_challenge.stage == "reviewed" and school_challenge.submitted_by == dsl.id
        assert any(s.startswith("Evidence reviewed: ") for s in to_school)
        refuted_challenge = db.exec(
            select(ChallengedItem.challenge_id).where(
                ChallengedItem.id == refuted.challenged_item_id
            )
        ).one()

    with clock.travel(TODAY), TestClient(app) as client:
        signed_in(client, clean_db, world.people["qa"])
        for piece in pieces[:3]:  # the demo's downloads work
            download = client.get(f"/evidence/{piece.id}")
            assert download.status_code == 200
            assert (
                hashlib.sha256(download.content).hexdigest()
                == by_file[piece.evidence_file_id].sha256
            )
        review = html.unescape(client.get(f"/challenges/{refuted_challenge}/review").text)
        assert "Not substantiated" in review and REQUIRED_ACTION in review
    with clock.travel(TODAY), TestClient(app) as client:  # the demo respondent's home still works
        signed_in(
            client, clean_db, Persona("dsl", dsl.id or 0, dsl.email, Role.RESPONDENT, school_id)
        )
        dashboard = client.get("/dashboard")
        assert dashboard.status_code == 200 and "In progress" in dashboard.text


def test_year_on_year_across_questionnaire_versions_matches_an_independent_count(
    clean_db: Engine, settings: Settings, world: World
) -> None:
    """This year's schools campaign (2025.2) against last year's (2022.1): for every item asked
    in both under the same id, the change the report gives equals the change counted here
    from the typed answer rows of submitted and accepted returns."""
    from audit_portal.reports.campaign_report import campaign_report
    from audit_portal.reports.figures import Share, change_text, percentage_points
    from audit_portal.reports.queries import ReportFilters

    catalogue = load_catalogue(settings.questionnaires_dir)
    with session_scope(clean_db, write=True) as db:
        fixture_campaign = db.get(Campaign, world.campaign_id)
        assert fixture_campaign is not None
        fixture_campaign.opens_on = date(2030, 1, 1)  # no one's previous campaign
        db.add(fixture_campaign)
    with clock.travel(TODAY), session_scope(clean_db, write=True) as db:
        _, _, campaign_ids = seed_county(
            db, catalogue, AuditContext.command_line(), TODAY, lambda *_: None, county(SEED, SMALL)
        )

    def effective_shares(db, campaign_id: int) -> dict[str, Share]:  # type: ignore[no-untyped-def]
        rows = db.exec(
            select(SubmittedAnswer.item_id, SubmittedAnswer.rating, SubmittedAnswer.less_effective)
            .join(Return, Return.id == SubmittedAnswer.return_id)
            .where(
                SubmittedAnswer.campaign_id == campaign_id,
                Return.status.in_([ReturnStatus.SUBMITTED.value, ReturnStatus.ACCEPTED.value]),  # type: ignore[attr-defined]
            )
        ).all()
        counts: dict[str, list[int]] = {}
        for item_id, rating, less_effective in rows:
            if rating is None:
                continue
            answered = counts.setdefault(item_id, [0, 0])
            answered[0] += not less_effective
            answered[1] += 1
        return {k: Share(e, n) for k, (e, n) in counts.items()}

    with clock.travel(TODAY), session_scope(clean_db, write=False) as db:
        last, this = db.get(Campaign, campaign_ids[0]), db.get(Campaign, campaign_ids[3])
        assert last is not None and this is not None
        assert (last.questionnaire_version, this.questionnaire_version) == ("2022.1", "2025.2")
        report = campaign_report(db, catalogue, this, ReportFilters(), TODAY, threshold=1)
        before, now = effective_shares(db, saved(last)), effective_shares(db, saved(this))
    figures = report.year_on_year
    assert figures is not None and not figures.problem and figures.previous_version == "2022.1"
    same_id = [row for row in figures.compared if row.item_id == row.previous_item_id]
    assert len(same_id) > 20 and figures.new  # 2025 added items 2022 never asked
    assert sum(row.change.startswith(("Up", "Down")) for row in same_id) > 5
    for row in same_id:
        nothing = Share(0, 0)
        current, previous = now.get(row.item_id, nothing), before.get(row.item_id, nothing)
        expected = change_text(percentage_points(current, previous))
        assert row.change == expected, row.item_id


def saved(campaign: Campaign) -> int:
    assert campaign.id is not None
    return campaign.id
