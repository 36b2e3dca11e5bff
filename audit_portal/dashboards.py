"""What each person sees first after signing in: the read side of every role's home page.

Plain data loaded in a fixed number of queries however many returns there are (answers and
actions of all the returns shown are read together, never one return at a time).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Session, col, select

from audit_portal.models import (
    Action,
    Answer,
    Campaign,
    CampaignStatus,
    Organisation,
    Return,
    ReturnStatus,
    saved_id,
)
from audit_portal.questionnaires import Catalogue
from audit_portal.returns.editing import assess_return


@dataclass(frozen=True)
class ReturnCard:
    ret: Return
    campaign: Campaign
    organisation: Organisation
    percent: int  # of applicable questions answered
    ready: bool = False  # complete and still editable: waiting for a signatory

    @property
    def status(self) -> ReturnStatus:
        return ReturnStatus(self.ret.status)


@dataclass(frozen=True)
class OrganisationDashboard:
    organisations: list[Organisation]
    cards: list[ReturnCard]


def organisation_dashboard(
    db: Session, catalogue: Catalogue, organisation_ids: Collection[int]
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
    if return_ids:
        for answer in db.exec(select(Answer).where(col(Answer.return_id).in_(return_ids))).all():
            answers.setdefault(answer.return_id, {})[answer.item_id] = answer
        for action in db.exec(select(Action).where(col(Action.return_id).in_(return_ids))).all():
            actions.setdefault(action.return_id, []).append(action)
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
            ready = readiness.ready and ReturnStatus(ret.status).editable
        cards.append(ReturnCard(ret, campaign, org, percent, ready))
    return OrganisationDashboard(organisations, cards)
