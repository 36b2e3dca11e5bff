"""Everything a page about one return needs, loaded once per request.

``return_scope`` is what the route guard calls to learn which organisation a return belongs
to; it loads the return, its campaign and its organisation in one statement, and the session
keeps them, so ``load_return`` finds them without asking the database again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from audit_portal.accounts.sessions import OwnerLookup
from audit_portal.audit import AuditContext
from audit_portal.models import Action, Answer, Campaign, Organisation, Return, saved_id
from audit_portal.parsing import MAX_VERSION, parse_int
from audit_portal.questionnaires import Catalogue
from audit_portal.questionnaires.locks import verify_version
from audit_portal.questionnaires.model import Definition, Item, RatingScale, Section
from audit_portal.returns.answers import field_prefix, find_item, parse_item
from audit_portal.returns.editing import (
    ReturnNotFound,
    SaveOutcome,
    actions_of,
    answers_of,
    as_data,
    assess_return,
    can_edit,
    lock_for_save,
    profile_of,
    save_answers,
)
from audit_portal.returns.readiness import Readiness, item_needs
from audit_portal.scoring import applies
from audit_portal.vocabulary import OrganisationProfile

_SCOPE_QUERY = (  # built once: it runs on every request about a return
    select(Return, Campaign, Organisation)
    .join(Campaign, col(Campaign.id) == Return.campaign_id)
    .join(Organisation, col(Organisation.id) == Return.organisation_id)
    .where(Return.id == bindparam("return_id"))
)


# The organisation a return belongs to, and nothing else, read with the request's session: for
# routes that read the return themselves, locked (the autosave).
RETURN_OWNER = OwnerLookup.of(
    select(Return.organisation_id).where(Return.id == bindparam("return_id")).scalar_subquery(),
    "return_id",
)


def return_scope(db: Session, return_id: int) -> int | None:
    """The organisation a return belongs to (None: no such return), loading it for the page."""
    row = db.exec(_SCOPE_QUERY, params={"return_id": return_id}).first()
    if row is None:
        return None
    db.info.setdefault("keep", []).extend(row)  # the identity map holds objects only weakly
    return row[0].organisation_id


class SectionStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANNOT_START = "cannot_start"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "completed": "Completed",
            "cannot_start": "Cannot start yet",
        }[self.value]


@dataclass(frozen=True)
class SectionLine:
    """One standard on the return's task list."""

    section: Section
    number: int
    items: int
    answered: int
    status: SectionStatus
    rag: str | None


def section_status(
    items: list[Item], answered: set[str], with_problems: set[str], open_yet: bool
) -> SectionStatus:
    """Not started (nothing answered), completed (every question answered with nothing still
    needed), otherwise in progress; nothing can start before the campaign opens."""
    if not open_yet:
        return SectionStatus.CANNOT_START
    ids = {i.id for i in items}
    if not ids & answered:
        return SectionStatus.NOT_STARTED
    required = {i.id for i in items if i.required}
    if required <= answered and not ids & with_problems:
        return SectionStatus.COMPLETED
    return SectionStatus.IN_PROGRESS


@dataclass
class ReturnContext:
    ret: Return
    campaign: Campaign
    organisation: Organisation
    definition: Definition
    questionnaire_hash: str
    answers: dict[str, Answer] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)

    @property
    def return_id(self) -> int:
        return saved_id(self.ret)

    @property
    def profile(self) -> OrganisationProfile:
        return profile_of(self.organisation)

    @property
    def editable(self) -> bool:
        return can_edit(self.ret, self.campaign)

    def readiness(self) -> Readiness:
        return assess_return(self.definition, self.organisation, self.answers, self.actions)

    def items_of(self, section: Section) -> list[Item]:
        """The section's items that apply to this organisation, in questionnaire order."""
        profile = self.profile
        return [i for i in section.items if applies(i, profile)]

    def sections(self) -> list[Section]:
        """The standards with at least one item that applies to this organisation."""
        return [s for s in self.definition.sections if self.items_of(s)]

    def task_list(self, readiness: Readiness, today: date) -> list[SectionLine]:
        """Every standard that applies, with its status and rating so far, in order."""
        answered = {k for k, a in self.answers.items() if not as_data(a).is_empty}
        with_problems = {p.item_id for p in readiness.problems}
        open_yet = self.campaign.opens_on <= today
        lines = []
        for number, section in enumerate(self.definition.sections, start=1):
            items = self.items_of(section)
            if not items:
                continue
            status = section_status(items, answered, with_problems, open_yet)
            done = sum(1 for i in items if i.id in answered)
            rag = readiness.score.sections.get(section.id)
            lines.append(SectionLine(section, number, len(items), done, status, rag))
        return lines

    def needs(self, item: Item) -> dict[str, str]:
        """What an answered item still needs before the return can be submitted, by field."""
        answer = self.answers.get(item.id)
        data = as_data(answer) if answer is not None else None
        count = sum(1 for a in self.actions if a.item_id == item.id)
        return item_needs(self.definition, item, data, count)

    def actions_by_item(self) -> dict[str, list[Action]]:
        grouped: dict[str, list[Action]] = {}
        for action in self.actions:
            grouped.setdefault(action.item_id, []).append(action)
        return grouped


def load_return(
    db: Session,
    catalogue: Catalogue,
    return_id: int,
    *,
    with_answers: bool = True,
    section_id: str | None = None,
) -> ReturnContext:
    """The return with its campaign, organisation and questionnaire (and answers and actions:
    only those of the standard ``section_id`` when it is given and exists).

    Raises ReturnNotFound, and VersionRefused when its questionnaire file changed since use.
    """
    ret = db.get(Return, return_id)
    if ret is None:
        raise ReturnNotFound(return_id)
    campaign = db.get(Campaign, ret.campaign_id)
    organisation = db.get(Organisation, ret.organisation_id)
    assert campaign is not None and organisation is not None
    definition = verify_version(
        db, catalogue, campaign.questionnaire_key, campaign.questionnaire_version
    )
    loaded = catalogue.file_for(campaign.questionnaire_key, campaign.questionnaire_version)
    assert loaded is not None and loaded.content_hash is not None
    context = ReturnContext(ret, campaign, organisation, definition, loaded.content_hash)
    if with_answers:
        section = next((s for s in definition.sections if s.id == section_id), None)
        item_ids = [i.id for i in section.items] if section else None
        context.answers = answers_of(db, return_id, item_ids)
        context.actions = actions_of(db, return_id, item_ids)
    return context


@dataclass(frozen=True)
class Autosaved:
    item: Item
    scale: RatingScale
    outcome: SaveOutcome
    needs: dict[str, str]  # what the saved answer still needs before submitting


def autosave(
    db: Session,
    catalogue: Catalogue,
    ctx: AuditContext,
    return_id: int,
    item_id: str,
    form: Mapping[str, object],
) -> Autosaved:
    """Save one item as the person changes it: the hottest path of the portal.

    Everything happens in one write transaction (one trip to the thread pool): find the item,
    read what was typed, save it, and say what it still needs. Raises UnknownItem (not a
    question of this return), ReturnError (it can no longer change), VersionRefused.
    """
    locked = lock_for_save(db, return_id, item_id)
    definition = verify_version(
        db, catalogue, locked.questionnaire_key, locked.questionnaire_version
    )
    item = find_item(definition, item_id, locked.profile)
    parsed = {item.id: parse_item(definition, item, form)}
    version = parse_int(form.get(f"{field_prefix(item.id)}-version"), high=MAX_VERSION)
    outcome = save_answers(db, ctx, return_id, parsed, {item.id: version}, locked)
    saved = outcome.saved.get(item.id)
    needs: dict[str, str] = {}
    if saved is not None:
        data = as_data(saved)
        needs = item_needs(definition, item, data, locked.item_actions)
    return Autosaved(item, definition.rating_scale, outcome, needs)
