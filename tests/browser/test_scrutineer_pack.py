"""The scrutineer in Chromium: reads the dip-sample figures and the methodology on the campaign
report, filters it, and downloads the pack with the keyboard (with JavaScript and without);
the PDF carries the figures the page shows. axe under the real CSP; a name typed with markup
in it shows as typed."""

from __future__ import annotations

import io
from collections.abc import Callable

from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import Engine

from audit_portal.config import Settings
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    shoot,
    tab_to,
    visible_text,
)
from tests.personas import World
from tests.report_builders import CHOSEN_BY, SAMPLE_SEED, add_generated_challenges
from tests.report_data import definition, generate


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_scrutineer_reads_the_dip_samples_and_downloads_the_pack(
    new_page: Callable[..., Page],
    live_server: str,
    clean_db: Engine,
    world: World,
    settings: Settings,
) -> None:
    d = definition(settings)
    g = generate(clean_db, d, seed=20261203)
    add_generated_challenges(clean_db, g, d, seed=4)
    for javascript in (False, True):
        page = new_page(javascript=javascript)
        as_persona(page, clean_db, world.people["scrutineer"], live_server)
        page.goto(f"/campaigns/{g.campaign_id}/report")
        expect(page.locator("#dip-samples")).to_have_text("Dip samples and evidence challenges")
        summary = words(page.locator("#dip-sample-summary").inner_text())
        assert "reviewed by quality assurance" in summary
        outcomes = words(page.locator("#dip-outcomes-1").inner_text())
        assert "Substantiated" in outcomes and "Reviewed" in outcomes
        method = words(page.locator("#method-list").inner_text())
        assert f"Seed: {SAMPLE_SEED}" in method and "Content hash" in method
        assert f"by {CHOSEN_BY}" in method  # typed markup shows as the characters typed
        assert_accessible(page)
        shoot(page, f"report-dip-samples-{'js' if javascript else 'no-js'}")

        tab_to(page, "#report-downloads a")
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        data = download.value.path().read_bytes()
        assert data.startswith(b"%PDF")
        # With JavaScript the page says at once that the pack is being made, then that it came.
        ready = "The pack is ready: your browser has downloaded it." if javascript else ""
        expect(page.locator("#pack-status")).to_have_text(ready)
        text = words(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
        assert summary in text
        assert words(page.locator("#dip-outcomes-1 tbody tr").first.inner_text()) in text

    # With JavaScript the filters update the results in place, and the pack link follows them.
    page.select_option("#filter-district", "North")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator("#report-filters")).to_contain_text("district: North")
    link = page.locator("#report-downloads a")
    expect(link).to_have_attribute("href", f"/campaigns/{g.campaign_id}/report.pdf?district=North")
    assert "these organisations only" in visible_text(page)
