"""The accessibility statement says what was tested, how, and what is known not to meet the
standard (a duty under the 2018 accessibility regulations), as a person reads it."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.builders import visible_text


def statement(client: TestClient) -> str:
    response = client.get("/accessibility")
    assert response.status_code == 200
    return visible_text(response.text)


def test_it_says_which_journeys_were_tested_and_how(client: TestClient) -> None:
    text = statement(client)
    for sentence in (
        "How we tested this service",
        "We test the service in the Chromium web browser with automated journeys, one for each "
        "kind of user:",
        "an administrator imports schools, sets up and opens a campaign, sends a reminder and "
        "reads the outbox",
        "a respondent completes a return over two sittings, with JavaScript and without it",
        "a signatory checks a return and signs the declaration",
        "a quality assurance member selects a risk-weighted dip sample, asks for evidence, "
        "records outcomes and accepts a six-month follow-up",
        "the independent scrutineer filters a campaign report and downloads its PDF and "
        "spreadsheet",
        "a new user follows every link from the dashboard, two links deep, for each role",
        "axe-core checks every page these journeys reach, error pages included, with the "
        "service's own Content Security Policy in force",
        "a return and the evidence review form are completed with the keyboard alone",
        "every journey that changes a return also runs with JavaScript turned off",
        "each page is checked at 320 CSS pixels wide, where it must not scroll sideways",
    ):
        assert sentence in text, sentence
    assert "1.4.11" not in text, "the charts' segments are outlined now: no longer a failure"


def test_it_says_what_does_not_meet_the_standard_and_what_was_not_tested(
    client: TestClient,
) -> None:
    text = statement(client)
    for sentence in (
        "Non-accessible content",
        "The Check your answers page of a complete schools return has about 90 Tab stops",
        "The PDF documents the service makes are not tagged",
        "This fails WCAG 2.2 success criterion 1.3.1 (info and relationships).",
        "Wide tables scroll sideways inside their own box on a narrow screen",
        "We have not yet tested the service with screen readers or with disabled people.",
    ):
        assert sentence in text, sentence
