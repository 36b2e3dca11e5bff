"""Hostile input on every route: no 500, ever, and nothing changed when a request is refused.

For each route the portal serves, as someone allowed to use it, hypothesis sends hostile values
(Unicode digits, numbers beyond 64 bits, thousands of digits, over-long text, NUL, markup,
path tricks) in its path parameters, in every query parameter the web layer reads and in every
form field any page of the portal shows. A refused request (4xx) must leave no audit event
behind, and every change writes one, so nothing was stored.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.config import PROJECT_ROOT
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent
from tests.personas import World, add_action_and_submission, csrf_from, signed_in
from tests.routes import EXPECTED, add_challenges, fill

HOSTILE = [
    "",
    " ",
    "²",
    "١٢٣",
    "-1",
    "0",
    "1e309",
    "NaN",
    "99999999999999999999",
    "9" * 5000,
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    '" hx-get="/users" hx-trigger="load',
    '=HYPERLINK("http://x")',
    "../../etc/passwd",
    "%00",
    "é" * 300,
    "x" * 2001,
    "y" * 5001,
    "z" * 70_000,
    "2026-02-30",
    "31",
    "13",
    "na",
    "3",
    "yes",
    "admin",
    "s175.1.1",
]
hostile = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
# A URL longer than a few kilobytes is refused by the HTTP client before it is sent.
hostile_in_url = st.one_of(
    st.sampled_from([v for v in HOSTILE if len(v) < 2100]), st.text(max_size=40)
)
ID_VALUES = ["0", "1", "2147483647", "2147483648", "9999999999", "99999999999999999999"]


@cache
def query_parameter_names() -> tuple[str, ...]:
    """Every query parameter the web layer reads, from its source."""
    names: set[str] = set()
    for path in (PROJECT_ROOT / "audit_portal" / "web").glob("*.py"):
        text = Path(path).read_text()
        names |= set(re.findall(r"(?:query_params|\bq)\.get\(\s*\"([a-z_]+)\"", text))
        names |= set(re.findall(r"\bq\[\"([a-z_]+)\"\]", text))
    return tuple(sorted(names))


def form_field_names(
    app: Starlette, engine: Engine, world: World, challenges: dict | None = None
) -> tuple[str, ...]:
    """Every form field any page shows to an administrator or the signatory of organisation A."""
    names: set[str] = set()
    for persona in ("admin", "signatory_a"):
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
            signed_in(client, engine, world.people[persona])
            for method, path in EXPECTED:
                if method == "GET" and "{token}" not in path:
                    url = fill(
                        path,
                        world.org_a,
                        world.people["no_roles"].user_id,
                        world,
                        challenges=challenges,
                    )
                    html = client.get(url).text
                    names |= set(re.findall(r'\bname="([A-Za-z0-9_\-\.]+)"', html))
    return tuple(sorted(names - {"csrf_token"}))


_FIELD_NAMES: list[tuple[str, ...]] = []


def known_field_names(
    app: Starlette, engine: Engine, world: World, challenges: dict | None
) -> tuple[str, ...]:
    """``form_field_names``, gathered once: every test builds the same world, so the crawl of
    every page (two seconds a route) need not be repeated for each of the POST routes."""
    if not _FIELD_NAMES:
        _FIELD_NAMES.append(form_field_names(app, engine, world, challenges))
    return _FIELD_NAMES[0]


def persona_for(method: str, path: str) -> str | None:
    """Someone allowed to use the route (None: anonymous)."""
    expected = EXPECTED[(method, path)]
    if expected.anonymous:
        return None
    if "signatory" in expected.members:
        return "signatory_a"
    for persona in ("admin", "qa", "scrutineer", "respondent_a", "no_roles"):
        if persona in expected.allowed:
            return persona
    return "respondent_a"


@st.composite
def hostile_path(draw, path: str, valid: str) -> str:  # type: ignore[no-untyped-def]
    """The route's path with each parameter either its valid value or a hostile one."""
    valid_parts = valid.split("/")
    parts = []
    for template, good in zip(path.split("/"), valid_parts, strict=True):
        if "{" not in template or draw(st.booleans()):
            parts.append(good)
        elif ":id}" in template:
            parts.append(draw(st.sampled_from(ID_VALUES)) + template.split("}", 1)[1])
        else:
            parts.append(quote(draw(hostile_in_url), safe=""))
    return "/".join(parts)


def changes(engine: Engine) -> int:
    with session_scope(engine, write=False) as db:
        return db.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(~col(AuditEvent.action).startswith("security."))
        ).one()


ROUTES = sorted(EXPECTED)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_hostile_input_never_gives_a_500(
    method: str, path: str, app: Starlette, clean_db: Engine, world: World
) -> None:
    actions = add_action_and_submission(clean_db, world)
    challenges = add_challenges(clean_db, world, app.state.settings)
    fields = known_field_names(app, clean_db, world, challenges) if method != "GET" else ()
    valid = fill(path, world.org_a, world.people["no_roles"].user_id, world, actions, challenges)
    persona = persona_for(method, path)

    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        url=hostile_path(path, valid),
        query=st.dictionaries(st.sampled_from(query_parameter_names()), hostile_in_url, max_size=3),
        form=st.dictionaries(st.sampled_from(fields or ("unused",)), hostile, max_size=8),
    )
    def attempt(url: str, query: dict[str, str], form: dict[str, str]) -> None:
        before = changes(clean_db)
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
            if persona is None:
                token = csrf_from(client.get("/sign-in").text)
            else:
                token = signed_in(client, clean_db, world.people[persona])
            if method == "GET":
                response = client.get(url, params=query)
            else:
                response = client.request(
                    method, url, params=query, data={**form, "csrf_token": token}
                )
        sent = f"{method} {url[:200]} {str(query)[:300]} {str(form)[:300]}"
        assert response.status_code < 500, f"{sent}: {response.text[:300]}"
        if response.status_code >= 400:
            assert changes(clean_db) == before, f"{sent} was refused but changed data"

    attempt()
