"""The scrutineer, in Chromium, filters a campaign report and downloads its tables: the
spreadsheet carries the figures the page shows, with and without JavaScript, by keyboard; axe
under the real CSP; no answer-level download offered to the scrutineer."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from audit_portal.config import Settings
from audit_portal.reports.figures import Share
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    assert_no_markup,
    shoot,
    tab_to,
    visible_text,
)
from tests.personas import World
from tests.report_data import definition, generate

XLSX_LINK = "#report-data-downloads a[href*='report.xlsx']"


def effective_by_item(workbook_bytes: bytes) -> dict[str, str]:
    """Each item's "rated effective" figure, written as the page writes it."""
    ws = openpyxl.load_workbook(io.BytesIO(workbook_bytes))["Each item"]
    header = [c.value for c in ws[2]]
    found = {}
    for row in ws.iter_rows(min_row=3, values_only=True):
        if row[0] is None:
            break
        values = dict(zip(header, row, strict=True))
        count, percent, rated = (
            values["Rated effective"],
            values["Rated effective %"],
            values["Rated"],
        )
        found[str(row[0])] = (
            f"{percent}% ({count} of {rated})"
            if isinstance(percent, int)
            else Share(0, 0).text
            if rated == 0
            else str(count)  # hidden: "fewer than 5" or "withheld"
        )
    return found


def download(page: Page, selector: str, tmp_path: Path) -> bytes:
    """Tab to the link from the top of the page and press Enter; the file the browser saved."""
    tab_to(page, selector, limit=120)
    with page.expect_download() as caught:
        page.keyboard.press("Enter")
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    return saved.read_bytes()


def test_the_scrutineer_filters_the_report_and_downloads_matching_figures_without_javascript(
    page_without_js: Page,
    live_server: str,
    clean_db: Engine,
    world: World,
    settings: Settings,
    tmp_path: Path,
) -> None:
    generate(clean_db, definition(settings), seed=20261203)
    page = page_without_js
    as_persona(page, clean_db, world.people["scrutineer"], live_server)
    page.goto("/dashboard")
    expect(page.locator("#campaign-reports + ul")).to_contain_text("tables (XLSX)")
    assert_accessible(page)
    shoot(page, "report-downloads-dashboard")
    page.get_by_role("link", name="Report: Generated").click()
    page.locator("#filter-district").select_option("North")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#report-filters")).to_have_text(
        "Showing organisations with district: North."
    )
    text = visible_text(page)
    assert "Download the report's tables as a spreadsheet (XLSX, these organisations only)" in text
    assert "every organisation's answers" not in text
    assert_accessible(page)
    assert_no_markup(page)
    shoot(page, "report-downloads-scrutineer")

    body = download(page, XLSX_LINK, tmp_path)
    figures = effective_by_item(body)
    rows = page.locator("#item-table tbody tr")
    assert rows.count() == len(figures)
    for n in range(rows.count()):
        cells = rows.nth(n).locator("th, td")
        item_id = cells.nth(0).inner_text().split()[0]
        assert figures[item_id] == cells.nth(cells.count() - 3).inner_text().strip(), item_id


def test_the_download_links_follow_the_filters_chosen_with_javascript(
    new_page: Callable[..., Page],
    live_server: str,
    clean_db: Engine,
    world: World,
    settings: Settings,
    tmp_path: Path,
) -> None:
    g = generate(clean_db, definition(settings), seed=11)
    page = new_page()
    as_persona(page, clean_db, world.people["qa"], live_server)
    page.goto(f"/campaigns/{g.campaign_id}/report")
    page.locator("#filter-district").select_option("South")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#report-filters")).to_have_text(
        "Showing organisations with district: South."
    )
    answers = page.locator("#report-data-downloads a[href*='answers.csv']")
    expect(answers).to_have_attribute(
        "href", f"/campaigns/{g.campaign_id}/answers.csv?district=South"
    )
    assert_accessible(page)
    body = download(page, "#report-data-downloads a[href*='answers.csv']", tmp_path)
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0][9] == "District" and len(lines) > 1
    assert {line[9] for line in lines[1:]} == {"South"}
