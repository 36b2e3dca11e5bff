"""A campaign report's downloads: its tables as CSV and XLSX, and the answer-level CSV.

The tables take the page's filters as the same query parameters and print the same report
object, so a download says what the page says, small numbers hidden alike. The answer-level
CSV (QA and administrators only) is sent as it is read from the database, so it costs the same
memory for a campaign of ten returns or of twenty-five thousand. Every download is in the
audit trail.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from audit_portal import clock
from audit_portal.campaigns import get_campaign
from audit_portal.evidence.filenames import content_disposition
from audit_portal.models import Campaign, saved_id
from audit_portal.policy import Permission
from audit_portal.questionnaires import current_catalogue
from audit_portal.questionnaires.load import Catalogue
from audit_portal.reports.answer_export import ANSWER_HEADER, answer_lines
from audit_portal.reports.campaign_report import (
    CampaignReport,
    UnknownFilter,
    campaign_report,
    check_filters,
    filter_choices,
)
from audit_portal.reports.exports import csv_rows
from audit_portal.reports.queries import ReportFilters
from audit_portal.reports.report_tables import (
    record_report_download,
    report_csv,
    report_workbook,
)
from audit_portal.web.context import run_db, stream_from_db
from audit_portal.web.guard import audit_context, page
from audit_portal.web.reports import report_filters

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _checked(db: Session, campaign_id: int, filters: ReportFilters) -> Campaign:
    """The campaign, once every filter names something; a 400 in plain words otherwise."""
    campaign = get_campaign(db, campaign_id)
    try:
        check_filters(filters, filter_choices(db))
    except UnknownFilter as problem:
        raise HTTPException(400, f"{problem}.") from None
    return campaign


async def _report(request: Request, catalogue: Catalogue) -> CampaignReport:
    campaign_id, settings = request.path_params["campaign_id"], request.app.state.settings
    filters, today = report_filters(request), clock.today()

    def load(db: Session) -> CampaignReport:
        campaign = _checked(db, campaign_id, filters)
        return campaign_report(
            db, catalogue, campaign, filters, today, settings.report_suppression_threshold
        )

    return await run_db(request, load)


def _filename(title: str, filters: ReportFilters, what: str) -> str:
    chosen = [v for v in vars(filters).values() if v]
    return f"{title} {what}" + (f" ({', '.join(chosen)})" if chosen else "")


def _headers(name: str) -> dict[str, str]:
    return {"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"}


async def _recorded(request: Request, report: CampaignReport, what: str) -> None:
    ctx = audit_context(request)
    await run_db(
        request,
        lambda db: record_report_download(db, ctx, report.campaign_id, what, report.filters),
        write=True,
    )


async def report_tables_csv(request: Request) -> Response:
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    report = await _report(request, catalogue)
    body = await run_in_threadpool(lambda: b"".join(report_csv(report)))
    await _recorded(request, report, "report.csv")
    name = _filename(report.title, report.filters, "report") + ".csv"
    return Response(body, media_type=CSV, headers=_headers(name))


async def report_tables_xlsx(request: Request) -> Response:
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    report = await _report(request, catalogue)
    body = await run_in_threadpool(report_workbook, report)
    await _recorded(request, report, "report.xlsx")
    name = _filename(report.title, report.filters, "report") + ".xlsx"
    return Response(body, media_type=XLSX, headers=_headers(name))


async def answers_csv(request: Request) -> Response:
    """Every submitted answer, streamed (see ``web.context.stream_from_db``)."""
    campaign_id, filters = request.path_params["campaign_id"], report_filters(request)
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    ctx = audit_context(request)

    def check_and_record(db: Session) -> Campaign:
        campaign = _checked(db, campaign_id, filters)
        found = catalogue.file_for(campaign.questionnaire_key, campaign.questionnaire_version)
        if found is None or found.definition is None:
            raise HTTPException(404, "This campaign's questionnaire is not available.")
        record_report_download(db, ctx, saved_id(campaign), "answers.csv", filters)
        return campaign

    campaign = await run_db(request, check_and_record, write=True)
    loaded = catalogue.file_for(campaign.questionnaire_key, campaign.questionnaire_version)
    assert loaded is not None and loaded.definition is not None
    definition, content_hash = loaded.definition, loaded.content_hash or ""

    def lines(db: Session) -> Iterator[bytes]:
        return csv_rows(
            ANSWER_HEADER,
            answer_lines(db, definition, campaign_id, filters),
            questionnaire_key=definition.key,
            questionnaire_version=definition.version,
            content_hash=content_hash,
        )

    name = _filename(campaign.title, filters, "answers") + ".csv"
    return StreamingResponse(stream_from_db(request, lines), media_type=CSV, headers=_headers(name))


routes = [
    page(
        "/campaigns/{campaign_id:id}/report.csv",
        report_tables_csv,
        permission=Permission.REPORTS_VIEW,
    ),
    page(
        "/campaigns/{campaign_id:id}/report.xlsx",
        report_tables_xlsx,
        permission=Permission.REPORTS_VIEW,
    ),
    page(
        "/campaigns/{campaign_id:id}/answers.csv",
        answers_csv,
        permission=Permission.REPORTS_ANSWERS,
    ),
]
