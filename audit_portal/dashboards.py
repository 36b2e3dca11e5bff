"""What each person sees first after signing in: the read side of every role's home page.

Plain data loaded in a fixed number of queries however many returns there are (answers and
actions of all the returns shown are read together, never one return at a time).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from audit_portal.challenges.issuing import open_challenges
from audit_portal.followups.records import state_of
from audit_portal.followups.rules import FollowUpState
from audit_portal.models import (
    Action,
    ActionStatus,
    Answer,
    Campaign,
    CampaignStatus,
    EvidenceChallenge,
    FollowUp,
    Organisation,
    Return,
    ReturnStatus,
    saved_id,
)
from audit_portal.questionnaires import Catalogue
from audit_portal.returns.editing import assess_return, can_edit


@dataclass(frozen=True)
class ReturnCard:
    ret: Return
    campaign: Campaign
    organisation: Organisation
    percent: int  # of applicable questions answered
    ready: bool = False  # complete and still editable: waiting for a signatory
    follow_up: FollowUpState | None = None  # once submitted with something to follow up
    follow_up_due: date | None = None
    open_actions: int = 0

    @property
    def status(self) -> ReturnStatus:
        return ReturnStatus(self.ret.status)


@dataclass(frozen=True)
class OrganisationDashboard:
    organisations: list[Organisation]
    cards: list[ReturnCard]
    # issued evidence challenges awaiting these organisations' evidence, soonest due first
    challenges: list[tuple[EvidenceChallenge, Organisation, Campaign]] = field(default_factory=list)


def organisation_dashboard(
    db: Session, catalogue: Catalogue, organisation_ids: Collection[int], today: date
) -> OrganisationDashboard:
    """The organisations a person belongs to and their returns in open or closed campaigns."""
    if not organisation_ids:
        return OrganisationDashboard([], [])
    ids = list(organisation_ids)
    organisations = list(
        db.exec(
            select(Organisation).where(col(Organisation.id).in_(ids)).order_by(Organisation.name)
        ).all()
    )
    rows = db.exec(
        select(Return, Campaign, Organisation)
        .join(Campaign, col(Campaign.id) == Return.campaign_id)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .where(col(Return.organisation_id).in_(ids), Campaign.status != CampaignStatus.DRAFT)
        .order_by(col(Campaign.closes_on).desc())
    ).all()
    return_ids = [ret.id for ret, _, _ in rows]
    answers: dict[int, dict[str, Answer]] = {}
    actions: dict[int, list[Action]] = {}
    follow_ups: dict[int, FollowUp] = {}
    if return_ids:
        for answer in db.exec(select(Answer).where(col(Answer.return_id).in_(return_ids))).all():
            answers.setdefault(answer.return_id, {})[answer.item_id] = answer
        for action in db.exec(select(Action).where(col(Action.return_id).in_(return_ids))).all():
            actions.setdefault(action.return_id, []).append(action)
        follow_ups = {
            f.return_id: f
            for f in db.exec(select(FollowUp).where(col(FollowUp.return_id).in_(return_ids)))
        }
    cards = []
    for ret, campaign, org in rows:
        definition = catalogue.get(campaign.questionnaire_key, campaign.questionnaire_version)
        percent, ready = 0, False
        if definition is not None:
            readiness = assess_return(
                definition,
                org,
                answers.get(saved_id(ret), {}),
                actions.get(saved_id(ret), []),
            )
            percent = readiness.percent
            ready = readiness.ready and can_edit(ret, campaign)
        follow_up = follow_ups.get(saved_id(ret))
        open_actions = sum(
            1 for a in actions.get(saved_id(ret), []) if a.status == ActionStatus.OPEN
        )
        cards.append(
            ReturnCard(
                ret,
                campaign,
                org,
                percent,
                ready,
                state_of(follow_up, today) if follow_up else None,
                follow_up.due_on if follow_up else None,
                open_actions,
            )
        )
    return OrganisationDashboard(organisations, cards, open_challenges(db, ids))
