"""The scrutineer's pack (a PDF) says what the report page says: its text, extracted with pypdf,
carries the page's key figures, every row of the page's tables, the methodology facts and, on
every page, a footer naming the questionnaire key, version and content hash. Names people typed
print literally, never as markup. Filters carry over; a bad filter is a plain 400."""

from __future__ import annotations

import dataclasses
import html
import io
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, Campaign, Organisation, ReturnStatus
from audit_portal.questionnaires import load_catalogue
from audit_portal.reports.campaign_report import campaign_report
from audit_portal.reports.pack import PackFacts, scrutineer_pack
from audit_portal.reports.queries import ReportFilters
from tests.personas import World, signed_in
from tests.report_builders import CHOSEN_BY, SAMPLE_SEED, add_generated_challenges
from tests.report_data import Generated, definition, generate

HOSTILE_TITLE = "Audit <b>2026</b> & <para>more</para>"
HOSTILE_NAME = "<b>Bold</b> & Sons <para>Academy</para> &amp; <font size=40>"


def words(text: str) -> str:
    return " ".join(text.split())


def visible(page: str) -> str:
    return words(html.unescape(re.sub(r"<[^>]+>", " ", page)))


def table_rows(page: str, table_id: str) -> list[str]:
    """Each body row of one table of the page, as one line of its visible text."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert found, f"no table {table_id}"
    body = found.group(0).split("<tbody", 1)[1]
    return [visible(row) for row in re.findall(r"<tr.*?</tr>", body, re.S)]


def summary_values(page: str, list_id: str | None = None) -> dict[str, str]:
    """A GOV.UK summary list's rows: key -> visible value."""
    source = page
    if list_id:
        found = re.search(rf'<dl[^>]*id="{list_id}".*?</dl>', page, re.S)
        assert found, list_id
        source = found.group(0)
    pairs = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", source, re.S)
    return {visible(k): visible(v) for k, v in pairs}


def pdf_pages(data: bytes) -> list[str]:
    return [words(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def save_for_looking(data: bytes, name: str) -> None:
    """Set PACK_PDF_DIR to keep the PDFs (to render with pdftoppm and look at)."""
    folder = os.environ.get("PACK_PDF_DIR")
    if folder:
        Path(folder, name).write_bytes(data)


@pytest.fixture
def generated(clean_db: Engine, settings: Settings) -> Generated:
    d = definition(settings)
    earlier = generate(clean_db, d, seed=7)
    g = generate(clean_db, d, seed=20261203)
    add_generated_challenges(clean_db, g, d, seed=4)
    not_returning = next(o for o, s in g.status.items() if s is ReturnStatus.NOT_STARTED)
    with session_scope(clean_db, write=True) as db:
        previous = db.get(Campaign, earlier.campaign_id)
        campaign = db.get(Campaign, g.campaign_id)
        organisation = db.get(Organisation, not_returning)
        assert previous and campaign and organisation
        previous.opens_on, previous.title = previous.opens_on.replace(year=2025), "Audit 2025"
        campaign.title = HOSTILE_TITLE
        campaign.selection = {"districts": ["North", "South"], "phases": ["primary"]}
        organisation.name = HOSTILE_NAME
        db.add_all([previous, campaign, organisation])
    return g


def test_the_pack_carries_the_page_figures_methodology_and_footer(
    client: TestClient, clean_db: Engine, world: World, generated: Generated
) -> None:
    signed_in(client, clean_db, world.people["scrutineer"])
    report_url = f"/campaigns/{generated.campaign_id}/report"
    page = client.get(report_url).text
    assert f'href="{report_url}.pdf"' in page
    response = client.get(f"{report_url}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    save_for_looking(response.content, "pack.pdf")
    pages = pdf_pages(response.content)
    text = " ".join(pages)
    assert len(pages) > 10

    method = summary_values(page, "method-list")
    key_version, content_hash = method["Questionnaire"], method["Content hash"]
    assert key_version == "section-175-schools version 2025.1" and len(content_hash) == 64
    for number, page_text in enumerate(pages, start=1):
        assert key_version in page_text, number
        assert f"Content hash {content_hash}" in page_text, number
        assert f"Page {number}" in page_text

    figures = summary_values(page)
    for label in ("Invited", "Started", "Submitted (returned)", "Accepted"):
        assert f"{label} {figures[label]}" in text, label
    comparison = figures["Against the previous campaign"]
    assert "returned, against" in comparison and f"campaign {comparison}" in text

    tables = ["rag-table", "item-table", "weaknesses-table", "strengths-table"]
    tables += ["year-on-year-table", "dip-outcomes-1", "dip-outcomes-2", "dip-gaps-1"]
    tables += ["dip-gaps-2", "response-kind", "response-district"]
    checked = 0
    for table_id in tables:
        for row in table_rows(page, table_id):
            assert row in text, (table_id, row)
            checked += 1
    assert checked > 100
    assert "fewer than 5" in text and "withheld" in text
    summary = re.search(r'id="dip-sample-summary">(.*?)</p>', page, re.S)
    assert summary and visible(summary.group(1)) in text
    completion = re.search(r'id="follow-up-completion">(.*?)</p>', page, re.S)
    assert completion is None or visible(completion.group(1)) in text

    methodology = pages[-1]
    assert "Methodology" in methodology
    for label in ("Campaign dates", "Invited", "Small numbers"):
        assert method[label] in methodology, label
    assert method["Campaign dates"] == "5 January 2026 to 31 March 2026"
    assert method["Invited"].startswith("30 organisations: every active organisation")
    assert "with phase Primary and district North or South" in method["Invited"]
    assert f"Seed: {SAMPLE_SEED}" in visible(page) and f"Seed {SAMPLE_SEED}" in methodology
    assert "Method Simple random" in methodology
    assert "Always excluded 1 organisation chosen by QA" in methodology
    assert f"by {CHOSEN_BY}" in methodology and f"by {CHOSEN_BY}" in visible(page)

    # Names people typed print literally, never as markup.
    assert HOSTILE_TITLE in text and HOSTILE_TITLE in visible(page)
    assert f"{HOSTILE_NAME}: not started" in text


def test_the_contents_give_the_page_of_every_heading(
    client: TestClient, clean_db: Engine, world: World, generated: Generated
) -> None:
    """The contents are laid out before the pages they list: each number must still be the page
    the PDF's own outline (its bookmarks) takes the reader to."""
    signed_in(client, clean_db, world.people["scrutineer"])
    data = client.get(f"/campaigns/{generated.campaign_id}/report.pdf").content
    reader = PdfReader(io.BytesIO(data))
    entries: list[tuple[str, int]] = []
    pending: list[Any] = list(reader.outline)
    while pending:
        entry = pending.pop(0)
        if isinstance(entry, list):
            pending[:0] = entry
        else:
            page = reader.get_destination_page_number(entry)
            assert page is not None, entry.title
            entries.append((entry.title, page + 1))
    assert len(entries) > 10 and entries[0][0] == "Key figures"
    contents_pages = pdf_pages(data)[1 : entries[0][1] - 1]  # from the contents to key figures
    contents = " ".join(contents_pages)
    assert contents.count("Contents") == 1 and len(contents_pages) >= 1
    for title, page in entries:
        assert f"{words(title)} {page}" in contents, (title, page)
    assert entries[-1][1] == len(reader.pages)  # the methodology, on the last page


def test_a_row_taller_than_a_page_is_split_and_every_word_printed(
    clean_db: Engine, settings: Settings, generated: Generated
) -> None:
    """Rows are measured once, before the layout; one taller than a page (a very long
    question) must still split across pages rather than fail, with nothing lost from the
    table. The chart gives the question's first lines only: drawn whole, 600 words made a
    chart taller than a page, which could not be laid out at all."""
    catalogue = load_catalogue(settings.questionnaires_dir)
    with session_scope(clean_db, write=False) as db:
        campaign = db.get(Campaign, generated.campaign_id)
        assert campaign is not None
        report = campaign_report(db, catalogue, campaign, ReportFilters(), date(2026, 3, 1))
    first, *others = report.item_rows
    prompt = " ".join(f"clause{n}" for n in range(600))
    longer = dataclasses.replace(report, item_rows=[dataclasses.replace(first, prompt=prompt)])
    longer.item_rows.extend(others)
    facts = PackFacts("Testshire", date(2026, 3, 1))
    pages = pdf_pages(scrutineer_pack(longer, facts))
    text = " ".join(pages) + " "
    shown = [text.count(f"clause{n} ") + text.count(f"clause{n}…") for n in range(600)]
    assert set(shown[:20]) == {2}, "the chart and the table both start the question"
    assert set(shown[100:]) == {1}, "the table alone has the rest of it"
    assert min(shown) >= 1 and "…" in text
    assert len(pages) > len(pdf_pages(scrutineer_pack(report, facts)))


def test_the_pack_takes_the_page_filters(
    client: TestClient, clean_db: Engine, world: World, generated: Generated
) -> None:
    signed_in(client, clean_db, world.people["qa"])
    report_url = f"/campaigns/{generated.campaign_id}/report"
    page = client.get(f"{report_url}?district=North&kind=").text
    assert f'href="{report_url}.pdf?district=North"' in page
    north = sum(facts["district"] == "North" for facts in generated.orgs.values())
    data = client.get(f"{report_url}.pdf?district=North").content
    text = " ".join(pdf_pages(data))
    assert "Showing organisations with district: North." in text
    assert f"Invited {north}" in text and north < len(generated.orgs)
    for row in table_rows(page, "item-table"):
        assert row in text, row
    with session_scope(clean_db, write=False) as db:
        [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "report.downloaded")).all()
    assert event.object_id == str(generated.campaign_id)
    assert event.new == {"download": "report.pdf", "filters": {"district": "North"}}


def test_bad_filters_and_unknown_campaigns_get_plain_errors(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    signed_in(client, clean_db, world.people["scrutineer"])
    url = f"/campaigns/{world.campaign_id}/report.pdf"
    response = client.get(f"{url}?district=Atlantis")
    assert response.status_code == 400
    assert "There is no such district" in response.text
    assert client.get("/campaigns/2000000001/report.pdf").status_code == 404
    empty = client.get(url)
    assert empty.status_code == 200
    text = " ".join(pdf_pages(empty.content))
    assert "No returns have been submitted yet" in text
    assert "No evidence challenges have been issued yet." in text


def test_organisation_users_cannot_download_the_pack(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    for persona in ("respondent_a", "signatory_a", "no_roles"):
        signed_in(client, clean_db, world.people[persona])
        response = client.get(f"/campaigns/{world.campaign_id}/report.pdf")
        assert response.status_code in (403, 404), persona
        assert not response.content.startswith(b"%PDF")
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(Campaign)).first() is not None


def test_the_pack_tells_the_waiting_page_it_has_been_sent(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    """The report page's script waits for a cookie carrying its one-off token; nothing else can
    be set through the token."""
    with TestClient(app) as client:
        signed_in(client, clean_db, world.people["scrutineer"])
        url = f"/campaigns/{world.campaign_id}/report.pdf"
        sent = client.get(url, params={"download": "k3j9x0a1"})
        assert sent.status_code == 200
        assert "download_ready=k3j9x0a1" in sent.headers["set-cookie"]
        for hostile in ("a;b=c", "x" * 40, "ABC", ""):
            refused = client.get(url, params={"download": hostile})
            assert refused.status_code == 200
            assert "download_ready" not in refused.headers.get("set-cookie", "")
