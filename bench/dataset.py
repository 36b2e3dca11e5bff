"""A throwaway database for one benchmark run, filled with signed-in respondents.

The data is written with bulk inserts straight into the portal's tables (through the models'
table objects), not through the portal's own code paths: a run of a few hundred schools is ready
in a second or two, and the benchmark keeps working while the code behind the pages changes.
Only the questionnaire lock goes through the portal's own function, because its content hash
must be exactly the one the portal checks on every save.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, insert, select, text
from sqlalchemy.engine.url import make_url
from sqlmodel import Session
from tqdm import tqdm

from audit_portal.audit import AuditContext
from audit_portal.models import (
    Answer,
    Campaign,
    Membership,
    Organisation,
    Return,
    User,
    WebSession,
)
from audit_portal.questionnaires import load_catalogue
from audit_portal.questionnaires.locks import lock_version
from audit_portal.web.csrf import token_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE_KEY = "section-175-schools"
QUESTIONNAIRE_VERSION = "2025.1"
BENCH_SECTIONS = ("s175.1", "s175.2", "s175.3")
DEFAULT_POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHUNK = 500  # rows per INSERT: small enough for SQLite's variable limit, big enough to be quick


@dataclass(frozen=True)
class Respondent:
    """One school's respondent, already signed in: all a client needs to autosave its return."""

    return_id: int
    session_token: str  # the cookie value; the database holds only its sha256
    csrf_token: str


@dataclass(frozen=True)
class Dataset:
    """The respondents of one run, in the order the phases take them, and the items they answer."""

    respondents: tuple[Respondent, ...]
    item_ids: tuple[str, ...]


class SetupFailed(RuntimeError):
    """The database could not be made ready; the message says what went wrong."""


# --- the database itself ------------------------------------------------------------------------


@contextmanager
def scratch_database(kind: str, admin_url: str = DEFAULT_POSTGRES_ADMIN_URL) -> Iterator[str]:
    """Yield the URL of a brand-new, empty database, and remove it afterwards whatever happens."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-autosave-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    with _postgres_database(admin_url) as url:
        yield url


@contextmanager
def _postgres_database(admin_url: str) -> Iterator[str]:
    name = f"bench_autosave_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as problem:
        admin.dispose()
        raise SetupFailed(
            f"Could not create a PostgreSQL database at {admin_url}: {problem}"
        ) from problem
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(database_url: str) -> None:
    """Create the schema exactly as an operator would: ``audit-portal migrate``."""
    command = [str(Path(sys.executable).parent / "audit-portal"), "migrate"]
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SetupFailed(f"`audit-portal migrate` failed:\n{done.stdout}{done.stderr}")


# --- what the respondents answer ----------------------------------------------------------------


def rating_items(questionnaires_dir: Path = PROJECT_ROOT / "questionnaires") -> tuple[str, ...]:
    """The rating items of the first three standards that apply to every school."""
    loaded = load_catalogue(questionnaires_dir).file_for(QUESTIONNAIRE_KEY, QUESTIONNAIRE_VERSION)
    if loaded is None or loaded.definition is None:
        raise SetupFailed(f"{QUESTIONNAIRE_KEY} {QUESTIONNAIRE_VERSION} is missing or invalid")
    return tuple(
        item.id
        for section in loaded.definition.sections
        if section.id in BENCH_SECTIONS
        for item in section.items
        if item.kind == "rating" and item.applies_to is None
    )


# --- the data -----------------------------------------------------------------------------------


def populate(
    database_url: str,
    schools: int,
    secret_key: str,
    questionnaires_dir: Path = PROJECT_ROOT / "questionnaires",
) -> Dataset:
    """One open campaign with a return, a respondent and a live session for each of ``schools``.

    ``questionnaires_dir`` is the folder the portal will read definitions from (the pages
    benchmark serves an enlarged copy): the lock must hold that file's content hash.
    """
    engine = create_engine(database_url)
    try:
        lock_questionnaire(engine, questionnaires_dir)
        with engine.begin() as conn, tqdm(total=5 * schools, desc="data", unit="row") as bar:
            campaign_id = _insert_campaign(conn)
            org_ids = _bulk(conn, _table(Organisation), _organisations(schools), bar)
            user_ids = _bulk(conn, _table(User), _users(schools), bar)
            memberships = [
                {"user_id": u, "organisation_id": o, "role": "respondent"}
                for u, o in zip(user_ids, org_ids, strict=True)
            ]
            _bulk(conn, _table(Membership), memberships, bar)
            returns = [{"campaign_id": campaign_id, "organisation_id": o} for o in org_ids]
            return_ids = _bulk(conn, _table(Return), returns, bar)
            respondents, sessions = _sessions(user_ids, return_ids, secret_key)
            _bulk(conn, _table(WebSession), sessions, bar, returning=False)
    finally:
        engine.dispose()
    return Dataset(tuple(respondents), rating_items())


def lock_questionnaire(
    engine: Engine, questionnaires_dir: Path = PROJECT_ROOT / "questionnaires"
) -> None:
    """Store the questionnaire's content hash, as opening a campaign does."""
    catalogue = load_catalogue(questionnaires_dir)
    with Session(engine) as db:
        lock_version(
            db,
            catalogue,
            QUESTIONNAIRE_KEY,
            QUESTIONNAIRE_VERSION,
            "Autosave benchmark",
            AuditContext.command_line(),
        )
        db.commit()


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _bulk(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    bar: tqdm,
    *,
    returning: bool = True,
) -> list[int]:
    """Insert ``rows`` in chunks; the new ids in the order of ``rows`` (when ``returning``)."""
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        if returning:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids.extend(conn.execute(statement, list(chunk)).scalars())
        else:
            conn.execute(insert(table), list(chunk))
        bar.update(len(chunk))
    return ids


def _insert_campaign(conn: Connection) -> int:
    today = date.today()
    table = _table(Campaign)
    row = {
        "title": "Schools safeguarding audit (benchmark)",
        "questionnaire_key": QUESTIONNAIRE_KEY,
        "questionnaire_version": QUESTIONNAIRE_VERSION,
        "opens_on": today - timedelta(days=30),
        "closes_on": today + timedelta(days=30),
        "status": "open",
        "selection": {},
        "opened_at": _now(),
    }
    campaign_id: int = conn.execute(insert(table).returning(table.c.id), [row]).scalar_one()
    return campaign_id


def _organisations(count: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"Benchmark Primary School {n + 1}",
            "duty_type": "section-175-school",
            "kind": "school",
            "phase": "primary",
            "identifier_scheme": "urn",
            "identifier": f"9{n:06d}",
            "district": "Benchmark",
            "features": [],
        }
        for n in range(count)
    ]


def _users(count: int) -> list[dict[str, Any]]:
    return [
        {
            "email": f"respondent{n + 1}@bench.example",
            "full_name": f"Respondent {n + 1}",
            "security_stamp": secrets.token_hex(16),
            "recovery_codes": [],
        }
        for n in range(count)
    ]


def _sessions(
    user_ids: Sequence[int], return_ids: Sequence[int], secret_key: str
) -> tuple[list[Respondent], list[dict[str, Any]]]:
    """A signed-in session per respondent, as the sign-in page would have left it."""
    respondents, rows, now = [], [], _now()
    for user_id, return_id in zip(user_ids, return_ids, strict=True):
        token, csrf_secret = secrets.token_urlsafe(32), secrets.token_hex(32)
        rows.append(
            {
                "id": hashlib.sha256(token.encode()).hexdigest(),
                "user_id": user_id,
                "csrf_secret": csrf_secret,
                "mfa_verified": True,
                "data": {},
                "created_at": now,
                "authenticated_at": now,
                "last_seen_at": now,
            }
        )
        respondents.append(Respondent(return_id, token, token_for(secret_key, csrf_secret)))
    return respondents, rows


def _now() -> datetime:
    return datetime.now(UTC)


# --- reading back what was stored ---------------------------------------------------------------


def stored_ratings(database_url: str, return_ids: Sequence[int]) -> dict[tuple[int, str], Any]:
    """The stored value of every answer of these returns: (return id, item id) -> rating."""
    table = _table(Answer)
    query = select(table.c.return_id, table.c.item_id, table.c.value).where(
        table.c.return_id.in_(list(return_ids))
    )
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {(r, i): (v or {}).get("v") for r, i, v in conn.execute(query)}
    finally:
        engine.dispose()
