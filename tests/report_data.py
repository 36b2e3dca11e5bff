"""Generated returns for report tests: a campaign of submissions with a known answer for every
organisation and item, and the independent count the report's figures are checked against."""

from __future__ import annotations

import html
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    Campaign,
    IntelligenceFlag,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
)
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.figures import SUBMITTED
from audit_portal.returns.typed_answers import write_answer_rows

STATUSES = list(ReturnStatus)


@dataclass
class Generated:
    campaign_id: int
    orgs: dict[int, dict[str, str]]  # id -> kind, district, flag
    status: dict[int, ReturnStatus]
    latest: dict[int, dict[str, int | None]]  # org id -> item -> rating (None: N/A)


def definition(settings: Settings) -> Definition:
    found = load_catalogue(settings.questionnaires_dir).get("section-175-schools", "2025.1")
    assert found is not None
    return found


def generate(engine: Engine, d: Definition, seed: int) -> Generated:
    chance = random.Random(seed)
    ratings = [i for i in d.items() if i.kind == "rating"][:12]
    scale = d.rating_scale
    less = {p.value for p in scale.points if p.less_effective}
    rag = {p.value: p.rag for p in scale.points}
    out = Generated(0, {}, {}, {})
    with session_scope(engine, write=True) as db:
        campaign = Campaign(
            title="Generated",
            questionnaire_key=d.key,
            questionnaire_version=d.version,
            opens_on=date(2026, 1, 5),
            closes_on=date(2026, 3, 31),
            status="closed",
        )
        db.add(campaign)
        db.flush()
        out.campaign_id = campaign.id  # type: ignore[assignment]
        for n in range(30):
            district = chance.choice(["North", "South", ""])
            org = Organisation(
                name=f"School {n}",
                duty_type="section-175-school",
                kind=chance.choice(["school", "early-years"]),
                district=district,
            )
            db.add(org)
            db.flush()
            flag = chance.choice(["", "safeguarding-concern"])
            if flag:
                db.add(_flag(org.id, flag))  # type: ignore[arg-type]
            elif chance.random() < 0.3:  # superseded: no longer counts
                db.add(_flag(org.id, "safeguarding-concern", superseded=True))  # type: ignore[arg-type]
            status = chance.choice(STATUSES)
            ret = Return(campaign_id=campaign.id, organisation_id=org.id, status=status.value)  # type: ignore[arg-type]
            db.add(ret)
            db.flush()
            out.orgs[org.id] = {"kind": org.kind, "district": district, "flag": flag}  # type: ignore[index]
            out.status[org.id] = status  # type: ignore[index]
            revisions = 0 if status is ReturnStatus.NOT_STARTED else chance.randint(1, 2)
            for revision in range(1, revisions + 1):
                given = {
                    i.id: (None if chance.random() < 0.1 else chance.choice(scale.points).value)
                    for i in ratings
                }
                content = {
                    "answers": {
                        k: {"value": v, "not_applicable": v is None} for k, v in given.items()
                    },
                    "score": {
                        "items": {
                            k: rag.get(v) if v is not None else None for k, v in given.items()
                        },
                        "less_effective": [k for k, v in given.items() if v in less],
                    },
                }
                submission = Submission(
                    return_id=ret.id,  # type: ignore[arg-type]
                    revision=revision,
                    declaration_name="A Head",
                    declaration_role="Head",
                    declaration_date=date(2026, 3, 1),
                    questionnaire_key=d.key,
                    questionnaire_version=d.version,
                    questionnaire_hash="0" * 64,
                    content=content,
                )
                db.add(submission)
                db.flush()
                write_answer_rows(db, ret, submission)
                out.latest[org.id] = given  # type: ignore[index]
    return out


def _flag(org_id: int, flag: str, superseded: bool = False) -> IntelligenceFlag:
    return IntelligenceFlag(
        organisation_id=org_id,
        flag=flag,
        source="Test",
        noted_on=date(2025, 6, 1),
        superseded_at=datetime(2025, 9, 1, tzinfo=UTC) if superseded else None,
    )


def expected_figures(
    g: Generated, d: Definition, keep: set[int]
) -> dict[str, tuple[int, int, Counter[int], int, int]]:
    less = {p.value for p in d.rating_scale.points if p.less_effective}
    counted = [o for o in keep if g.status[o] in SUBMITTED]
    out: dict[str, tuple[int, int, Counter[int], int, int]] = {}
    per_item: dict[str, list[int | None]] = defaultdict(list)
    for org in counted:
        for item, value in g.latest[org].items():
            per_item[item].append(value)
    for item in (i.id for i in d.items() if i.kind == "rating"):
        values = per_item.get(item, [])
        rated = [v for v in values if v is not None]
        out[item] = (
            len(values),
            len(values) - len(rated),
            Counter(rated),
            sum(v not in less for v in rated),
            sum(v in less for v in rated),
        )
    return out


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The cells' text of each body row of one table (header cells included)."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert found, f"no table {table_id}"
    body = found.group(0).split("<tbody", 1)[1]
    rows = []
    for row in re.findall(r"<tr.*?</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows
