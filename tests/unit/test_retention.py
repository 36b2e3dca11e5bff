"""`audit-portal retention` on a real database: a dry run changes nothing; a real run deletes and
anonymises exactly what the policy says, records one audit event, and leaves every report figure
as it was. Run on 1 June 2033 with the default policy (6 years, 2 years, 90 days, 365 days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import SQLModel, col, select

from audit_portal import clock
from audit_portal.accounts.users import set_active
from audit_portal.audit import AuditContext
from audit_portal.challenges.files import evidence_storage, storage_key
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    Action,
    Answer,
    AuditEvent,
    ChallengedItem,
    EvidenceFile,
    EvidencePiece,
    FollowUp,
    FollowUpUpdate,
    OutboxEmail,
    Return,
    SignInAttempt,
    User,
    WebSession,
    saved_id,
)
from tests.lifecycle_builders import (
    challenged_items,
    generated_campaign,
    move_closing,
    report_of,
    run_cli,
    store_evidence,
)
from tests.personas import World

RUN_ON = date(2033, 6, 1)  # the old campaign closed 31 March 2026: past 6 years on 31 March 2032
ADMIN = AuditContext(None, "admin@test.example")
NARRATIVE = "Jane Smith, our DSL, trained the staff"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


@dataclass(frozen=True)
class Setup:
    old_campaign: int  # closed 31 March 2026: past its time
    recent_campaign: int  # closed 31 March 2029: four years ago, kept
    old_file: int  # used only in the old campaign
    shared_file: int  # used in both
    recent_file: int
    old_items: list[int]  # challenged items of the old campaign, each with an explanation
    old_answers: list[int]  # answers with free text in the old campaign's returns
    blank_answer: int  # an answer in the old campaign with no free text
    open_answer: int  # an answer in the world's open campaign
    old_update: int  # a follow-up update in the old campaign
    gone_user: int  # disabled on 1 June 2026
    recently_disabled: int  # disabled on 1 December 2032


def populate(engine: Engine, settings: Settings, world: World) -> Setup:
    old = generated_campaign(engine, settings, seed=20330601)
    recent = generated_campaign(engine, settings, seed=20330602)
    move_closing(engine, recent.campaign_id, date(2029, 3, 31))
    with session_scope(engine, write=True) as db:
        old_items = challenged_items(db, old.campaign_id)
        recent_items = challenged_items(db, recent.campaign_id)
        for item in old_items + recent_items:
            item.explanation = f"Ask Jane Smith about item {item.item_id}"
            db.add(item)
        old_file = store_evidence(db, settings, old_items[:2], "Old register")
        shared = store_evidence(db, settings, [old_items[2], recent_items[0]], "Shared policy")
        recent_file = store_evidence(db, settings, recent_items[1:2], "Recent register")

        old_returns = db.exec(
            select(Return.id).where(Return.campaign_id == old.campaign_id).order_by(Return.id)
        ).all()
        answers = [
            Answer(return_id=r, item_id="s175.1.1", value={"v": 3}, narrative=NARRATIVE)
            for r in old_returns[:3]
        ]
        answers[1].narrative, answers[1].evidence = "", "Training log kept by Jane Smith"
        answers[2].narrative, answers[2].na_reason = "", "Jane Smith says it does not apply"
        blank = Answer(return_id=old_returns[3], item_id="s175.1.1", value={"v": 2})
        open_answer = Answer(
            return_id=world.returns[world.org_a], item_id="s175.1.1", narrative=NARRATIVE
        )
        db.add_all([*answers, blank, open_answer])
        action = Action(
            return_id=old_returns[0],
            item_id="s175.1.1",
            what="Train governors",
            owner="Jane Smith",
            target_date=date(2026, 9, 1),
        )
        follow_up = FollowUp(return_id=old_returns[0], due_on=date(2026, 9, 1))
        db.add_all([action, follow_up])
        db.flush()
        update = FollowUpUpdate(
            follow_up_id=saved_id(follow_up),
            action_id=saved_id(action),
            progress="complete",
            narrative="Jane Smith ran the session",
            evidence="Attendance list",
        )
        db.add(update)

        # Sign-in records, sessions and emails either side of the 90 and 365 day lines.
        db.add_all(
            [
                SignInAttempt(
                    account_key="a" * 64, address="192.0.2.1", attempted_at=at(date(2033, 2, 1))
                ),
                SignInAttempt(
                    account_key="b" * 64, address="192.0.2.2", attempted_at=at(date(2033, 5, 1))
                ),
                WebSession(id="1" * 64, csrf_secret="x", last_seen_at=at(date(2033, 1, 1))),
                WebSession(id="2" * 64, csrf_secret="y", last_seen_at=at(date(2033, 5, 30))),
                OutboxEmail(
                    to_address="old@test.example",
                    subject="Old",
                    status="sent",
                    created_at=at(date(2032, 5, 1)),
                ),
                OutboxEmail(
                    to_address="stuck@test.example",
                    subject="Stuck",
                    status="retry",
                    created_at=at(date(2032, 5, 1)),
                ),
                OutboxEmail(
                    to_address="new@test.example",
                    subject="New",
                    status="sent",
                    created_at=at(date(2032, 7, 1)),
                ),
            ]
        )
        db.flush()
        ids = {
            "old_file": saved_id(old_file),
            "shared_file": saved_id(shared),
            "recent_file": saved_id(recent_file),
            "old_items": [saved_id(i) for i in old_items],
            "old_answers": [saved_id(a) for a in answers],
            "blank_answer": saved_id(blank),
            "open_answer": saved_id(open_answer),
            "old_update": saved_id(update),
        }
    gone, recently = world.people["no_roles"].user_id, world.people["scrutineer"].user_id
    for user_id, day in ((gone, date(2026, 6, 1)), (recently, date(2032, 12, 1))):
        with clock.travel(day), session_scope(engine, write=True) as db:
            user = db.get(User, user_id)
            assert user is not None
            set_active(db, ADMIN, user, False)
    return Setup(
        old_campaign=old.campaign_id,
        recent_campaign=recent.campaign_id,
        gone_user=gone,
        recently_disabled=recently,
        **ids,  # type: ignore[arg-type]
    )


def everything(engine: Engine) -> dict[str, list[Any]]:
    """Every row of every table, for comparing before and after."""
    with engine.connect() as conn:
        return {
            table.name: sorted(map(repr, conn.execute(table.select()).all()))
            for table in SQLModel.metadata.sorted_tables
        }


def key_of(engine: Engine, file_id: int) -> str:
    with session_scope(engine, write=False) as db:
        file = db.get(EvidenceFile, file_id)
        assert file is not None
        return storage_key(file.storage_key)


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(
    clean_db: Engine,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = populate(clean_db, settings, world)
    keys = [key_of(clean_db, f) for f in (setup.old_file, setup.shared_file, setup.recent_file)]
    before = everything(clean_db)
    with clock.travel(RUN_ON):
        ran = run_cli(monkeypatch, capsys, settings, "retention", "--dry-run")
    assert ran.code == 0, ran.err
    assert everything(clean_db) == before
    assert all(evidence_storage(settings).exists(k) for k in keys)
    explanations = len(setup.old_items)
    lines = ran.out.splitlines()
    assert lines[0] == "Dry run: nothing is changed."
    assert (
        "  Generated (closed 31 March 2026): would clear the free text of 3 answers, "
        f"1 follow-up update and {explanations} evidence explanations"
    ) in lines
    assert "Would delete 1 evidence file" in ran.out
    assert "Would anonymise 1 account disabled for 2 years or more" in ran.out
    assert "Would delete 1 sign-in record and 1 browser session older than 90 days." in lines
    assert "Would delete 1 email written more than 365 days ago" in ran.out
    assert "audit trail (retention.run)" not in ran.out


def test_a_real_run_removes_exactly_what_the_policy_says_and_reports_stay_the_same(
    clean_db: Engine,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = populate(clean_db, settings, world)
    old_key, shared_key, recent_key = (
        key_of(clean_db, f) for f in (setup.old_file, setup.shared_file, setup.recent_file)
    )
    reports = {
        c: report_of(clean_db, settings, c) for c in (setup.old_campaign, setup.recent_campaign)
    }
    assert reports[setup.old_campaign].submitted > 0 and reports[setup.old_campaign].dip_samples
    before = everything(clean_db)
    with session_scope(clean_db, write=False) as db:
        trail = db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()

    with clock.travel(RUN_ON):
        ran = run_cli(monkeypatch, capsys, settings, "retention")
    assert ran.code == 0, ran.err
    assert "Deleted 1 evidence file" in ran.out
    assert "Recorded in the audit trail (retention.run)." in ran.out

    # Every figure of both reports is as it was.
    for campaign_id, report in reports.items():
        assert report_of(clean_db, settings, campaign_id) == report

    storage = evidence_storage(settings)
    assert not storage.exists(old_key)
    assert storage.exists(shared_key) and storage.exists(recent_key)
    with session_scope(clean_db, write=False) as db:
        files = set(db.exec(select(EvidenceFile.id)).all())
        assert files == {setup.shared_file, setup.recent_file}
        pieces = db.exec(select(EvidencePiece.evidence_file_id)).all()
        assert sorted(pieces) == sorted([setup.shared_file, setup.shared_file, setup.recent_file])

        for answer_id in setup.old_answers:
            answer = db.get(Answer, answer_id)
            assert answer is not None
            assert (answer.narrative, answer.evidence, answer.na_reason) == ("", "", "")
            assert answer.value == {"v": 3} and answer.version == 1  # the rating stays
        open_answer = db.get(Answer, setup.open_answer)
        assert open_answer is not None and open_answer.narrative == NARRATIVE
        update = db.get(FollowUpUpdate, setup.old_update)
        assert update is not None and (update.narrative, update.evidence) == ("", "")
        assert update.progress == "complete"
        explained = db.exec(
            select(ChallengedItem.id).where(col(ChallengedItem.explanation) != "")
        ).all()
        assert explained and not set(explained) & set(setup.old_items)

        gone = db.get(User, setup.gone_user)
        assert gone is not None
        assert gone.email == f"anonymised-{setup.gone_user}@anonymised.invalid"
        assert (gone.full_name, gone.password_hash, gone.is_active) == (
            "Anonymised account",
            None,
            False,
        )
        recently = db.get(User, setup.recently_disabled)
        assert recently is not None and recently.email == "scrutineer@test.example"
        active = db.exec(select(User.email).where(col(User.is_active).is_(True))).all()
        assert sorted(active) == sorted(
            p.email for p in world.people.values() if p.name not in {"no_roles", "scrutineer"}
        )

        assert db.exec(select(SignInAttempt.address)).all() == ["192.0.2.2"]
        assert db.exec(select(WebSession.id)).all() == ["2" * 64]
        emails = db.exec(select(OutboxEmail.to_address).order_by(OutboxEmail.to_address)).all()
        assert emails == ["new@test.example", "stuck@test.example"]

        # The trail is only added to: one event, with what was done.
        after = db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert [e.model_dump() for e in after[: len(trail)]] == [e.model_dump() for e in trail]
    (event,) = after[len(trail) :]
    assert event.action == "retention.run" and event.actor_label.startswith("cli:")
    assert event.new is not None
    assert event.new["counts"] == {
        "campaigns": 1,
        "evidence_files": 1,
        "answers": 3,
        "follow_up_updates": 1,
        "explanations": len(setup.old_items),
        "accounts": 1,
        "sign_in_attempts": 1,
        "sessions": 1,
        "emails": 1,
    }
    assert event.new["campaign_ids"] == [setup.old_campaign]
    assert event.new["evidence_file_ids"] == [setup.old_file]
    assert event.new["account_ids"] == [setup.gone_user]

    # Nothing else changed: every other table holds the same rows.
    changed = {
        *("answer", "follow_up_update", "challenged_item", "evidence_file", "evidence_piece"),
        *("user_account", "sign_in_attempt", "web_session", "outbox_email", "audit_event"),
    }
    now = everything(clean_db)
    assert {t: r for t, r in now.items() if t not in changed} == {
        t: r for t, r in before.items() if t not in changed
    }

    # Running again the same day finds nothing more, and says so (one more event).
    with clock.travel(RUN_ON):
        again = run_cli(monkeypatch, capsys, settings, "retention")
    assert again.code == 0
    assert "Nothing is past its time" in again.out
    with session_scope(clean_db, write=False) as db:
        runs = db.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "retention.run")
        ).one()
    assert runs == 2
