"""Write the demo county: bulk inserts of the same rows the portal's own code writes.

A county has about 1,500 organisations and 3,000 returns, so rows go in with one multi-row
insert per table and batch, not through the per-request code (which would take minutes). What
the rows mean is the same: submissions carry the content a signed return carries, scored by
``scoring.score``; typed answer rows come from ``typed_answers.answer_rows``; follow-ups are
due six months after signing. Accounts and the questionnaire locks go through the real code.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, SQLModel, col, select

from audit_portal.audit import AuditContext
from audit_portal.db import bulk_insert
from audit_portal.demo.answers import DemoReturn, demo_return, weak_standards
from audit_portal.demo.county import LOCAL_AUTHORITY, DemoOrganisation, county
from audit_portal.followups.dates import follow_up_due
from audit_portal.followups.rules import FollowUpStage
from audit_portal.models import (
    Action,
    ActionStatus,
    Answer,
    Campaign,
    CampaignStatus,
    FollowUp,
    FollowUpReview,
    FollowUpSubmission,
    FollowUpUpdate,
    IntelligenceFlag,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    SubmittedAnswer,
)
from audit_portal.questionnaires import Catalogue
from audit_portal.questionnaires.locks import lock_version
from audit_portal.questionnaires.model import Definition
from audit_portal.returns.editing import profile_of
from audit_portal.returns.typed_answers import answer_rows
from audit_portal.scoring import Answer as Rated
from audit_portal.scoring import score

Progress = Callable[[str, int], object]  # (what was done, how many steps)
SEED = 2026


@dataclass(frozen=True)
class DemoCampaign:
    title: str
    questionnaire_key: str
    version: str
    duty_types: tuple[str, ...]
    this_year: bool


def campaigns_for(today: date) -> list[DemoCampaign]:
    """Last year's three campaigns, closed, and this year's three, open."""
    year = today.year if today.month >= 9 else today.year - 1
    last, this = f"{year - 1}-{str(year)[2:]}", f"{year}-{str(year + 1)[2:]}"
    schools, agencies = ("section-175-school", "section-157-school"), ("section-11-agency",)
    early = ("early-years-group", "childminder")
    return [
        DemoCampaign(f"Schools safeguarding audit {last}", "section-175-schools", "2022.1",
                     schools, False),
        DemoCampaign(f"Section 11 audit {last}", "section-11", "2025.1", agencies, False),
        DemoCampaign(f"Early years safeguarding audit {last}", "section-175-early-years", "2025.1",
                     early, False),
        DemoCampaign(f"Schools safeguarding audit {this}", "section-175-schools", "2025.2",
                     schools, True),
        DemoCampaign(f"Section 11 audit {this}", "section-11", "2025.2", agencies, True),
        DemoCampaign(f"Early years safeguarding audit {this}", "section-175-early-years", "2025.2",
                     early, True),
    ]  # fmt: skip


# This year's returns: (status, share); last year's nearly all came in.
THIS_YEAR = (
    (ReturnStatus.NOT_STARTED, 0.22),
    (ReturnStatus.IN_PROGRESS, 0.30),
    (ReturnStatus.SUBMITTED, 0.28),
    (ReturnStatus.RETURNED, 0.03),
    (ReturnStatus.ACCEPTED, 0.17),
)
LAST_YEAR = ((ReturnStatus.NOT_STARTED, 0.06), (ReturnStatus.ACCEPTED, 0.94))
FOLLOW_UP_STAGES = (
    (FollowUpStage.ACCEPTED, 0.5),
    (FollowUpStage.SUBMITTED, 0.15),
    (FollowUpStage.INFORMATION_REQUESTED, 0.05),
    (FollowUpStage.DRAFT, 0.1),
    (FollowUpStage.OPEN, 0.2),
)


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC)


def _bulk(db: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    table: Table = model.__table__  # type: ignore[attr-defined]
    bulk_insert(db.connection(), table, rows)


def _pick(rng: random.Random, shares: Iterable[tuple[Any, float]]) -> Any:
    options = list(shares)
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


@dataclass
class Seeded:
    organisations: int = 0
    returns: int = 0
    submissions: int = 0
    answers: int = 0
    follow_ups: int = 0


def seed_county(
    db: Session,
    catalogue: Catalogue,
    ctx: AuditContext,
    today: date,
    progress: Progress,
    organisations: list[DemoOrganisation] | None = None,
) -> tuple[Seeded, dict[str, int], list[int]]:
    """The county, its campaigns and returns; (counts, organisation ids by name, campaign ids)."""
    made = organisations if organisations is not None else county(SEED)
    counts = Seeded(organisations=len(made))
    ids = _organisations(db, made, today)
    progress("organisations", 1)
    campaign_ids = []
    for plan in campaigns_for(today):
        definition = lock_version(
            db, catalogue, plan.questionnaire_key, plan.version, plan.title, ctx
        )
        loaded = catalogue.file_for(plan.questionnaire_key, plan.version)
        assert loaded is not None and loaded.content_hash is not None
        invited = [o for o in made if o.duty_type in plan.duty_types]
        campaign_id = _campaign(db, plan, today)
        campaign_ids.append(campaign_id)
        _returns(
            db, plan, definition, loaded.content_hash, campaign_id, invited, ids, today, counts
        )
        progress(plan.title, 1)
    return counts, ids, campaign_ids


def _organisations(db: Session, made: list[DemoOrganisation], today: date) -> dict[str, int]:
    created = at(today - timedelta(days=500))
    rows = [
        {
            "name": o.name,
            "duty_type": o.duty_type,
            "kind": o.kind,
            "sector": o.sector,
            "identifier_scheme": o.identifier_scheme,
            "identifier": o.identifier,
            "phase": o.phase,
            "features": list(o.features),
            "district": o.district,
            "local_authority": LOCAL_AUTHORITY if o.kind != "agency" else "",
            "establishment_type": o.establishment_type,
            "postcode": "",
            "contact_name": o.contact.contact_name if o.contact else "",
            "contact_email": o.contact.contact_email if o.contact else "",
            "contact_phone": o.contact.contact_phone if o.contact else "",
            "status": "active",
            "created_at": created,
            "updated_at": created,
        }
        for o in made
    ]
    _bulk(db, Organisation, rows)
    ids = {name: i or 0 for i, name in db.exec(select(col(Organisation.id), Organisation.name))}
    flags = [
        {
            "organisation_id": ids[o.name],
            "flag": f.flag,
            "value": f.value,
            "source": f.source,
            "noted_on": f.noted_on,
            "note": f.note,
            "created_at": at(f.noted_on),
        }
        for o in made
        for f in o.flags
    ]
    _bulk(db, IntelligenceFlag, flags)
    return ids


def _campaign(db: Session, plan: DemoCampaign, today: date) -> int:
    opens = today - timedelta(days=35 if plan.this_year else 400)
    closes = today + timedelta(days=50) if plan.this_year else today - timedelta(days=310)
    campaign = Campaign(
        title=plan.title,
        questionnaire_key=plan.questionnaire_key,
        questionnaire_version=plan.version,
        opens_on=opens,
        closes_on=closes,
        status=(CampaignStatus.OPEN if plan.this_year else CampaignStatus.CLOSED).value,
        selection={"duty_types": list(plan.duty_types)},
        created_at=at(opens - timedelta(days=14)),
        opened_at=at(opens),
        closed_at=None if plan.this_year else at(closes),
    )
    db.add(campaign)
    db.flush()
    assert campaign.id is not None
    return campaign.id


def _returns(
    db: Session,
    plan: DemoCampaign,
    definition: Definition,
    digest: str,
    campaign_id: int,
    invited: list[DemoOrganisation],
    ids: dict[str, int],
    today: date,
    counts: Seeded,
) -> None:
    """Every invited organisation's return, in a believable state, with what that state has."""
    rng = random.Random(f"{SEED}:{plan.title}")  # noqa: S311 (invented data)
    weak = weak_standards(definition, SEED + (0 if plan.this_year else 1))
    opens = today - timedelta(days=35 if plan.this_year else 400)
    states, made = [], []
    for org in invited:
        status = _pick(rng, THIS_YEAR if plan.this_year else LAST_YEAR)
        if org.flagged and status is ReturnStatus.NOT_STARTED and rng.random() < 0.5:
            status = ReturnStatus.IN_PROGRESS  # flagged organisations are chased hardest
        signed = opens + timedelta(days=rng.randrange(5, 33 if plan.this_year else 70))
        content = None
        if status is not ReturnStatus.NOT_STARTED:
            share = rng.uniform(0.2, 0.9) if status is ReturnStatus.IN_PROGRESS else 1.0
            content = demo_return(
                definition,
                profile_of(_as_model(org)),
                rng,
                flagged=org.flagged,
                weak=weak,
                signed_on=signed,
                share_answered=share,
            )
        states.append((org, status, signed, content))
        made.append(_return_row(campaign_id, ids[org.name], status, signed, opens))
    _bulk(db, Return, made)
    return_ids = dict(
        db.exec(
            select(Return.organisation_id, col(Return.id)).where(Return.campaign_id == campaign_id)
        ).all()
    )
    counts.returns += len(made)
    answers, actions, submissions = [], [], []
    for org, status, signed, content in states:
        if content is None:
            continue
        return_id = return_ids[ids[org.name]] or 0
        answers += _answer_rows(return_id, content, signed)
        submitted = status not in (ReturnStatus.IN_PROGRESS,)
        actions += _action_rows(return_id, content, signed, frozen=submitted)
        if submitted:
            submissions.append(
                _submission_row(
                    definition, digest, plan, campaign_id, org, ids, return_id, content, signed
                )
            )
    _bulk(db, Answer, answers)
    _bulk(db, Action, actions)
    _bulk(db, Submission, submissions)
    counts.answers += len(answers)
    counts.submissions += len(submissions)
    _typed_rows(db, campaign_id)
    if not plan.this_year:
        counts.follow_ups += _follow_ups(db, campaign_id, rng, today)


def _as_model(org: DemoOrganisation) -> Organisation:
    return Organisation(
        name=org.name,
        duty_type=org.duty_type,
        kind=org.kind,
        sector=org.sector,
        phase=org.phase,
        features=list(org.features),
    )


def _return_row(
    campaign_id: int, organisation_id: int, status: ReturnStatus, signed: date, opens: date
) -> dict[str, Any]:
    submitted = status in (ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED, ReturnStatus.RETURNED)
    touched = signed if status is not ReturnStatus.NOT_STARTED else opens
    return {
        "campaign_id": campaign_id,
        "organisation_id": organisation_id,
        "status": status.value,
        "revision": 2 if status is ReturnStatus.RETURNED else 1,
        "returned_reason": (
            "Please add the date your safeguarding policy was last approved by governors."
            if status is ReturnStatus.RETURNED
            else ""
        ),
        "created_at": at(opens),
        "updated_at": at(touched),
        "submitted_at": at(signed) if submitted else None,
        "accepted_at": at(signed + timedelta(days=12)) if status is ReturnStatus.ACCEPTED else None,
    }


def _answer_rows(return_id: int, content: DemoReturn, signed: date) -> list[dict[str, Any]]:
    return [
        {
            "return_id": return_id,
            "item_id": item_id,
            "value": {"v": a.value},
            "not_applicable": a.not_applicable,
            "na_reason": a.na_reason,
            "narrative": a.narrative,
            "evidence": a.evidence,
            "carried_forward": False,
            "carry_note": "",
            "version": 1,
            "updated_at": at(signed),
        }
        for item_id, a in content.answers.items()
    ]


def _action_rows(
    return_id: int, content: DemoReturn, signed: date, *, frozen: bool
) -> list[dict[str, Any]]:
    return [
        {
            "return_id": return_id,
            "item_id": a.item_id,
            "what": a.what,
            "owner": a.owner,
            "target_date": a.target_date,
            "created_at": at(signed),
            "status": ActionStatus.OPEN.value,
            "progress": "not_started",
            "source": "return",
            "frozen_revision": 1 if frozen else None,
            "closed_reason": "",
            "updated_at": at(signed),
        }
        for a in content.actions
    ]


def _submission_row(
    definition: Definition,
    digest: str,
    plan: DemoCampaign,
    campaign_id: int,
    org: DemoOrganisation,
    ids: dict[str, int],
    return_id: int,
    content: DemoReturn,
    signed: date,
) -> dict[str, Any]:
    """What ``submit_return`` freezes: the answers, the actions and the score, as signed."""
    rated = {
        k: Rated(k, value=a.rating(), not_applicable=a.not_applicable)
        for k, a in content.answers.items()
    }
    result = score(definition, rated, profile_of(_as_model(org)))
    frozen = {
        "organisation": {"id": ids[org.name], "name": org.name, "duty_type": org.duty_type},
        "campaign": {"id": campaign_id, "title": plan.title, "follow_up_months": 6},
        "answers": {k: {**a.__dict__, "version": 1} for k, a in sorted(content.answers.items())},
        "actions": [
            {
                "id": None,
                "item_id": a.item_id,
                "what": a.what,
                "owner": a.owner,
                "target_date": a.target_date.isoformat(),
            }
            for a in content.actions
        ],
        "score": {
            "items": dict(result.items),
            "sections": dict(result.sections),
            "overall": result.overall,
            "less_effective": list(result.less_effective),
        },
    }
    signatory = org.contact.contact_name if org.contact else "Headteacher"
    return {
        "return_id": return_id,
        "revision": 1,
        "submitted_at": at(signed),
        "declaration_name": signatory,
        "declaration_role": "Headteacher" if org.kind == "school" else "Safeguarding lead",
        "declaration_date": signed,
        "questionnaire_key": definition.key,
        "questionnaire_version": definition.version,
        "questionnaire_hash": digest,
        "overall_rag": result.overall,
        "content": frozen,
    }


def _typed_rows(db: Session, campaign_id: int) -> None:
    """The report's rows, from each submission's content exactly as the portal writes them."""
    found = db.exec(
        select(col(Submission.id), Submission.return_id, Submission.content, Return.organisation_id)
        .join(Return, col(Return.id) == Submission.return_id)
        .where(Return.campaign_id == campaign_id)
    ).all()
    rows = [
        {
            "submission_id": submission_id,
            "return_id": return_id,
            "campaign_id": campaign_id,
            "organisation_id": organisation_id,
            **row.__dict__,
        }
        for submission_id, return_id, content, organisation_id in found
        for row in answer_rows(content)
    ]
    _bulk(db, SubmittedAnswer, rows)


def _follow_ups(db: Session, campaign_id: int, rng: random.Random, today: date) -> int:
    """Last year's follow-ups, in every stage, for returns that promised actions."""
    found = db.exec(
        select(col(Return.id), col(Submission.declaration_date), col(Submission.content))
        .join(Submission, col(Submission.return_id) == Return.id)
        .where(Return.campaign_id == campaign_id)
    ).all()
    follow_ups: list[dict[str, Any]] = []
    stages: dict[int, FollowUpStage] = {}
    for found_id, signed, content in found:
        return_id = found_id or 0
        if not (content.get("score") or {}).get("less_effective"):
            continue
        due = follow_up_due(signed, 6)
        stage = _pick(rng, FOLLOW_UP_STAGES)
        stages[return_id] = stage
        follow_ups.append(
            {
                "return_id": return_id,
                "due_on": due,
                "stage": stage.value,
                "round": 1,
                "created_at": at(signed),
                "updated_at": at(min(today, due)),
                "submitted_at": at(due - timedelta(days=3))
                if stage in (FollowUpStage.SUBMITTED, FollowUpStage.ACCEPTED,
                             FollowUpStage.INFORMATION_REQUESTED)
                else None,
                "accepted_at": at(due + timedelta(days=10))
                if stage is FollowUpStage.ACCEPTED
                else None,
            }
        )  # fmt: skip
    _bulk(db, FollowUp, follow_ups)
    _follow_up_rounds(db, campaign_id, stages, rng)
    return len(follow_ups)


def _follow_up_rounds(
    db: Session, campaign_id: int, stages: dict[int, FollowUpStage], rng: random.Random
) -> None:
    """Updates for saved rounds; signed rounds frozen; accepted rounds reviewed."""
    follow_ups = dict(
        db.exec(
            select(FollowUp.return_id, col(FollowUp.id))
            .join(Return, col(Return.id) == FollowUp.return_id)
            .where(Return.campaign_id == campaign_id)
        ).all()
    )
    actions = db.exec(
        select(Action)
        .join(Return, col(Return.id) == Action.return_id)
        .where(Return.campaign_id == campaign_id)
        .order_by(col(Action.id))
    ).all()
    updates: list[dict[str, Any]] = []
    frozen: dict[int, list[dict[str, Any]]] = {}
    for action in actions:
        stage = stages.get(action.return_id)
        if stage is None or stage is FollowUpStage.OPEN:
            continue
        done = rng.random() < (0.8 if stage is FollowUpStage.ACCEPTED else 0.5)
        progress = "complete" if done else "in_progress"
        narrative = (
            "Done: the procedure is written down, agreed and all staff have been briefed."
            if done
            else "Under way: training booked for the remaining staff next term."
        )
        updates.append(
            {
                "follow_up_id": follow_ups[action.return_id],
                "action_id": action.id,
                "progress": progress,
                "narrative": narrative,
                "revised_rating": None,
                "evidence": "Training register and staff briefing notes",
                "version": 1,
            }
        )
        if stage is not FollowUpStage.DRAFT:
            frozen.setdefault(action.return_id, []).append(
                {
                    "id": action.id,
                    "item_id": action.item_id,
                    "what": action.what,
                    "owner": action.owner,
                    "target_date": action.target_date.isoformat(),
                    "original_rating": None,
                    "original_narrative": "",
                    "progress": progress,
                    "narrative": narrative,
                    "revised_rating": None,
                    "evidence": "Training register and staff briefing notes",
                    "new_target_date": None,
                }
            )
            action.progress = progress
            if done and stage is FollowUpStage.ACCEPTED:
                action.status = ActionStatus.COMPLETE.value
            db.add(action)
    _bulk(db, FollowUpUpdate, updates)
    signed = [
        {
            "follow_up_id": follow_ups[return_id],
            "round": 1,
            "declaration_name": "Designated safeguarding lead",
            "declaration_role": "Safeguarding lead",
            "declaration_date": date.today(),
            "content": {"actions": lines},
        }
        for return_id, lines in frozen.items()
    ]
    _bulk(db, FollowUpSubmission, signed)
    reviews = [
        {
            "follow_up_id": follow_ups[return_id],
            "round": 1,
            "outcome": "accepted" if stage is FollowUpStage.ACCEPTED else "more_information",
            "comment": ""
            if stage is FollowUpStage.ACCEPTED
            else "Please say when the remaining staff will be trained.",
        }
        for return_id, stage in stages.items()
        if stage in (FollowUpStage.ACCEPTED, FollowUpStage.INFORMATION_REQUESTED)
    ]
    _bulk(db, FollowUpReview, reviews)
    db.flush()
