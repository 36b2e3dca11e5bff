"""The portal as a real process on a scratch database, and what its tables hold afterwards.

Reliability tests start ``audit-portal serve`` exactly as an operator (and the benchmarks) do,
so a SIGKILL or a database outage hits the real server, its pool and its threads, not a test
client sharing the test's process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.dataset import Respondent
from bench.driver import COOKIE_NAME
from bench.servers import Running, free_port, portal_command, portal_environment, serving

# Fixed so a test can compute each session's CSRF token; used on scratch databases only.
SECRET_KEY = "reliability-tests-secret-key-0123456789abcdef"


@contextmanager
def portal(database_url: str, logs: Path, name: str, **settings: str) -> Iterator[Running]:
    """``audit-portal serve`` on a free port, answering /healthz; stopped afterwards.

    ``settings`` are more of the portal's settings (environment variables) for this process.
    """
    port = free_port()
    env = {
        **portal_environment(database_url, SECRET_KEY, logs / f"{name}-var", port),
        "EMBEDDED_WORKER": "false",  # nothing but the web server touches the database
        **settings,
    }
    with serving(name, portal_command(port), env, port, logs) as running:
        yield running


def client_for(running: Running, respondent: Respondent, timeout: float = 30.0) -> httpx.Client:
    """A signed-in browser of ``respondent``: its session cookie and CSRF token."""
    return httpx.Client(
        base_url=running.base_url,
        cookies={COOKIE_NAME: respondent.session_token},
        headers={"X-CSRF-Token": respondent.csrf_token},
        timeout=timeout,
    )


def answer_history(database_url: str) -> dict[tuple[int, str], list[Any]]:
    """(return id, item id) -> the value each ``answer.save`` audit event stored, in order."""
    query = text("SELECT object_id, new FROM audit_event WHERE action = 'answer.save' ORDER BY id")
    history: dict[tuple[int, str], list[Any]] = {}
    for object_id, new in _rows(database_url, query):
        return_id, item_id = object_id.split("/", 1)
        values = new if isinstance(new, dict) else json.loads(new)
        history.setdefault((int(return_id), item_id), []).append(values["value"])
    return history


def half_written(database_url: str) -> list[str]:
    """Every sign of a save that landed in part: an empty list when every change is whole.

    Each save writes the answer (version + 1) and its audit event in one transaction, so the
    number of events is the answer's version and the last event holds the stored value; and a
    return is "in progress" exactly when it has answers.
    """
    history = answer_history(database_url)
    answers = _rows(database_url, text("SELECT return_id, item_id, value, version FROM answer"))
    problems = []
    for return_id, item_id, value, version in answers:
        stored = (value if isinstance(value, dict) else json.loads(value)).get("v")
        events = history.get((return_id, item_id), [])
        if len(events) != version or (events and events[-1] != stored):
            problems.append(
                f"answer {return_id}/{item_id}: version {version} holding {stored!r}, "
                f"but {len(events)} saves recorded ending with {events[-1:]!r}"
            )
    statuses = _rows(
        database_url,
        text(
            "SELECT r.id, r.status, COUNT(a.id) FROM audit_return r "
            "LEFT JOIN answer a ON a.return_id = r.id GROUP BY r.id, r.status"
        ),
    )
    for return_id, status, count in statuses:
        if (status == "in_progress") != (count > 0):
            problems.append(f"return {return_id} is {status!r} with {count} answers")
    return problems


def _rows(database_url: str, query: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()
