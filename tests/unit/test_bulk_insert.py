"""bulk_insert stores exactly what an INSERT of the same rows stores, on either database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, Table, insert
from sqlmodel import col, select

from audit_portal import clock
from audit_portal.db import bulk_insert, session_scope
from audit_portal.models import Organisation

TABLE: Table = Organisation.__table__  # type: ignore[attr-defined]


def rows(prefix: str) -> list[dict]:
    return [
        {
            "name": f"{prefix} {n} <b>O'Brien</b> \\ tab\there",  # COPY's escapes
            "duty_type": "section-175",
            "kind": "school",
            "phase": None if n % 2 else "primary",
            "features": ["direct-services-to-children", 'multi "quoted"'] if n % 3 else [],
            "opened_on": date(2020, 1, n + 1),
        }
        for n in range(5)
    ]


def stored(engine: Engine, prefix: str) -> list[tuple]:
    with session_scope(engine, write=False) as db:
        found = db.exec(
            select(Organisation)
            .where(col(Organisation.name).startswith(prefix))
            .order_by(col(Organisation.id))
        ).all()
        return [
            (
                o.name.removeprefix(prefix),
                o.phase,
                o.features,
                o.opened_on,
                o.status,
                o.created_at.replace(tzinfo=None, second=0, microsecond=0),
            )
            for o in found
        ]


def test_bulk_insert_stores_what_an_insert_stores(clean_db: Engine) -> None:
    moment = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with clock.travel(moment), session_scope(clean_db, write=True) as db:
        db.connection().execute(insert(TABLE), rows("inserted"))
        bulk_insert(db.connection(), TABLE, rows("bulk"))
    copied, inserted = stored(clean_db, "bulk"), stored(clean_db, "inserted")
    assert len(copied) == 5
    assert copied == inserted
    assert copied[1][2] == ["direct-services-to-children", 'multi "quoted"']
    assert copied[0][4] == "active"  # a Python-side default filled in
    assert copied[0][5] == datetime(2026, 3, 1, 9, 30)


def test_bulk_insert_of_nothing_does_nothing(clean_db: Engine) -> None:
    with session_scope(clean_db, write=True) as db:
        bulk_insert(db.connection(), TABLE, [])
        assert db.exec(select(Organisation)).all() == []
