"""Questionnaire admin pages: list, preview as a respondent sees it, diff, blank PDF."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.config import PROJECT_ROOT
from audit_portal.questionnaires import load_catalogue
from tests.personas import World, signed_in

CATALOGUE = load_catalogue(PROJECT_ROOT / "questionnaires")
ALL_VERSIONS = [(d.key, d.version) for d in CATALOGUE.definitions]


@pytest.fixture
def qa(app: Starlette, clean_db: Engine, world: World) -> Iterator[TestClient]:
    with TestClient(app) as client:
        signed_in(client, clean_db, world.people["qa"])
        yield client


def test_list_shows_every_version(qa: TestClient) -> None:
    page = qa.get("/questionnaires")
    for key, version in ALL_VERSIONS:
        assert f'href="/questionnaires/{key}/{version}"' in page.text
    assert 'href="/questionnaires/section-175-schools/diff?old=2022.1&amp;new=2025.1"' in page.text


@pytest.mark.parametrize(("key", "version"), ALL_VERSIONS)
def test_every_section_of_every_questionnaire_renders(
    qa: TestClient, key: str, version: str
) -> None:
    d = CATALOGUE.get(key, version)
    overview = qa.get(f"/questionnaires/{key}/{version}")
    assert overview.status_code == 200 and d.title in overview.text
    for section in d.sections:
        page = qa.get(f"/questionnaires/{key}/{version}/sections/{section.id}")
        assert page.status_code == 200
        for item in section.items:
            assert item.prompt.split()[0] in page.text
            assert f'id="item-{item.id.replace(".", "-")}"' in page.text
        for point in d.rating_scale.points:
            assert point.label in page.text


def test_preview_as_a_kind_of_organisation_hides_items_that_do_not_apply(qa: TestClient) -> None:
    base = "/questionnaires/section-175-schools/2025.1/sections/s175.14"
    everything = qa.get(base).text
    day_primary = qa.get(base + "?duty_type=section-175-school&phase=primary").text
    boarding = qa.get(base + "?duty_type=section-175-school&phase=secondary&features=boarding").text
    assert 'id="item-s175-14-4"' in everything
    assert 'id="item-s175-14-4"' not in day_primary
    assert 'id="item-s175-14-4"' in boarding


@pytest.mark.parametrize(("key", "version"), ALL_VERSIONS)
def test_blank_pdf_has_every_item(qa: TestClient, key: str, version: str) -> None:
    response = qa.get(f"/questionnaires/{key}/{version}/blank.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{key}-{version}-blank.pdf"' in response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    d = CATALOGUE.get(key, version)
    for item in d.items():
        assert item.id in text, item.id
    assert "Testshire Safeguarding Children Partnership" in text
    assert len(reader.pages) >= 5


def test_diff_page(qa: TestClient) -> None:
    page = qa.get("/questionnaires/section-175-schools/diff?old=2022.1&new=2025.1").text
    assert "Added (7)" in page and "Removed (3)" in page
    assert "Split from s175.10.2" in page
    assert "<del>" in page and "<ins>" in page


def test_unknown_questionnaire_is_404(qa: TestClient) -> None:
    assert qa.get("/questionnaires/section-11/1999.1").status_code == 404
    assert qa.get("/questionnaires/section-11/2025.1/sections/s11.99").status_code == 404
    assert qa.get("/questionnaires/section-99/diff").status_code == 404


def test_the_new_versions_say_only_the_overall_rating_changed(qa: TestClient) -> None:
    page = qa.get("/questionnaires/section-11/diff?old=2025.1&new=2025.2")
    assert page.status_code == 200
    assert "The way section and overall ratings are worked out changed." in page.text
