"""Campaigns and answers in a real database: invitations, concurrent saves, frozen returns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.campaigns import invitation_list, open_campaign
from audit_portal.config import PROJECT_ROOT, Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    Answer,
    AuditEvent,
    Campaign,
    Organisation,
    Return,
    ReturnStatus,
    as_utc,
)
from audit_portal.organisations import note_intelligence
from audit_portal.questionnaires import load_catalogue
from audit_portal.returns.answers import AnswerData, ParsedAnswer
from audit_portal.returns.editing import ReturnError, lock_for_save, save_answer, save_answers
from tests.personas import World

CATALOGUE = load_catalogue(PROJECT_ROOT / "questionnaires")
SCHOOLS = CATALOGUE.get("section-175-schools", "2025.1")
ALICE = AuditContext(None, "alice@test.example")  # actors for invitations and campaigns


def people(world: World) -> tuple[AuditContext, AuditContext]:
    """Two colleagues at organisation A editing the same return."""
    a, b = world.people["respondent_a"], world.people["signatory_a"]
    return AuditContext(a.user_id, "alice@test.example"), AuditContext(
        b.user_id, "bob@test.example"
    )


def new_campaign(db, **selection) -> Campaign:  # type: ignore[no-untyped-def]
    campaign = Campaign(
        title="Schools 2026",
        questionnaire_key="section-175-schools",
        questionnaire_version="2025.1",
        opens_on=date(2026, 1, 5),
        closes_on=date(2026, 3, 31),
        selection=selection,
    )
    db.add(campaign)
    db.flush()
    return campaign


def test_invitation_list_follows_audience_and_selection(clean_db: Engine, world: World) -> None:
    with session_scope(clean_db, write=True) as db:
        db.add(
            Organisation(
                name="Constabulary", duty_type="section-11-agency", kind="agency", sector="police"
            )
        )
        db.flush()
        names = lambda **s: [o.name for o in invitation_list(db, SCHOOLS, s)]  # noqa: E731
        assert names() == ["Alpha Primary School", "Beta Academy"], (
            "agencies are not in a school audience"
        )
        assert names(phases=["secondary"]) == ["Beta Academy"]
        assert names(districts=["North"]) == ["Alpha Primary School"]
        assert names(organisation_ids=[world.org_b]) == ["Beta Academy"]
        assert names(flags=["safeguarding-concern"]) == []
        note_intelligence(
            db,
            ALICE,
            world.org_a,
            flag="safeguarding-concern",
            value="",
            source="QA",
            noted_on=date(2026, 1, 1),
        )
        assert names(flags=["safeguarding-concern"]) == ["Alpha Primary School"]


def test_opening_creates_one_return_per_organisation_once(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    with session_scope(clean_db, write=True) as db:
        campaign = new_campaign(db)
        assert open_campaign(db, settings, ALICE, CATALOGUE, campaign.id).returns_created == 2
        again = open_campaign(db, settings, ALICE, CATALOGUE, campaign.id)
        assert again.returns_created == 0, "opening again never duplicates"
        assert campaign.status == "open"
        assert {
            r.status for r in db.exec(select(Return).where(Return.campaign_id == campaign.id)).all()
        } == {"not_started"}


def setup_return(engine: Engine, world: World, settings: Settings) -> tuple[int, int]:
    with session_scope(engine, write=True) as db:
        campaign = new_campaign(db, organisation_ids=[world.org_a])
        open_campaign(db, settings, ALICE, CATALOGUE, campaign.id)
        ret = db.exec(select(Return).where(Return.campaign_id == campaign.id)).one()
        return campaign.id, ret.id


def save(
    engine: Engine, ctx: AuditContext, ids: tuple[int, int], data: AnswerData, based_on: int | None
):  # type: ignore[no-untyped-def]
    with session_scope(engine, write=True) as db:
        ret = lock_for_save(db, ids[1])
        if ret.problem:
            raise ReturnError(ret.problem)
        return save_answer(db, ctx, ret, "s175.1.1", data, based_on)


def test_a_conflicting_save_is_refused_with_the_newer_answer(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    ids = setup_return(clean_db, world, settings)
    alice, bob_ctx = people(world)
    first = save(clean_db, alice, ids, AnswerData(3, narrative="Alice"), None)
    assert first.saved and first.answer.version == 1
    bob = save(clean_db, bob_ctx, ids, AnswerData(2, narrative="Bob"), based_on=1)
    assert bob.saved and bob.answer.version == 2
    late_alice = save(clean_db, alice, ids, AnswerData(1, narrative="Alice again"), based_on=1)
    assert not late_alice.saved and late_alice.conflict
    assert late_alice.answer.narrative == "Bob" and late_alice.answer.version == 2
    retry = save(clean_db, bob_ctx, ids, AnswerData(2, narrative="Bob"), based_on=1)
    assert retry.saved, "the same answer sent twice is not a conflict"
    with session_scope(clean_db, write=False) as db:
        assert db.get(Return, ids[1]).status == "in_progress"
        saves = db.exec(select(AuditEvent).where(AuditEvent.action == "answer.save")).all()
        assert [e.actor_label for e in saves] == ["alice@test.example", "bob@test.example"]


def test_frozen_and_closed_returns_refuse_changes(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    ids = setup_return(clean_db, world, settings)
    with session_scope(clean_db, write=True) as db:
        db.get(Return, ids[1]).status = ReturnStatus.SUBMITTED.value
    with pytest.raises(ReturnError, match="frozen record"):
        save(clean_db, ALICE, ids, AnswerData(3), None)
    with session_scope(clean_db, write=True) as db:
        db.get(Return, ids[1]).status = ReturnStatus.IN_PROGRESS.value
        db.get(Campaign, ids[0]).status = "closed"
    with pytest.raises(ReturnError, match="campaign has closed"):
        save(clean_db, ALICE, ids, AnswerData(3), None)


def _race(
    engine: Engine, ids: tuple[int, int], ctx: AuditContext, based_on: int | None, n: int = 6
) -> list:  # type: ignore[type-arg]
    """n colleagues save different answers to the same item at the same moment."""
    import threading

    results, errors = [], []
    barrier = threading.Barrier(n)

    def one(k: int) -> None:
        try:
            barrier.wait()
            results.append(
                save(engine, ctx, ids, AnswerData(3, narrative=f"colleague {k}"), based_on)
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors
    return results


def test_simultaneous_first_saves_never_fail_and_never_overwrite(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    ids = setup_return(clean_db, world, settings)
    alice, _ = people(world)
    results = _race(clean_db, ids, alice, based_on=None)
    assert sum(r.saved for r in results) == 1 and sum(r.conflict for r in results) == 5


def test_simultaneous_updates_of_one_version_let_exactly_one_through(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    ids = setup_return(clean_db, world, settings)
    alice, _ = people(world)
    save(clean_db, alice, ids, AnswerData(1), None)
    results = _race(clean_db, ids, alice, based_on=1)
    assert sum(r.saved for r in results) == 1 and sum(r.conflict for r in results) == 5
    with session_scope(clean_db, write=False) as db:
        from audit_portal.models import Answer

        assert db.exec(select(Answer)).one().version == 2


def test_colleagues_saving_different_items_in_opposite_orders_queue_not_deadlock(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    """A 'Save and continue' (many items) racing a colleague's saves of the same items in
    another order: on PostgreSQL this deadlocked until every writer locked the return first."""
    import threading
    import time

    ids = setup_return(clean_db, world, settings)
    alice, bob = people(world)
    items = ["s175.1.1", "s175.1.2", "s175.1.5", "s175.1.6"]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def section_save(ctx: AuditContext, order: list[str]) -> None:
        try:
            barrier.wait()
            with session_scope(clean_db, write=True) as db:
                ret = lock_for_save(db, ids[1])
                for item_id in order:
                    save_answer(
                        db,
                        ctx,
                        ret,
                        item_id,
                        AnswerData(3, narrative=ctx.actor_label),
                        None,
                    )
                    time.sleep(0.05)  # hold the locks long enough to interleave
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=section_save, args=(alice, items)),
        threading.Thread(target=section_save, args=(bob, items[::-1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], errors
    with session_scope(clean_db, write=False) as db:
        from audit_portal.models import Answer

        saved = db.exec(select(Answer).where(Answer.return_id == ids[1])).all()
    assert len(saved) == 4 and all(a.version == 1 for a in saved), (
        "one writer created each; the other saw conflicts"
    )


def test_a_save_keeps_the_sessions_own_copies_current_with_nothing_left_to_flush(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    """The save writes the answer and the return with plain UPDATEs: a page that loaded the
    return or the answer in the same session sees the saved values, and the session holds no
    change of its own that it would write again (or over a colleague's) at commit."""
    ids = setup_return(clean_db, world, settings)
    alice, _ = people(world)
    with session_scope(clean_db, write=True) as db:
        page_return = db.get(Return, ids[1])
        assert page_return is not None and page_return.status == "not_started"
        first = {"s175.1.1": ParsedAnswer(AnswerData(3, narrative="first"))}
        save_answers(db, alice, ids[1], first, {"s175.1.1": None})
        assert page_return.status == "in_progress"
        assert not db.dirty and not db.new
    with session_scope(clean_db, write=True) as db:
        page_answer = db.exec(select(Answer).where(Answer.return_id == ids[1])).one()
        second = {"s175.1.1": ParsedAnswer(AnswerData(1, narrative="second"))}
        outcome = save_answers(db, alice, ids[1], second, {"s175.1.1": 1})
        assert outcome.saved["s175.1.1"] is page_answer
        assert (page_answer.narrative, page_answer.version) == ("second", 2)
        assert not db.dirty and not db.new
    with session_scope(clean_db, write=False) as db:
        stored = db.exec(select(Answer).where(Answer.return_id == ids[1])).one()
        assert (stored.value, stored.narrative, stored.version) == ({"v": 1}, "second", 2)
        assert db.get(Return, ids[1]).status == "in_progress"


def test_the_returns_updated_time_is_kept_to_the_minute(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    """Autosaves within a minute of the return's last change leave its row alone (a statement
    less per save); the first save, which starts the return, and a save a minute on write it."""
    ids = setup_return(clean_db, world, settings)
    alice, _ = people(world)
    start = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)

    def saved_at(moment: datetime, rating: int, based_on: int | None) -> datetime:
        with clock.travel(moment):
            save(clean_db, alice, ids, AnswerData(rating), based_on)
        with session_scope(clean_db, write=False) as db:
            stored = db.get(Return, ids[1])
            assert stored is not None and stored.status == "in_progress"
            return as_utc(stored.updated_at)

    def near(a: datetime, b: datetime) -> bool:
        return abs(a - b) < timedelta(seconds=5)

    assert near(saved_at(start, 3, None), start), "the first save starts the return"
    assert near(saved_at(start + timedelta(seconds=40), 2, 1), start), "within the minute"
    later = start + timedelta(seconds=70)
    assert near(saved_at(later, 1, 2), later), "a minute on, the time moves"
