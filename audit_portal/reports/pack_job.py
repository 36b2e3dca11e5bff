"""A scrutineer's pack made from the database, in whichever process runs ``make_pack``.

The portal runs it in its PDF builder process (``audit_portal/web/pdf_builder.py``), which opens
its own engine, once, from the same settings. So both heavy halves of a pack stay out of the app
process: the report's queries and the tens of thousands of rows they bring back for a national
campaign, and laying out the PDF. In the app process, those objects made the garbage collector
stop every thread, the event loop included, for 100 ms and more at a time (``bench/pack.py``).

``PackOrder`` is everything the pack depends on, as plain picklable data: the settings, which
campaign, the filters and the day (the app's clock decides "today", not the builder's).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from audit_portal.campaigns import get_campaign
from audit_portal.config import Settings
from audit_portal.db import create_db_engine
from audit_portal.models import saved_id
from audit_portal.questionnaires import current_catalogue
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.campaign_report import campaign_report
from audit_portal.reports.figures import ItemFigure
from audit_portal.reports.pack import PackFacts, scrutineer_pack
from audit_portal.reports.queries import ReportFilters, item_figures

_engines: dict[str, Engine] = {}  # one per database, kept for the life of the process
_lock = threading.Lock()


@dataclass(frozen=True)
class PackOrder:
    settings: Settings
    campaign_id: int
    filters: ReportFilters
    today: date

    @property
    def facts(self) -> PackFacts:
        return PackFacts(partnership=self.settings.partnership_name, generated_on=self.today)


def make_pack(order: PackOrder) -> bytes:
    """The pack's PDF: the campaign's report with the order's filters, laid out.

    The item counts, the report's longest query, run on a second connection at the same time
    as the rest of its queries: the database counts while this thread reads and tallies the
    invited organisations (a national pack came within its time budget only so).
    """
    settings = order.settings
    catalogue = current_catalogue(settings.questionnaires_dir)
    engine = _engine(settings)
    with Session(engine) as db, ThreadPoolExecutor(1) as counter:
        campaign = get_campaign(db, order.campaign_id)
        loaded = catalogue.file_for(campaign.questionnaire_key, campaign.questionnaire_version)
        counting = None
        if loaded is not None and loaded.definition is not None:
            counting = counter.submit(
                _item_counts, engine, saved_id(campaign), loaded.definition, order.filters
            )
        report = campaign_report(
            db,
            catalogue,
            campaign,
            order.filters,
            order.today,
            settings.report_suppression_threshold,
            counted=counting.result if counting else None,
        )
    return scrutineer_pack(report, order.facts)


def _item_counts(
    engine: Engine, campaign_id: int, definition: Definition, filters: ReportFilters
) -> list[ItemFigure]:
    with Session(engine) as db:
        return item_figures(db, campaign_id, definition, filters)


def _engine(settings: Settings) -> Engine:
    with _lock:
        engine = _engines.get(settings.database_url)
        if engine is None:
            engine = _engines[settings.database_url] = create_db_engine(settings)
        return engine
