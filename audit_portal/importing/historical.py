"""Past years' returns into a closed historical campaign, so year-on-year works from day one.

The file is checked whole before anything is written (``returns_file``), and every row that
cannot be used is reported with its row number and reason: if any row is bad, nothing is
imported. Each organisation's answers become a return that is accepted, with a frozen
submission scored exactly as a signed one would be and typed answer rows for the reports, so
the report reads an imported year the same way as a year completed in the portal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlmodel import Session, select

from audit_portal.audit import AuditContext, record
from audit_portal.importing.apply import by_identifier, tick
from audit_portal.importing.report import ImportFileError, Progress, Skip
from audit_portal.importing.returns_file import CheckedFile, ReturnRow, check_rows, read_table
from audit_portal.models import (
    Campaign,
    CampaignStatus,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    saved_id,
)
from audit_portal.questionnaires import Catalogue
from audit_portal.questionnaires.locks import VersionRefused, lock_version
from audit_portal.questionnaires.model import Definition
from audit_portal.returns.editing import profile_of
from audit_portal.returns.typed_answers import write_answer_rows
from audit_portal.scoring import Answer, score
from audit_portal.vocabulary import matches

TITLE_MAX = 200  # as Campaign.title
DECLARATION = "Imported from a spreadsheet"


@dataclass(frozen=True)
class HistoricalCampaign:
    """What the person importing says about the file: which questionnaire, which year."""

    questionnaire_key: str
    questionnaire_version: str
    title: str
    submitted_on: date  # for rows without their own submitted_on


@dataclass
class HistoricalReport:
    rows: int = 0
    organisations: int = 0
    answers: int = 0
    problems: list[Skip] = field(default_factory=list)
    campaign_id: int | None = None

    @property
    def imported(self) -> bool:
        return self.campaign_id is not None

    def summary(self) -> str:
        if self.problems:
            return (
                f"{len(self.problems)} of {self.rows} rows cannot be used, so nothing was "
                "imported. Correct them and import the file again."
            )
        return f"{self.answers} answers from {self.organisations} organisations ({self.rows} rows)"


def import_historical_returns(
    db: Session,
    catalogue: Catalogue,
    data: bytes,
    plan: HistoricalCampaign,
    ctx: AuditContext,
    today: date,
    progress: Progress = None,
) -> HistoricalReport:
    """Check the whole file, then write the campaign only if every row is usable."""
    definition = _definition(db, catalogue, plan, today)
    checked = check_rows(read_table(data), definition, plan.submitted_on)
    report = HistoricalReport(rows=checked.total, problems=list(checked.problems))
    organisations = _organisations(db, checked, definition, report.problems)
    report.problems.sort(key=lambda skip: skip.row)
    if report.problems or not checked.rows:
        if not checked.rows and not report.problems:
            raise ImportFileError("The file has a header row but no answers.")
        return report
    by_organisation: dict[int, list[ReturnRow]] = defaultdict(list)
    for row in checked.rows:
        by_organisation[saved_id(organisations[(row.identifier_scheme, row.identifier)])].append(
            row
        )
    definition = lock_version(
        db, catalogue, plan.questionnaire_key, plan.questionnaire_version, plan.title, ctx
    )
    digest = _content_hash(catalogue, plan)
    campaign = _campaign(db, plan, checked)
    orgs_by_id = {saved_id(o): o for o in organisations.values()}
    for done, (organisation_id, rows) in enumerate(sorted(by_organisation.items()), start=1):
        _return(db, definition, digest, campaign, orgs_by_id[organisation_id], rows)
        tick(progress, done, len(by_organisation))
    report.campaign_id = saved_id(campaign)
    report.organisations, report.answers = len(by_organisation), len(checked.rows)
    record(
        db,
        ctx,
        "campaign.import_historical",
        object_type="campaign",
        object_id=campaign.id,
        new={
            "title": campaign.title,
            "questionnaire": f"{plan.questionnaire_key}/{plan.questionnaire_version}",
            "organisations": report.organisations,
            "answers": report.answers,
            "fingerprint": checked.fingerprint(),
        },
    )
    return report


def _definition(
    db: Session, catalogue: Catalogue, plan: HistoricalCampaign, today: date
) -> Definition:
    """The questionnaire and the campaign as asked for, or why they cannot be used."""
    title = plan.title.strip()
    if not title:
        raise ImportFileError(
            "Give the historical campaign a title, for example ‘Section 175 2024’."
        )
    if len(title) > TITLE_MAX:
        raise ImportFileError(f"The campaign title must be {TITLE_MAX} characters or fewer.")
    if plan.submitted_on > today:
        raise ImportFileError("The submitted date is in the future: past returns only.")
    if db.exec(select(Campaign.id).where(Campaign.title == title)).first() is not None:
        raise ImportFileError(f"A campaign called ‘{title}’ already exists: choose another title.")
    definition = catalogue.get(plan.questionnaire_key, plan.questionnaire_version)
    if definition is None:
        known = ", ".join(
            f"{d.key} {d.version}" for d in sorted(catalogue.definitions, key=lambda d: d.key)
        )
        raise ImportFileError(
            f"There is no questionnaire {plan.questionnaire_key[:64]} version "
            f"{plan.questionnaire_version[:32]}. Known: {known}."
        )
    if definition.status != "published":
        raise ImportFileError(
            f"{definition.key} {definition.version} is a draft: publish it before importing."
        )
    return definition


def _organisations(
    db: Session, checked: CheckedFile, definition: Definition, problems: list[Skip]
) -> dict[tuple[str, str], Organisation]:
    """The organisations the rows name; a row naming an unknown or unsuitable one is a problem."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in checked.rows:
        wanted[row.identifier_scheme].add(row.identifier)
    found = {
        (scheme, identifier): org
        for scheme, identifiers in wanted.items()
        for identifier, org in by_identifier(db, scheme, sorted(identifiers)).items()
    }
    audience = definition.audience.as_dict()
    usable: list[ReturnRow] = []
    answered: dict[tuple[int, str], int] = {}  # one organisation may be named by two schemes
    for row in checked.rows:
        org = found.get((row.identifier_scheme, row.identifier))
        if org is None:
            reason = (
                f"no organisation has {row.identifier_scheme} {row.identifier}: import it first"
            )
        elif not matches(audience, profile_of(org)):
            reason = f"{org.name} is not among the organisations {definition.key} is for"
        elif (saved_id(org), row.item_id) in answered:
            first = answered[(saved_id(org), row.item_id)]
            reason = f"{org.name} already answers {row.item_id} on row {first}"
        else:
            answered[(saved_id(org), row.item_id)] = row.row
            usable.append(row)
            continue
        problems.append(Skip(row.row, reason, row.identifier[:40]))
    checked.rows = usable
    return found


def _content_hash(catalogue: Catalogue, plan: HistoricalCampaign) -> str:
    loaded = catalogue.file_for(plan.questionnaire_key, plan.questionnaire_version)
    if loaded is None or loaded.content_hash is None:  # lock_version has refused this already
        raise VersionRefused(f"{plan.questionnaire_key} {plan.questionnaire_version} is missing")
    return loaded.content_hash


def _campaign(db: Session, plan: HistoricalCampaign, checked: CheckedFile) -> Campaign:
    dates = [row.submitted_on or plan.submitted_on for row in checked.rows]
    first, last = min(dates), max(dates)
    campaign = Campaign(
        title=plan.title.strip(),
        questionnaire_key=plan.questionnaire_key,
        questionnaire_version=plan.questionnaire_version,
        opens_on=first,
        closes_on=last,
        status=CampaignStatus.CLOSED.value,
        selection={"historical": True},
        opened_at=datetime.combine(first, time(), tzinfo=UTC),
        closed_at=datetime.combine(last, time(), tzinfo=UTC),
    )
    db.add(campaign)
    db.flush()
    return campaign


def _return(
    db: Session,
    definition: Definition,
    digest: str,
    campaign: Campaign,
    org: Organisation,
    rows: list[ReturnRow],
) -> None:
    """One accepted return with its frozen submission, scored as a signed one would be."""
    on = rows[0].submitted_on or campaign.closes_on
    at = datetime.combine(on, time(), tzinfo=UTC)
    answers = {
        r.item_id: Answer(r.item_id, value=r.rating, not_applicable=r.not_applicable) for r in rows
    }
    result = score(definition, answers, profile_of(org))
    ret = Return(
        campaign_id=saved_id(campaign),
        organisation_id=saved_id(org),
        status=ReturnStatus.ACCEPTED.value,
        created_at=at,
        updated_at=at,
        submitted_at=at,
        accepted_at=at,
    )
    db.add(ret)
    db.flush()
    content = {
        "organisation": {"id": org.id, "name": org.name, "duty_type": org.duty_type},
        "campaign": {
            "id": campaign.id,
            "title": campaign.title,
            "follow_up_months": campaign.follow_up_months,
        },
        "answers": {
            r.item_id: {
                "value": r.rating,
                "not_applicable": r.not_applicable,
                "na_reason": "",
                "narrative": r.narrative,
                "evidence": "",
                "version": 1,
            }
            for r in sorted(rows, key=lambda r: r.item_id)
        },
        "actions": [],
        "score": {
            "items": dict(result.items),
            "sections": dict(result.sections),
            "overall": result.overall,
            "less_effective": list(result.less_effective),
        },
        "imported": True,
    }
    submission = Submission(
        return_id=saved_id(ret),
        revision=1,
        submitted_at=at,
        declaration_name=DECLARATION,
        declaration_role="Historical import",
        declaration_date=on,
        questionnaire_key=definition.key,
        questionnaire_version=definition.version,
        questionnaire_hash=digest,
        overall_rag=result.overall,
        content=content,
    )
    db.add(submission)
    db.flush()
    write_answer_rows(db, ret, submission)
