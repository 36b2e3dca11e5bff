"""The campaign report's tables as plain rows, for the CSV and XLSX downloads.

Every value is taken from the ``CampaignReport`` the page prints, never counted again, so a
download cannot disagree with the page: a count the page hides is the same words here
("fewer than 5", "withheld"), and a percentage is the page's whole percent (``Share.percent``)
written as a number. Each table is one sheet of the workbook; the CSV lists every cell of every
table as one line (table, row, column, value), which a spreadsheet can pivot back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from audit_portal.audit import AuditContext, record
from audit_portal.reports.campaign_report import (
    FILTER_LABELS,
    RAG_COLUMNS,
    CampaignReport,
    Ranked,
    Shown,
    YearOnYearFigures,
)
from audit_portal.reports.dip_sample_report import ChallengeTable
from audit_portal.reports.exports import (
    PROVENANCE_HEADER,
    Provenance,
    SheetTable,
    csv_rows,
    xlsx_workbook,
)
from audit_portal.reports.figures import Share, percentage_points
from audit_portal.reports.queries import ReportFilters
from audit_portal.reports.suppression import SuppressedTable

Value = int | str | Decimal | date | None
LONG_HEADER = ("Table", "Row", "Column", "Value")
DIP_SAMPLE_SHEETS = (
    "Dip outcomes by standard",
    "Dip outcomes by kind",
    "Dip rating gap by standard",
    "Dip rating gap by kind",
)


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: the first column names each row."""

    name: str
    header: tuple[str, ...]
    rows: list[tuple[Value, ...]]
    notes: tuple[str, ...] = ()


def report_tables(report: CampaignReport) -> list[ReportTable]:
    """Every aggregate table of the report, in the page's order."""
    tables = [_response(report)]
    tables += [_stages(name, table) for name, table in report.response.by.items() if table.rows]
    tables += [
        _not_returning(report),
        _rag(report),
        _items(report),
        _ranked("Common weaknesses", "Rated less than effective", report.weaknesses),
        _ranked("Strengths", "Rated effective", report.strengths),
        *_year_on_year(report.year_on_year),
        _one_row("Follow-ups by status", "Status", report.follow_ups.statuses),
        _one_row("Follow-up rating movement", "Movement", report.follow_ups.movement),
    ]
    dip = report.dip_samples
    tables += [
        _challenge(name, t, gap=n >= len(dip.outcomes))
        for n, (name, t) in enumerate(zip(DIP_SAMPLE_SHEETS, dip.tables, strict=True))
    ]
    return [*tables, _method(report)]


def provenance(report: CampaignReport) -> Provenance:
    """The questionnaire the figures answer, and which campaign and filters they are for."""
    return Provenance(
        report.questionnaire_key,
        report.questionnaire_version,
        report.content_hash,
        source=f"Campaign report: {report.title}; {filters_in_words(report)}",
    )


def filters_in_words(report: CampaignReport) -> str:
    applied = [
        f"{label}: {getattr(report.filters, name)}"
        for name, label in FILTER_LABELS.items()
        if getattr(report.filters, name)
    ]
    return "organisations with " + ", ".join(applied) if applied else "every invited organisation"


def long_rows(tables: Sequence[ReportTable]) -> Iterator[tuple[Value, ...]]:
    """Each cell of each table as (table, row, column, value), for the CSV."""
    for table in tables:
        for row in table.rows:
            for column, value in zip(table.header[1:], row[1:], strict=True):
                yield table.name, row[0], column, value


def report_workbook(report: CampaignReport) -> bytes:
    """The XLSX: a sheet per table; each row ends with the questionnaire key, version and
    content hash, as every CSV line begins with them."""
    origin = provenance(report)
    stamp = (origin.questionnaire_key, origin.questionnaire_version, origin.content_hash)
    sheets = [
        SheetTable(
            t.name,
            (*t.header, *PROVENANCE_HEADER),
            [(*row, *stamp) for row in t.rows],
            t.notes,
        )
        for t in report_tables(report)
    ]
    return xlsx_workbook(sheets, origin)


def report_csv(report: CampaignReport) -> Iterator[bytes]:
    """The CSV: every cell of every table, one per line (see ``long_rows``)."""
    origin = provenance(report)
    return csv_rows(
        LONG_HEADER,
        long_rows(report_tables(report)),
        questionnaire_key=origin.questionnaire_key,
        questionnaire_version=origin.questionnaire_version,
        content_hash=origin.content_hash,
    )


# --- one function per table ------------------------------------------------------------------


def _count(table: SuppressedTable, row: str, column: str) -> Value:
    cell = table.cell(row, column)
    return cell.text if cell.suppressed else cell.value


def _percent(table: SuppressedTable, row: str, column: str) -> Value:
    """The cell as a whole percent of its row's published total, as the page shows it."""
    cell = table.cell(row, column)
    if cell.suppressed:
        return cell.text
    share = table.share(row, column, "row")
    return share.percent if share is not None else None


def _pairs(table: SuppressedTable, row: str) -> list[Value]:
    return [v for c in table.columns for v in (_count(table, row, c), _percent(table, row, c))]


def _paired_header(columns: Sequence[str]) -> list[str]:
    return [h for c in columns for h in (c, f"{c} %")]


def _shown(shown: Shown) -> tuple[Value, Value]:
    """A published share's count and percent, or its words twice."""
    if not shown.shown:
        return shown.text, shown.text
    return shown.share.numerator, shown.share.percent


def _response(report: CampaignReport) -> ReportTable:
    r = report.response
    rows: list[tuple[Value, ...]] = [("Invited", r.overall.invited, None, None)]
    for name, share in (
        ("Started", r.overall.started),
        ("Submitted (returned)", r.overall.submitted),
        ("Accepted", r.overall.accepted),
    ):
        rows.append((name, share.numerator, share.denominator, share.percent))
    if r.previous_returned is not None:
        rows.append((f"Returned in {r.previous_title}", r.previous_returned, None, None))
    comparison = r.comparison + (f" ({r.previous_title})" if r.previous_title else "")
    return ReportTable("Response", ("Measure", "Count", "Of", "Percent"), rows, (comparison,))


def _stages(name: str, table: SuppressedTable) -> ReportTable:
    totals = table.row_totals or {}
    return ReportTable(
        f"Response by {name}",
        (name.capitalize(), "Invited", *_paired_header(table.columns)),
        [(group, totals[group], *_pairs(table, group)) for group in table.rows],
        tuple(table.footnotes),
    )


def _not_returning(report: CampaignReport) -> ReportTable:
    return ReportTable(
        "Not returning",
        ("Organisation", "Stage"),
        [(name, stage) for _, name, stage in report.response.not_returning],
        ("Organisations invited that have not submitted a return; they count in the response.",),
    )


def _rag(report: CampaignReport) -> ReportTable:
    rag, not_applicable = report.rag, report.rag_not_applicable
    totals = rag.row_totals or {}
    rows: list[tuple[Value, ...]] = [
        (title, *_pairs(rag, section_id), totals[section_id], not_applicable.get(section_id, 0))
        for section_id, title in report.standards
    ]
    if rag.column_totals:
        overall = report.rag_overall
        rows.append(
            (
                "All standards",
                *[v for c in RAG_COLUMNS for v in (rag.column_totals[c], overall[c].percent)],
                sum(rag.column_totals.values()),
                sum(not_applicable.values()),
            )
        )
    return ReportTable(
        "Ratings by standard",
        ("Standard", *_paired_header(rag.columns), "Rated", "Not applicable"),
        rows,
        (
            "Counts of answers (one for each organisation and item). Not applicable answers "
            "are counted separately and left out of the totals rated.",
            *rag.footnotes,
        ),
    )


def _items(report: CampaignReport) -> ReportTable:
    labels = [label for _, label in report.scale]
    rows: list[tuple[Value, ...]] = [
        (
            row.item_id,
            row.prompt,
            *_pairs(report.items, row.item_id),
            *_shown(row.effective),
            row.rated,
            row.not_applicable,
        )
        for row in report.item_rows
    ]
    return ReportTable(
        "Each item",
        (
            "Item",
            "Prompt",
            *_paired_header(labels),
            *_paired_header(["Rated effective"]),
            "Rated",
            "Not applicable",
        ),
        rows,
        (
            "Shares are of the organisations that rated the item: “not applicable” answers are "
            "left out of the denominator and counted in their own column.",
            *report.items.footnotes,
        ),
    )


def _ranked(name: str, what: str, ranked: Sequence[Ranked]) -> ReportTable:
    return ReportTable(
        name,
        ("Rank", "Item", "Prompt", *_paired_header([what]), "Rated"),
        [
            (r.rank, r.item.item_id, r.item.prompt, *_shown(r.share), r.share.share.denominator)
            for r in ranked
        ],
    )


def _year_on_year(y: YearOnYearFigures | None) -> list[ReportTable]:
    header = (
        "Item",
        "Previous item",
        "Prompt",
        "Reworded",
        *_paired_header(["Rated effective now"]),
        "Rated now",
        *_paired_header(["Rated effective before"]),
        "Rated before",
        "Change (percentage points)",
        "Change",
    )
    if y is None or y.problem:
        why = y.problem if y else "There is no earlier campaign of this questionnaire."
        return [ReportTable("Year on year", header, [], (why,))]
    rows: list[tuple[Value, ...]] = [
        (
            c.item_id,
            c.previous_item_id,
            c.prompt,
            "Yes" if c.reworded else "No",
            *_shown(c.current),
            c.current.share.denominator,
            *_shown(c.previous),
            c.previous.share.denominator,
            _points(c.current, c.previous),
            c.change,
        )
        for c in y.compared
    ]
    changes: list[tuple[Value, ...]] = [
        *((item, prompt, "New", "") for item, prompt in y.new),
        *((item, prompt, "Removed", "") for item, prompt in y.removed),
        *((item, prompt, "Split", ", ".join(was)) for item, prompt, was in y.split),
        *((item, prompt, "Merged", ", ".join(was)) for item, prompt, was in y.merged),
    ]
    note = f"Rated effective, this campaign against {y.previous_title} (version "
    note += f"{y.previous_version})."
    if y.scale_changed:
        note += " The rating scale changed between the versions: read the changes with care."
    return [
        ReportTable("Year on year", header, rows, (note,)),
        ReportTable("Items not compared", ("Item", "Prompt", "Change", "Previous items"), changes),
    ]


def _points(current: Shown, previous: Shown) -> Decimal | None:
    if not current.shown or not previous.shown:
        return None
    return percentage_points(current.share, previous.share)


def _one_row(name: str, heading: str, table: SuppressedTable) -> ReportTable:
    """A one-row breakdown (every follow-up, by status) turned to one line per column."""
    total = (table.row_totals or {}).get("All", 0)
    rows: list[tuple[Value, ...]] = [
        (c, _count(table, "All", c), _percent(table, "All", c)) for c in table.columns
    ]
    rows.append(("Total", total, 100 if total else None))
    return ReportTable(name, (heading, "Count", "Percent"), rows, tuple(table.footnotes))


def _challenge(name: str, t: ChallengeTable, *, gap: bool) -> ReportTable:
    totals = t.table.row_totals or {}
    rows: list[tuple[Value, ...]] = [
        (
            t.labels[key],
            *_pairs(t.table, key),
            totals[key],
            *((t.means[key],) if gap else ()),
        )
        for key in t.rows
    ]
    if len(t.rows) > 1 and t.table.column_totals is not None:
        columns = t.table.column_totals
        overall = [v for c in t.columns for v in (columns[c], Share(columns[c], t.total).percent)]
        rows.append(("All", *overall, t.total, *((t.overall_mean,) if gap else ())))
    extra = ("Average difference",) if gap else ()
    return ReportTable(
        name,
        (t.group_heading, *_paired_header(t.columns), t.total_heading, *extra),
        rows,
        (t.caption, *t.table.footnotes),
    )


def _method(report: CampaignReport) -> ReportTable:
    rows: list[tuple[Value, ...]] = [
        ("Campaign", report.title),
        ("Questionnaire", report.questionnaire_key),
        ("Version", report.questionnaire_version),
        ("Content hash", report.content_hash),
        ("Opens", report.opens_on),
        ("Closes", report.closes_on),
        ("Invited", report.invitation),
        ("Figures for", filters_in_words(report)),
        ("Returns counted", report.submitted),
        (
            "Small numbers",
            f"A count from 1 to {report.threshold - 1} shows as “fewer than "
            f"{report.threshold}”, and a count that would give one away is “withheld”.",
        ),
    ]
    rows += [
        (f"Dip sample {n}", "; ".join(f"{what}: {words}" for what, words in s.parameters))
        for n, s in enumerate(report.samples, start=1)
    ]
    return ReportTable(
        "Method",
        ("What", "Value"),
        rows,
        (
            "Figures from submitted returns only: each organisation's latest submitted or "
            "accepted return counts once. Drafts never count.",
            *report.footnotes,
        ),
    )


def record_report_download(
    db: Session, ctx: AuditContext, campaign_id: int, what: str, filters: ReportFilters
) -> None:
    """Downloads leave the portal, so each is in the audit trail: which campaign, which
    organisations (the filters) and in what form."""
    record(
        db,
        ctx,
        "report.downloaded",
        object_type="campaign",
        object_id=campaign_id,
        new={"download": what, "filters": {k: v for k, v in vars(filters).items() if v}},
    )
