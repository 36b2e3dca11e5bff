"""A campaign's report: every figure the page, the PDF and the spreadsheets print, made once.

``campaign_report`` reads the database in a fixed number of queries (whatever the number of
returns or items) and hands back a ``CampaignReport``: plain data in which every count that a
reader could use to pick out a few organisations is already a suppression ``Cell`` and every
percentage is a ``Shown`` share that states its numerator and denominator, or the words that
stand in for it. Anything that prints the report prints these objects' ``text``, so the page and
every download say the same thing.

Suppression, on top of ``reports.suppression``:

- Response by kind, sector, phase and district: each breakdown is one table (groups by the
  stage each return has reached), with the group totals (invited) and the stage totals (the
  overall figures) published.
- Per item: the number of organisations at each rating is one table (items by scale points),
  with each item's number rated published as its total. The share rated effective (and less
  effective) is given only when neither count is small and it cannot be used to work out a
  hidden rating count; otherwise it says "fewer than 5" or "withheld" like the cells. Not
  applicable answers are left out of every denominator; their number is given as it is,
  since it says nothing about how well an organisation does.
- RAG by standard: standards by green, amber and red answers, with row and column totals (the
  column totals are the overall distribution).
- Follow-ups: the number at each status, and how ratings moved, each one table.
- Year on year uses the same published shares as the item table, for both campaigns.
- Dip samples: outcomes and the self-versus-moderated gap, by standard and by kind, each one
  table with row and column totals (``reports.dip_sample_report``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Literal

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from audit_portal.followups.records import state_of
from audit_portal.followups.rules import FollowUpStatus
from audit_portal.models import (
    Campaign,
    FollowUp,
    FollowUpSubmission,
    Organisation,
    Return,
    ReturnStatus,
    saved_id,
)
from audit_portal.models.organisations import FLAG_TYPES, KINDS
from audit_portal.questionnaires.load import Catalogue
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.challenge_queries import challenge_data
from audit_portal.reports.charts import Chart, rag_distribution_chart, share_bar_chart
from audit_portal.reports.dip_sample_report import DipSampleFigures, dip_sample_figures
from audit_portal.reports.figures import (
    BREAKDOWNS,
    NOT_RECORDED,
    SUBMITTED,
    InvitedReturn,
    ItemFigure,
    ResponseRate,
    Share,
    change_text,
    overall_response_rate,
    rank_items,
    returned_comparison,
)
from audit_portal.reports.methodology import SampleMethod, invitation_in_words, sample_methods
from audit_portal.reports.queries import ReportFilters, among_filtered, item_figures
from audit_portal.reports.suppression import (
    DEFAULT_THRESHOLD,
    WITHHELD,
    CountTable,
    SuppressedTable,
    suppress,
)
from audit_portal.reports.year_on_year import YearOnYear, year_on_year
from audit_portal.vocabulary import PHASES, SECTORS

# Each return is at exactly one stage, so a group's stages add up to the number invited.
STAGES = ("Not started", "Started, not submitted", "Submitted, not yet accepted", "Accepted")
RAG_COLUMNS = ("Green", "Amber", "Red")
FILTER_LABELS = {
    "kind": "kind",
    "sector": "sector",
    "phase": "phase",
    "district": "district",
    "flag": "intelligence flag",
}
RANKED = 10  # items listed as common weaknesses and as strengths


class UnknownFilter(ValueError):
    """A filter value that names nothing: ``problems`` maps each field to a message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class Shown:
    """A share as published: the share itself when it can be shown, else the words instead."""

    share: Share
    hidden: Literal["primary", "secondary"] | None = None
    threshold: int = DEFAULT_THRESHOLD

    @property
    def shown(self) -> bool:
        return self.hidden is None

    @property
    def text(self) -> str:
        if self.hidden == "primary":
            return f"fewer than {self.threshold}"
        if self.hidden == "secondary":
            return WITHHELD
        return self.share.text

    @property
    def percent(self) -> int | None:
        return self.share.percent if self.shown else None


@dataclass(frozen=True)
class ResponseFigures:
    overall: ResponseRate  # started, submitted, accepted, each of those invited
    by: Mapping[str, SuppressedTable]  # breakdown -> groups by STAGES, totals published
    comparison: str  # "324 returned, against 49 last year"
    previous_title: str | None
    previous_returned: int | None
    not_returning: list[tuple[int, str, str]]  # organisation id, name, stage of its return


@dataclass(frozen=True)
class ItemRow:
    item_id: str
    section_id: str
    prompt: str
    rated: int  # the denominator of every share of this item
    not_applicable: int
    effective: Shown
    less_effective: Shown


@dataclass(frozen=True)
class Ranked:
    rank: int
    item: ItemRow
    share: Shown


@dataclass(frozen=True)
class ComparedRow:
    item_id: str
    previous_item_id: str
    prompt: str
    reworded: bool
    current: Shown
    previous: Shown
    change: str  # "Up 12.5 percentage points", or why it cannot be given


@dataclass(frozen=True)
class YearOnYearFigures:
    previous_title: str
    previous_version: str
    compared: list[ComparedRow]
    new: list[tuple[str, str]]  # item id, prompt
    removed: list[tuple[str, str]]
    split: list[tuple[str, str, tuple[str, ...]]]  # item id, prompt, previous ids
    merged: list[tuple[str, str, tuple[str, ...]]]
    scale_changed: bool
    problem: str = ""  # why no comparison could be made, when it could not


@dataclass(frozen=True)
class FollowUpFigures:
    total: int
    statuses: SuppressedTable  # one row, a column per status
    completed: Shown  # accepted, of all follow-ups
    movement: SuppressedTable  # one row: improved, same, worse, no revised rating yet


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: int
    title: str
    questionnaire_key: str
    questionnaire_version: str
    content_hash: str
    opens_on: date
    closes_on: date
    filters: ReportFilters
    threshold: int
    submitted: int  # returns counted: submitted or accepted, filters applied
    response: ResponseFigures
    scale: list[tuple[str, str]]  # scale value (as text, the item table's columns), label
    items: SuppressedTable  # items by scale value, each item's number rated as its total
    item_rows: list[ItemRow]
    rag: SuppressedTable  # standards by RAG_COLUMNS, row and column totals
    rag_not_applicable: dict[str, int]  # standard -> answers not applicable
    standards: list[tuple[str, str]]  # section id, title
    weaknesses: list[Ranked]
    strengths: list[Ranked]
    year_on_year: YearOnYearFigures | None
    follow_ups: FollowUpFigures
    dip_samples: DipSampleFigures
    invitation: str  # who the campaign invited, in words (every organisation, not filtered)
    samples: list[SampleMethod]  # how each dip sample was drawn
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.submitted == 0

    @property
    def footnotes(self) -> list[str]:
        notes: list[str] = []
        tables = [*self.response.by.values(), self.items, self.rag]
        tables += [self.follow_ups.statuses, self.follow_ups.movement]
        tables += [t.table for t in self.dip_samples.tables]
        for table in tables:
            for note in table.footnotes:
                if note not in notes:
                    notes.append(note)
        return notes

    @property
    def suppression_rule(self) -> str:
        """The small-number rule in words, for the methodology."""
        return (
            f"A count from 1 to {self.threshold - 1} in a breakdown shows as “fewer than "
            f"{self.threshold}”, with no percentage; any other count that would let it be "
            "worked out from the published totals is “withheld”. Totals are published as "
            "they are."
        )

    @property
    def rag_overall(self) -> dict[str, Share]:
        """Each RAG column as a share of every rated answer (the totals, never suppressed)."""
        totals = self.rag.column_totals or {}
        rated = sum(totals.values())
        return {c: Share(totals.get(c, 0), rated) for c in RAG_COLUMNS}

    def share_at(self, item_id: str, value: str) -> str:
        """The cell for one item at one scale value: "40% (4 of 10)", "fewer than 5"..."""
        cell = self.items.cell(item_id, value)
        rated = (self.items.row_totals or {}).get(item_id, 0)
        if cell.value is None or not rated:
            return cell.text
        return Share(cell.value, rated).text

    def rag_chart(self, id_prefix: str = "rag", only: Collection[str] | None = None) -> Chart:
        """The RAG chart of every standard, or of the standards ``only`` names (the PDF draws a
        long chart in page-sized parts)."""
        rows = [
            (
                title,
                *(self.rag.cell(section_id, c) for c in RAG_COLUMNS),
                self.rag_not_applicable.get(section_id, 0),
            )
            for section_id, title in self.standards
            if only is None or section_id in only
        ]
        return rag_distribution_chart(
            rows,  # type: ignore[arg-type]
            title="Ratings by standard",
            description="For each standard, the number of answers rated green, amber and red, "
            "and the number not applicable. The same figures are in the table below the chart.",
            id_prefix=id_prefix,
        )

    def effective_chart(
        self, id_prefix: str = "effective", only: Collection[str] | None = None
    ) -> Chart:
        """The share rated effective of every item, or of the items ``only`` names."""
        rows: list[tuple[str, Share | str]] = [
            (
                f"{r.item_id} {r.prompt}",
                r.effective.share if r.effective.shown else r.effective.text,
            )
            for r in self.item_rows
            if only is None or r.item_id in only
        ]
        return share_bar_chart(
            rows,
            title="Share of organisations rating each item effective",
            description="For each item, the percentage of organisations that rated it "
            "effective, with the number and the number rated. The same figures are in the "
            "table below the chart.",
            id_prefix=id_prefix,
        )


# --- filters ---------------------------------------------------------------------------------


def filter_choices(db: Session) -> dict[str, list[tuple[str, str]]]:
    """The values each filter can take, for the form (value, label)."""
    districts = sorted(
        db.exec(select(Organisation.district).distinct().where(Organisation.district != "")).all()
    )
    return {
        "kind": list(KINDS.items()),
        "sector": list(SECTORS.items()),
        "phase": list(PHASES.items()),
        "district": [(d, d) for d in districts],
        "flag": list(FLAG_TYPES.items()),
    }


def check_filters(filters: ReportFilters, choices: Mapping[str, list[tuple[str, str]]]) -> None:
    """Raise UnknownFilter for a value that is not one of the choices."""
    problems = {}
    for name, label in FILTER_LABELS.items():
        value = getattr(filters, name)
        if value and value not in {v for v, _ in choices[name]}:
            problems[name] = f"There is no such {label}: choose one from the list"
    if problems:
        raise UnknownFilter(problems)


# --- the report ------------------------------------------------------------------------------


def campaign_report(
    db: Session,
    catalogue: Catalogue,
    campaign: Campaign,
    filters: ReportFilters,
    today: date,
    threshold: int = DEFAULT_THRESHOLD,
    counted: Callable[[], list[ItemFigure]] | None = None,
) -> CampaignReport:
    """Everything the report shows for one campaign and one set of filters.

    ``counted`` gives the item counts (``item_figures``) when the caller has them made
    elsewhere: the pack counts them on a second connection while this one reads the rest.
    """
    campaign_id = saved_id(campaign)
    loaded = catalogue.file_for(campaign.questionnaire_key, campaign.questionnaire_version)
    definition = loaded.definition if loaded else None
    if definition is None:
        raise LookupError(
            f"{campaign.questionnaire_key} {campaign.questionnaire_version} is not in the catalogue"
        )
    invited = _invited(db, campaign_id, filters)
    rows = [row for row, _, _ in invited]
    overall = overall_response_rate(rows)
    previous = _previous_campaign(db, campaign)
    previous_rows = [r for r, _, _ in _invited(db, saved_id(previous), filters)] if previous else []
    previous_returned = sum(r.status in SUBMITTED for r in previous_rows) if previous else None
    response = ResponseFigures(
        overall=overall,
        by={name: _stage_table(rows, name, threshold) for name in BREAKDOWNS},
        comparison=returned_comparison(
            overall.submitted.numerator,
            previous_returned,
            previous=_previous_name(campaign, previous),
        ),
        previous_title=previous.title if previous else None,
        previous_returned=previous_returned,
        not_returning=sorted(
            (
                (org_id, name, _stage(row.status))
                for row, org_id, name in invited
                if row.status not in SUBMITTED
            ),
            key=lambda r: r[1].casefold(),
        ),
    )
    figures = counted() if counted else item_figures(db, campaign_id, definition, filters)
    items, item_rows = _item_table(figures, definition, threshold)
    by_id = {r.item_id: r for r in item_rows}

    def ranked(by: Literal["less_effective", "effective"]) -> list[Ranked]:
        chosen = rank_items(figures, by=by, limit=RANKED)
        return [
            Ranked(r.rank, by_id[r.item.item_id], getattr(by_id[r.item.item_id], by))
            for r in chosen
        ]

    rag, rag_na = _rag_table(figures, definition, threshold)
    return CampaignReport(
        campaign_id=campaign_id,
        title=campaign.title,
        questionnaire_key=definition.key,
        questionnaire_version=definition.version,
        content_hash=(loaded.content_hash or "") if loaded else "",
        opens_on=campaign.opens_on,
        closes_on=campaign.closes_on,
        filters=filters,
        threshold=threshold,
        submitted=overall.submitted.numerator,
        response=response,
        scale=[(str(p.value), p.label) for p in definition.rating_scale.points],
        items=items,
        item_rows=item_rows,
        rag=rag,
        rag_not_applicable=rag_na,
        standards=[(s.id, s.title) for s in definition.sections if s.id in rag.rows],
        weaknesses=ranked("less_effective"),
        strengths=ranked("effective"),
        year_on_year=_year_on_year(db, catalogue, definition, previous, by_id, filters, threshold),
        follow_ups=_follow_ups(db, campaign_id, filters, today, threshold),
        dip_samples=dip_sample_figures(
            challenge_data(db, campaign_id, definition, filters), threshold
        ),
        invitation=invitation_in_words(campaign.selection, _invited_count(db, campaign_id)),
        samples=sample_methods(db, campaign_id),
    )


def _invited(
    db: Session, campaign_id: int, filters: ReportFilters
) -> list[tuple[InvitedReturn, int, str]]:
    """Every invited organisation's return (one query), with the organisation's id and name.

    Plain columns, not Organisation objects: building tens of thousands of ORM objects took
    longer than the report's GROUP BY itself (bench/report.py)."""
    found = db.execute(  # SQLAlchemy's select: SQLModel's is typed for four columns at most
        sa_select(
            col(Organisation.id),
            col(Organisation.name),
            col(Organisation.kind),
            col(Organisation.sector),
            col(Organisation.phase),
            col(Organisation.district),
            col(Return.status),
        )
        .join(Return, col(Return.organisation_id) == Organisation.id)
        .where(
            col(Return.campaign_id) == campaign_id,
            among_filtered(Organisation.id, filters),
        )
    ).all()
    statuses = {s.value: s for s in ReturnStatus}
    return [
        (
            InvitedReturn(
                kind=kind or "",
                sector=sector or "",
                phase=phase or "",
                district=district or "",
                status=statuses[status],
            ),
            org_id,
            name,
        )
        for org_id, name, kind, sector, phase, district, status in found
    ]


def _invited_count(db: Session, campaign_id: int) -> int:
    """Every organisation the campaign invited, whatever the filters."""
    found = db.exec(
        select(func.count()).select_from(Return).where(Return.campaign_id == campaign_id)
    ).one()
    return int(found)


def _stage(status: ReturnStatus) -> str:
    if status is ReturnStatus.NOT_STARTED:
        return STAGES[0]
    if status is ReturnStatus.ACCEPTED:
        return STAGES[3]
    if status in SUBMITTED:
        return STAGES[2]
    return STAGES[1]


def _group_label(name: str, value: str) -> str:
    if not value:
        return NOT_RECORDED
    labels = {"kind": KINDS, "sector": SECTORS, "phase": PHASES}.get(name, {})
    return labels.get(value, value)


def _stage_table(rows: Sequence[InvitedReturn], name: str, threshold: int) -> SuppressedTable:
    # Counted by raw value first (in C: a national campaign has tens of thousands of rows),
    # then labelled once per distinct value.
    raw = Counter(zip(map(attrgetter(name), rows), map(attrgetter("status"), rows), strict=True))
    counts: Counter[tuple[str, str]] = Counter()
    for (value, status), n in raw.items():
        counts[(_group_label(name, value), _stage(status))] += n
    groups = sorted({g for g, _ in counts}, key=lambda g: (g == NOT_RECORDED, g.casefold()))
    table = CountTable(groups, STAGES, dict(counts), row_totals=True, column_totals=len(groups) > 1)
    return suppress(table, threshold)


def _previous_campaign(db: Session, campaign: Campaign) -> Campaign | None:
    return db.exec(
        select(Campaign)
        .where(
            Campaign.questionnaire_key == campaign.questionnaire_key,
            Campaign.opens_on < campaign.opens_on,
            Campaign.id != campaign.id,
        )
        .order_by(col(Campaign.opens_on).desc(), col(Campaign.id).desc())
        .limit(1)
    ).first()


def _previous_name(campaign: Campaign, previous: Campaign | None) -> str:
    if previous is None:
        return "last year"
    if previous.opens_on.year == campaign.opens_on.year - 1:
        return "last year"
    return f"in {previous.title}"


def _hidden(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def _item_table(
    figures: Sequence[ItemFigure], definition: Definition, threshold: int
) -> tuple[SuppressedTable, list[ItemRow]]:
    points = definition.rating_scale.points
    columns = [str(p.value) for p in points]
    less = {str(p.value) for p in points if p.less_effective}
    cells = {(f.item_id, str(value)): n for f in figures for value, n in f.counts.items()}
    table = suppress(CountTable([f.item_id for f in figures], columns, cells), threshold)
    rows = []
    for f in figures:
        hidden_in = Counter(
            c in less for c in columns if table.cell(f.item_id, c).suppressed
        )  # True: less effective columns
        # Given the number rated, either share gives the other away, so both are hidden when
        # either count is small, or when one would give away a hidden rating count: exactly
        # one hidden cell among the columns it adds up.
        effective_reason: Literal["primary", "secondary"] | None = (
            "primary" if _hidden(f.effective, threshold) else None
        )
        less_reason: Literal["primary", "secondary"] | None = (
            "primary" if _hidden(f.less_effective, threshold) else None
        )
        if effective_reason or less_reason or hidden_in[True] == 1 or hidden_in[False] == 1:
            effective_reason = effective_reason or "secondary"
            less_reason = less_reason or "secondary"
        rows.append(
            ItemRow(
                item_id=f.item_id,
                section_id=f.section_id,
                prompt=f.prompt,
                rated=f.rated,
                not_applicable=f.not_applicable,
                effective=Shown(f.effective_share, effective_reason, threshold),
                less_effective=Shown(f.less_effective_share, less_reason, threshold),
            )
        )
    return table, rows


def _rag_table(
    figures: Sequence[ItemFigure], definition: Definition, threshold: int
) -> tuple[SuppressedTable, dict[str, int]]:
    rag_of = {p.value: p.rag.capitalize() for p in definition.rating_scale.points}
    counts: Counter[tuple[str, str]] = Counter()
    not_applicable: Counter[str] = Counter()
    for f in figures:
        for value, n in f.counts.items():
            counts[f.section_id, rag_of[value]] += n
        not_applicable[f.section_id] += f.not_applicable
    sections = [s.id for s in definition.sections if any(f.section_id == s.id for f in figures)]
    table = CountTable(
        sections, RAG_COLUMNS, dict(counts), row_totals=True, column_totals=len(sections) > 1
    )
    return suppress(table, threshold), dict(not_applicable)


def _year_on_year(
    db: Session,
    catalogue: Catalogue,
    definition: Definition,
    previous: Campaign | None,
    current: Mapping[str, ItemRow],
    filters: ReportFilters,
    threshold: int,
) -> YearOnYearFigures | None:
    if previous is None:
        return None
    before = catalogue.get(previous.questionnaire_key, previous.questionnaire_version)
    empty = YearOnYearFigures(
        previous.title, previous.questionnaire_version, [], [], [], [], [], False
    )
    if before is None:
        return _with_problem(empty, f"version {previous.questionnaire_version} is not available")
    previous_figures = item_figures(db, saved_id(previous), before, filters)
    _, previous_rows = _item_table(previous_figures, before, threshold)
    shown_before = {r.item_id: r.effective for r in previous_rows}
    try:
        result: YearOnYear = year_on_year(
            definition,
            before,
            {k: r.effective.share for k, r in current.items()},
            {r.item_id: r.effective.share for r in previous_rows},
            between=_between(catalogue, before, definition),
        )
    except ValueError as error:
        return _with_problem(empty, str(error))
    compared = []
    rating_now = {i.id for i in definition.items() if i.kind == "rating"}
    rating_before = {i.id for i in before.items() if i.kind == "rating"}
    for c in result.compared:
        if c.item_id not in current:  # only rating items have shares to compare
            continue
        now = current[c.item_id].effective
        then = shown_before.get(c.previous_item_id, Shown(c.previous))
        if not now.shown or not then.shown:
            change = "Not given: small numbers"
        else:
            change = change_text(c.points)
        compared.append(
            ComparedRow(
                c.item_id,
                c.previous_item_id,
                c.prompt,
                c.change == "reworded",
                now,
                then,
                change,
            )
        )
    return YearOnYearFigures(
        previous_title=previous.title,
        previous_version=before.version,
        compared=compared,
        new=[(n.item_id, n.prompt) for n in result.new if n.item_id in rating_now],
        removed=[(n.item_id, n.prompt) for n in result.removed if n.item_id in rating_before],
        split=[
            (n.item_id, n.prompt, n.previous_item_ids)
            for n in result.split
            if n.item_id in rating_now
        ],
        merged=[
            (n.item_id, n.prompt, n.previous_item_ids)
            for n in result.merged
            if n.item_id in rating_now
        ],
        scale_changed=result.scale_changed,
    )


def _with_problem(figures: YearOnYearFigures, problem: str) -> YearOnYearFigures:
    return YearOnYearFigures(
        figures.previous_title,
        figures.previous_version,
        [],
        [],
        [],
        [],
        [],
        False,
        f"No comparison can be made: {problem}.",
    )


def _between(catalogue: Catalogue, previous: Definition, current: Definition) -> list[Definition]:
    """The versions from the previous campaign's to the current one's, exclusive, oldest first,
    found by following each version's ``supersedes`` back (empty when there is no such chain:
    ``year_on_year`` then says why it cannot compare)."""
    if previous.version == current.version:
        return []
    chain: list[Definition] = []
    step = current
    while step.supersedes and step.supersedes != previous.version:
        found = catalogue.get(current.key, step.supersedes)
        if found is None or len(chain) > 100:
            return []
        chain.append(found)
        step = found
    return list(reversed(chain))


def _follow_ups(
    db: Session, campaign_id: int, filters: ReportFilters, today: date, threshold: int
) -> FollowUpFigures:
    follow_ups = db.exec(
        select(FollowUp)
        .join(Return, col(Return.id) == FollowUp.return_id)
        .where(
            Return.campaign_id == campaign_id,
            among_filtered(Return.organisation_id, filters),
        )
    ).all()
    statuses = Counter(state_of(f, today).status for f in follow_ups)
    columns = [s.label for s in FollowUpStatus]
    status_table = suppress(
        CountTable(["All"], columns, {("All", s.label): n for s, n in statuses.items()}), threshold
    )
    accepted = statuses[FollowUpStatus.ACCEPTED]
    accepted_cell = status_table.cell("All", FollowUpStatus.ACCEPTED.label)
    completed = Shown(
        Share(accepted, len(follow_ups)),
        accepted_cell.reason,
        threshold,
    )
    latest: dict[int, FollowUpSubmission] = {}
    for submission in db.exec(
        select(FollowUpSubmission)
        .join(FollowUp, col(FollowUp.id) == FollowUpSubmission.follow_up_id)
        .join(Return, col(Return.id) == FollowUp.return_id)
        .where(
            Return.campaign_id == campaign_id,
            among_filtered(Return.organisation_id, filters),
        )
        .order_by(col(FollowUpSubmission.round))
    ).all():
        latest[submission.follow_up_id] = submission
    moved: Counter[str] = Counter()
    for submission in latest.values():
        for action in submission.content.get("actions", []):
            original, revised = action.get("original_rating"), action.get("revised_rating")
            if not isinstance(original, int):
                continue
            if not isinstance(revised, int):
                moved["No revised rating yet"] += 1
            elif revised > original:
                moved["Improved"] += 1
            elif revised < original:
                moved["Worse"] += 1
            else:
                moved["Same"] += 1
    movement = suppress(
        CountTable(
            ["All"],
            ["Improved", "Same", "Worse", "No revised rating yet"],
            {("All", k): n for k, n in moved.items()},
        ),
        threshold,
    )
    return FollowUpFigures(len(follow_ups), status_table, completed, movement)
