"""Backup and restore, as an operator runs them.

On SQLite: `audit-portal backup` of a populated database while a respondent keeps saving answers
through the domain code, then `audit-portal restore` into a fresh install. The restored database
passes SQLite's integrity check, holds every save committed before the backup started and no
half of a save, its evidence files are byte for byte the originals, and the campaign report
gives the same figures on both. A backup that no longer matches its manifest, a non-empty
target and a non-empty destination are refused with exit status 2.

On PostgreSQL: both commands refuse and print the pg_dump / pg_restore commands to run instead;
running exactly those commands restores a copy whose report gives the same figures.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine.url import make_url
from sqlmodel import col, select

from audit_portal.audit import AuditContext
from audit_portal.config import Settings
from audit_portal.db import create_db_engine, session_scope
from audit_portal.models import Answer, EvidenceFile, User, saved_id
from audit_portal.returns.answers import AnswerData
from audit_portal.returns.editing import lock_for_edit, save_answer
from tests.conftest import make_settings
from tests.lifecycle_builders import (
    challenged_items,
    generated_campaign,
    report_of,
    run_cli,
    store_evidence,
    stored_bytes,
)
from tests.personas import World
from tests.reliability.portal import answer_history

DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
on_sqlite = pytest.mark.skipif(DATABASE != "sqlite", reason="the SQLite backup and restore")
on_postgresql = pytest.mark.skipif(DATABASE != "postgresql", reason="pg_dump and pg_restore")
ITEMS = ("s175.1.1", "s175.1.2", "s175.2.1", "s175.2.2", "s175.3.1")
SAVES_AROUND = 10  # saves committed before the backup starts, and again after it ends


class Respondent(threading.Thread):
    """Saves ratings to one return, one committed transaction at a time, until stopped."""

    def __init__(self, engine: Engine, world: World) -> None:
        super().__init__(daemon=True)
        person = world.people["respondent_a"]
        self.engine, self.return_id = engine, world.returns[world.org_a]
        self.ctx = AuditContext(person.user_id, person.email)
        self.committed: dict[str, int] = {}  # item -> version, once its transaction committed
        self.saves = 0
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                item = ITEMS[self.saves % len(ITEMS)]
                with session_scope(self.engine, write=True) as db:
                    ret = lock_for_edit(db, self.return_id)
                    data = AnswerData(1 + self.saves % 3, narrative=f"save {self.saves}")
                    saved = save_answer(db, self.ctx, ret, item, data, self.committed.get(item))
                    assert saved.saved and saved.answer is not None
                    version = saved.answer.version
                with self.lock:  # after the commit: from here on the save is in the database
                    self.committed[item] = version
                    self.saves += 1
        except BaseException as exc:
            self.errors.append(exc)

    def snapshot(self) -> tuple[int, dict[str, int]]:
        with self.lock:
            return self.saves, dict(self.committed)

    def wait_for(self, saves: int) -> None:
        while self.snapshot()[0] < saves and self.is_alive():
            self.stop.wait(0.01)


def populate(engine: Engine, settings: Settings) -> tuple[int, list[int]]:
    """A generated campaign with challenges and three evidence files: (campaign, file ids)."""
    generated = generated_campaign(engine, settings, seed=11062026)
    with session_scope(engine, write=True) as db:
        items = challenged_items(db, generated.campaign_id)
        files = [
            store_evidence(db, settings, items[n : n + 1], f"Training register {n}")
            for n in range(3)
        ]
        return generated.campaign_id, [saved_id(f) for f in files]


def fresh_install(tmp_path: Path, name: str = "fresh") -> Settings:
    var = tmp_path / name
    return make_settings(f"sqlite:///{var / 'audit-portal.sqlite3'}", var)


@on_sqlite
def test_a_backup_taken_while_answers_are_saved_restores_everything_committed_before_it(
    clean_db: Engine,
    world: World,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    campaign_id, file_ids = populate(clean_db, settings)
    backup = tmp_path / "backup"
    respondent = Respondent(clean_db, world)
    respondent.start()
    try:
        respondent.wait_for(SAVES_AROUND)
        saves_before, committed_before = respondent.snapshot()
        made = run_cli(monkeypatch, capsys, settings, "backup", str(backup))
        saves_after_backup = respondent.snapshot()[0]
        respondent.wait_for(saves_after_backup + SAVES_AROUND)
    finally:
        respondent.stop.set()
        respondent.join(timeout=30)
    assert respondent.errors == []
    assert made.code == 0, made.err
    assert saves_after_backup > saves_before, "the respondent kept saving through the backup"
    assert "Copying the database" in made.out and "Backed up to" in made.out

    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["schema_revision"] and manifest["counts"]["evidence_file"] == 3
    assert os.stat(backup).st_mode & 0o077 == 0, "a backup is private to the portal's user"

    target = fresh_install(tmp_path)
    restored = run_cli(monkeypatch, capsys, target, "restore", str(backup))
    assert restored.code == 0, restored.err
    assert "every count as in the manifest" in restored.out

    with closing(sqlite3.connect(target.database_url.removeprefix("sqlite:///"))) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    engine = create_db_engine(target)
    try:
        with session_scope(engine, write=False) as db:
            stored = {
                a.item_id: a.version
                for a in db.exec(
                    select(Answer).where(Answer.return_id == world.returns[world.org_a])
                )
            }
            files = db.exec(select(EvidenceFile).where(col(EvidenceFile.id).in_(file_ids))).all()
            assert len(db.exec(select(User)).all()) == len(world.people)
        for item, version in committed_before.items():
            assert stored.get(item, 0) >= version, f"{item}: committed before the backup, lost"
        # A whole snapshot: each answer's version is the number of its save events (the answer
        # and its event commit together), so no save is in the copy by half.
        history = answer_history(target.database_url)
        for item, version in stored.items():
            assert len(history[(world.returns[world.org_a], item)]) == version, item
        assert sum(stored.values()) >= saves_before

        assert len(files) == 3
        with session_scope(clean_db, write=False) as db:
            originals = {f.id: f for f in db.exec(select(EvidenceFile))}
        for file in files:
            assert stored_bytes(target, file) == stored_bytes(settings, originals[file.id])

        assert report_of(engine, target, campaign_id) == report_of(clean_db, settings, campaign_id)
    finally:
        engine.dispose()


@on_sqlite
def test_restore_refuses_a_damaged_backup_or_an_install_with_data(
    clean_db: Engine,
    world: World,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    campaign_id, _ = populate(clean_db, settings)
    backup = tmp_path / "backup"
    assert run_cli(monkeypatch, capsys, settings, "backup", str(backup)).code == 0
    again = run_cli(monkeypatch, capsys, settings, "backup", str(backup))
    assert again.code == 2
    assert "already exists and is not empty: name a new directory" in again.err

    # One changed byte in an evidence file: refused before anything is written.
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    evidence = sorted(p for p in (damaged / "evidence").rglob("*") if p.is_file())[0]
    evidence.write_bytes(evidence.read_bytes()[:-1] + b"?")
    target = fresh_install(tmp_path)
    refused = run_cli(monkeypatch, capsys, target, "restore", str(damaged))
    assert refused.code == 2
    assert "does not match its manifest, nothing was restored" in refused.err
    assert "does not match its checksum" in refused.err
    assert not Path(target.database_url.removeprefix("sqlite:///")).exists()
    assert not (target.upload_dir / "evidence").exists()

    # Into a migrated, empty install: fine. A second time: that install now has data.
    target.var_dir.mkdir()
    assert run_cli(monkeypatch, capsys, target, "migrate").code == 0
    assert run_cli(monkeypatch, capsys, target, "restore", str(backup)).code == 0
    twice = run_cli(monkeypatch, capsys, target, "restore", str(backup))
    assert twice.code == 2
    assert "The target install is not empty" in twice.err and "--force" in twice.err
    forced = run_cli(monkeypatch, capsys, target, "restore", str(backup), "--force")
    assert forced.code == 0, forced.err
    engine = create_db_engine(target)
    try:
        assert report_of(engine, target, campaign_id) == report_of(clean_db, settings, campaign_id)
    finally:
        engine.dispose()


@on_postgresql
def test_on_postgresql_the_printed_pg_dump_and_pg_restore_commands_make_a_working_copy(
    clean_db: Engine,
    world: World,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("PostgreSQL's client programs (pg_dump, pg_restore) are not installed")
    campaign_id, file_ids = populate(clean_db, settings)
    backup = tmp_path / "backup"
    told = run_cli(monkeypatch, capsys, settings, "backup", str(backup))
    assert told.code == 2
    assert "runs on PostgreSQL" in told.err and "pg_dump --format=custom" in told.err

    copy_url = make_url(settings.database_url).set(
        database=f"{make_url(settings.database_url).database}_copy"
    )
    target = make_settings(copy_url.render_as_string(hide_password=False), tmp_path / "fresh")
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    try:
        for command in _commands(told.err):
            _shell(command)
        restoring = run_cli(monkeypatch, capsys, target, "restore", str(backup))
        assert restoring.code == 2 and "pg_restore --no-owner" in restoring.err
        for command in _commands(restoring.err):
            _shell(command)
        engine = create_db_engine(target)
        try:
            assert report_of(engine, target, campaign_id) == report_of(
                clean_db, settings, campaign_id
            )
            with session_scope(engine, write=False) as db:
                files = db.exec(
                    select(EvidenceFile).where(col(EvidenceFile.id).in_(file_ids))
                ).all()
            assert len(files) == 3
            with session_scope(clean_db, write=False) as db:
                originals = {f.id: f for f in db.exec(select(EvidenceFile))}
            for file in files:
                assert stored_bytes(target, file) == stored_bytes(settings, originals[file.id])
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{copy_url.database}" WITH (FORCE)'))
        admin.dispose()


def _commands(printed: str) -> list[str]:
    return [line.strip() for line in printed.splitlines() if line.startswith("  ")]


def _shell(command: str) -> None:
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)  # noqa: S602 - the commands the portal printed for the operator
    assert done.returncode == 0, f"{command}\n{done.stderr}"
