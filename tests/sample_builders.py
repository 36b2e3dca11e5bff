"""A population of submitted returns for dip-sample tests, made directly in the database.

Twelve organisations with official identifiers (so their sampling keys are the same on every
database), each with a submitted return in the world's campaign, a frozen submission and its
typed answer rows; some with current intelligence, one with a superseded flag only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from audit_portal.db import session_scope
from audit_portal.models import (
    Campaign,
    IntelligenceFlag,
    Organisation,
    Return,
    Submission,
    saved_id,
    utcnow,
)
from audit_portal.returns.typed_answers import write_answer_rows
from tests.personas import World

# identifier, name, kind, phase, district, overall RAG, an item rated green without evidence
PEOPLE = [
    ("300001", "Ash Primary School", "school", "primary", "North", "green", False),
    ("300002", "Birch Academy", "school", "secondary", "North", "amber", False),
    ("300003", "Cedar Infant School", "school", "primary", "South", "green", True),
    ("300004", "Damson Nursery", "early-years", None, "South", "green", False),
    ("300005", "Elm High School", "school", "secondary", "East", "red", False),
    ("300006", "Fir Tree Pre-school", "early-years", None, "East", "green", True),
    ("300007", "Gorse Junior School", "school", "primary", "North", "amber", False),
    ("300008", "Hazel College", "school", "secondary", "South", "green", False),
    ("300009", "Ivy Day Nursery", "early-years", None, "North", "green", False),
    ("300010", "Juniper Community Health", "agency", None, "East", "amber", False),
    ("300011", "Kestrel Youth Service", "agency", None, "South", "green", True),
    ("300012", "Larch Primary School", "school", "primary", "East", "green", False),
]
# Current intelligence (identifier -> flag type, value, noted on).
FLAGGED = {
    "300005": ("ofsted-judgement", "Inadequate", date(2025, 6, 12)),
    "300008": ("safeguarding-concern", "", date(2025, 11, 3)),
    "300011": ("lado-referral", "", date(2026, 1, 20)),
}
SUPERSEDED_ONLY = "300002"  # had an Ofsted flag, since superseded: counts as no intelligence


@dataclass(frozen=True)
class Population:
    organisations: dict[str, int]  # identifier -> organisation id
    returns: dict[str, int]  # identifier -> return id
    submissions: dict[str, int]  # identifier -> latest submission id
    other_campaign_return: int  # a submitted return of another campaign


def _content(rag: str, green_without_evidence: bool) -> dict:
    evidence = "" if green_without_evidence else "Policy approved by governors"
    return {
        "answers": {
            "s175.1.1": {"value": 3, "not_applicable": False, "evidence": evidence},
            "s175.1.2": {"value": 3, "not_applicable": True, "evidence": ""},
        },
        "actions": [],
        "score": {"overall": rag, "items": {"s175.1.1": "green", "s175.1.2": None}},
    }


def _submit(db: Session, ret: Return, revision: int, rag: str, unevidenced: bool) -> Submission:
    submission = Submission(
        return_id=saved_id(ret),
        revision=revision,
        declaration_name="Head",
        declaration_role="Headteacher",
        declaration_date=date(2026, 2, 1),
        questionnaire_key="section-175-schools",
        questionnaire_version="2025.1",
        questionnaire_hash="0" * 64,
        overall_rag=rag,
        content=_content(rag, unevidenced),
    )
    db.add(submission)
    db.flush()
    write_answer_rows(db, ret, submission)
    return submission


def build_population(engine: Engine, world: World) -> Population:
    organisations, returns, submissions = {}, {}, {}
    with session_scope(engine, write=True) as db:
        for identifier, name, kind, phase, district, rag, unevidenced in PEOPLE:
            org = Organisation(
                name=name,
                duty_type="section-175-school" if kind == "school" else kind,
                kind=kind,
                identifier_scheme="urn",
                identifier=identifier,
                phase=phase,
                district=district,
            )
            db.add(org)
            db.flush()
            ret = Return(
                campaign_id=world.campaign_id,
                organisation_id=saved_id(org),
                status="accepted" if identifier == "300004" else "submitted",
                revision=2 if identifier == "300001" else 1,
            )
            db.add(ret)
            db.flush()
            if identifier == "300001":  # an earlier revision, red: the latest one counts
                _submit(db, ret, 1, "red", True)
            latest = _submit(db, ret, ret.revision, rag, unevidenced)
            organisations[identifier] = saved_id(org)
            returns[identifier] = saved_id(ret)
            submissions[identifier] = saved_id(latest)
            if identifier in FLAGGED:
                flag, value, noted_on = FLAGGED[identifier]
                db.add(
                    IntelligenceFlag(
                        organisation_id=saved_id(org),
                        flag=flag,
                        value=value,
                        source="Test",
                        noted_on=noted_on,
                    )
                )
            if identifier == SUPERSEDED_ONLY:
                db.add(
                    IntelligenceFlag(
                        organisation_id=saved_id(org),
                        flag="ofsted-judgement",
                        value="Inadequate",
                        source="Test",
                        noted_on=date(2022, 1, 1),
                        superseded_at=utcnow(),
                    )
                )
        other = Campaign(
            title="Agencies audit 2026",
            questionnaire_key="section-175-schools",
            questionnaire_version="2025.1",
            opens_on=date(2026, 1, 5),
            closes_on=date(2026, 3, 31),
            status="open",
        )
        db.add(other)
        db.flush()
        elsewhere = Return(
            campaign_id=saved_id(other),
            organisation_id=organisations["300001"],
            status="submitted",
        )
        db.add(elsewhere)
        db.flush()
        _submit(db, elsewhere, 1, "green", False)
        return Population(organisations, returns, submissions, saved_id(elsewhere))
