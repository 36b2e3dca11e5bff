"""A campaign's report for QA, administrators and the scrutineer: read-only figures.

The filters are plain query parameters, so every view can be bookmarked and works without
JavaScript; with htmx the filter form swaps only the results region (the same template's
``results`` block). Endpoints parse, call one domain function (``reports.campaign_report``),
render. The scrutineer's pack (``report.pdf``) takes the same filters and is made from the same
report, read and laid out in a process of its own (``pdf_builder``), one pack at a time; one
takes a few seconds even for a national campaign, so it is a plain download.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from audit_portal import clock
from audit_portal.campaigns import get_campaign
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import current_catalogue
from audit_portal.reports.campaign_report import (
    FILTER_LABELS,
    UnknownFilter,
    campaign_report,
    check_filters,
    filter_choices,
)
from audit_portal.reports.pack_job import PackOrder, make_pack
from audit_portal.reports.queries import ReportFilters
from audit_portal.reports.report_tables import record_report_download
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import audit_context, page
from audit_portal.web.overload import stepping_aside
from audit_portal.web.pdf_builder import in_builder_process

# The one-off token the report page's script adds to the pack link, echoed back in a cookie
# when the file is sent: letters and digits only, so nothing else can be set through it.
DOWNLOAD_TOKEN = re.compile(r"[a-z0-9]{1,32}")
MAX_FILTER = 100  # longer than any real value: a longer one is simply not a value

PACKS_BUSY = (
    "Many people are downloading the pack just now, so yours could not be started. "
    "Try again in a minute."
)
PACKS_RETRY_AFTER_S = 60


class _PackQueue:
    """Packs are made one at a time in an app process; the others wait for their turn here, on
    the event loop (costing no thread), having given their place among ``MAX_ACTIVE_REQUESTS``
    and their database connection to other requests (``stepping_aside``). At most
    ``MAX_WAITING_PACKS`` wait: each takes a second or more to make, so a longer line would end
    in browsers' time-outs.

    A pack is made in the builder process (``pdf_builder``), which makes one at a time anyway;
    waiting here rather than in its queue, only the pack being made fails should that process
    die, not every pack queued behind it.
    """

    def __init__(self) -> None:
        self.turn = asyncio.Semaphore(1)
        self.waiting = 0

    def full(self, most_waiting: int) -> bool:
        """True when one more pack would have to wait behind ``most_waiting`` others."""
        return self.turn.locked() and self.waiting >= most_waiting

    @asynccontextmanager
    async def turn_for_one(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self.turn.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self.turn.release()


_pack_queues: WeakKeyDictionary[asyncio.AbstractEventLoop, _PackQueue] = WeakKeyDictionary()


def pack_queue() -> _PackQueue:
    """This event loop's queue of packs (a semaphore belongs to the loop it waits on)."""
    loop = asyncio.get_running_loop()
    queue = _pack_queues.get(loop)
    if queue is None:
        queue = _pack_queues[loop] = _PackQueue()
    return queue


def report_filters(request: Request) -> ReportFilters:
    q = request.query_params
    return ReportFilters(**{name: q.get(name, "").strip()[:MAX_FILTER] for name in FILTER_LABELS})


def _query(filters: ReportFilters) -> str:
    """The filters that are set, as a query string ("?district=North"), or nothing."""
    wanted = {name: getattr(filters, name) for name in FILTER_LABELS if getattr(filters, name)}
    return f"?{urlencode(wanted)}" if wanted else ""


async def campaign_report_page(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    settings = request.app.state.settings
    catalogue = current_catalogue(settings.questionnaires_dir)
    filters, today = report_filters(request), clock.today()
    threshold = settings.report_suppression_threshold

    def load(db: Session) -> tuple:
        campaign = get_campaign(db, campaign_id)
        choices = filter_choices(db)
        try:
            check_filters(filters, choices)
        except UnknownFilter as problem:
            return campaign, choices, None, problem.problems
        report = campaign_report(db, catalogue, campaign, filters, today, threshold)
        return campaign, choices, report, {}

    campaign, choices, report, problems = await run_db(request, load)
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
    context = {
        "title": f"Report: {campaign.title}",
        "campaign": campaign,
        "report": report,
        "filters": filters,
        "choices": choices,
        "labels": FILTER_LABELS,
        "problems": problems,
        "answer_links": allows(request.state.actor, Permission.RETURN_REVIEW),
        "can_download_answers": allows(request.state.actor, Permission.REPORTS_ANSWERS),
        "can_open_campaign": allows(request.state.actor, Permission.CAMPAIGNS_VIEW),
        "pack_url": request.url_for("campaign_report_pack", campaign_id=campaign.id).path
        + _query(filters),
    }
    return render(
        request,
        "reports/report.html",
        context,
        # htmx 2 swaps only 2xx responses: the fragment carries its error message with a 200
        status_code=400 if problems and not fragment else 200,
        block="results" if fragment else None,
    )


async def campaign_report_pack(request: Request) -> Response:
    """The scrutineer's pack as a PDF: the report's figures with the same filters."""
    campaign_id = request.path_params["campaign_id"]
    settings = request.app.state.settings
    filters = report_filters(request)

    def check(db: Session) -> None:
        get_campaign(db, campaign_id)
        try:
            if filters != ReportFilters():  # with no filter there is nothing to look up
                check_filters(filters, filter_choices(db))
        except UnknownFilter as problem:
            raise HTTPException(400, "; ".join(problem.problems.values())) from None
        db.commit()  # end the read transaction: the pack may wait a while for its turn

    await run_db(request, check)
    order = PackOrder(settings, campaign_id, filters, clock.today())
    queue = pack_queue()
    if queue.full(settings.max_waiting_packs):
        retry = {"Retry-After": str(PACKS_RETRY_AFTER_S)}
        raise HTTPException(503, PACKS_BUSY, headers=retry)
    async with stepping_aside(request), queue.turn_for_one():
        data = await in_builder_process(make_pack, order)
    ctx = audit_context(request)
    await run_db(
        request,
        lambda db: record_report_download(db, ctx, campaign_id, "report.pdf", filters),
        write=True,
    )
    response = Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-report.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
    token = request.query_params.get("download", "")
    if DOWNLOAD_TOKEN.fullmatch(token):  # the page is waiting for it: "the pack is ready"
        response.set_cookie("download_ready", token, max_age=60, path="/", samesite="strict")
    return response


routes = [
    page(
        "/campaigns/{campaign_id:id}/report",
        campaign_report_page,
        permission=Permission.REPORTS_VIEW,
    ),
    page(
        "/campaigns/{campaign_id:id}/report.pdf",
        campaign_report_pack,
        permission=Permission.REPORTS_VIEW,
    ),
]
