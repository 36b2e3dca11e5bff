"""The report's downloads: the XLSX and CSV tables read back carry the page's figures (small
numbers hidden alike), formulas are neutralised, the answer-level CSV is for QA and
administrators only and streams in flat memory, and every download is in the audit trail."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import tracemalloc
from datetime import date
from typing import Any

import openpyxl
from sqlalchemy import Engine, insert
from sqlmodel import col, select
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    AuditEvent,
    Campaign,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    SubmittedAnswer,
    saved_id,
)
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.answer_export import ANSWER_HEADER, answer_lines
from audit_portal.reports.campaign_report import CampaignReport, campaign_report
from audit_portal.reports.exports import PROVENANCE_HEADER, csv_rows
from audit_portal.reports.figures import SUBMITTED, Share
from audit_portal.reports.queries import ReportFilters
from audit_portal.returns.typed_answers import answer_rows, write_answer_rows
from tests.personas import World, signed_in
from tests.report_data import definition, generate, table_rows

THRESHOLD = 5
FEWER = f"fewer than {THRESHOLD}"
HIDDEN = {FEWER, "withheld"}


def url(campaign_id: int, what: str, query: str = "") -> str:
    return f"/campaigns/{campaign_id}/{what}" + (f"?{query}" if query else "")


def the_report(engine: Engine, settings: Settings, campaign_id: int, **filters: str):  # type: ignore[no-untyped-def]
    catalogue = load_catalogue(settings.questionnaires_dir)
    with session_scope(engine, write=False) as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign_report(
            db, catalogue, campaign, ReportFilters(**filters), clock.today(), THRESHOLD
        )


def sheet(workbook: Any, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A sheet's header (row 2) and its rows, down to the first empty row (notes follow)."""
    ws = workbook[name]
    header = [c.value for c in ws[2]]
    rows = []
    for row in ws.iter_rows(min_row=3, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(row)
    return header, rows


def csv_lines(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "a byte order mark, so that Excel reads UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def shown_as_on_page(count: Any, percent: Any, of: int) -> str:
    """What the page prints for a cell, worked out from the spreadsheet's count and percent."""
    if count in HIDDEN:
        assert percent == count
        return str(count)
    if of == 0:  # nothing rated: no percentage, and the page says so
        assert (count, percent) == (0, None)
        return Share(0, 0).text
    assert isinstance(count, int) and isinstance(percent, int), (count, percent)
    return f"{percent}% ({count} of {of})"


def make_previous(engine: Engine, settings: Settings) -> None:
    earlier = generate(engine, definition(settings), seed=7)
    with session_scope(engine, write=True) as db:
        previous = db.get(Campaign, earlier.campaign_id)
        assert previous is not None
        previous.opens_on, previous.title = date(2025, 1, 6), "Schools audit 2025"
        db.add(previous)


def test_the_spreadsheet_and_the_csv_carry_the_pages_figures_for_a_filter(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    make_previous(clean_db, settings)
    g = generate(clean_db, definition(settings), seed=20261203)
    report = the_report(clean_db, settings, g.campaign_id, district="North")
    signed_in(client, clean_db, world.people["scrutineer"])
    page = client.get(url(g.campaign_id, "report", "district=North")).text
    response = client.get(url(g.campaign_id, "report.xlsx", "district=North"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="Generated report (North).xlsx"'
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    stamp = (report.questionnaire_key, report.questionnaire_version, report.content_hash)
    assert len(report.content_hash) == 64
    for name in workbook.sheetnames:
        ws = workbook[name]
        assert ws.freeze_panes == "A3", name  # the provenance line and the header stay in view
        assert report.content_hash in ws["A1"].value
        header, rows = sheet(workbook, name)
        assert tuple(header[-3:]) == PROVENANCE_HEADER, name
        assert all(tuple(row[-3:]) == stamp for row in rows), name
    assert {"Response", "Response by district", "Ratings by standard", "Each item"} <= set(
        workbook.sheetnames
    )
    assert {"Common weaknesses", "Strengths", "Year on year", "Method"} <= set(workbook.sheetnames)

    _items_match(workbook, report, page)
    _standards_match(workbook, report, page)
    _response_matches(workbook, report, page)
    _year_on_year_matches(workbook, report, page)

    body = client.get(url(g.campaign_id, "report.csv", "district=North")).content
    lines = csv_lines(body)
    assert lines[0] == [*PROVENANCE_HEADER, "Table", "Row", "Column", "Value"]
    assert all(tuple(line[:3]) == stamp for line in lines[1:])
    cells = {(t, r, c): v for _, _, _, t, r, c, v in lines[1:]}
    assert len(cells) == len(lines) - 1, "each cell once"
    header, rows = sheet(workbook, "Each item")
    for row in rows:
        for column, value in zip(header[1:-3], row[1:-3], strict=True):
            assert cells["Each item", row[0], column] == ("" if value is None else str(value))
    assert sum(v == FEWER for v in cells.values()) > 0


def _items_match(workbook: Any, report: CampaignReport, page: str) -> None:
    header, rows = sheet(workbook, "Each item")
    on_page = {r[0].split()[0]: r for r in table_rows(page, "item-table")}
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert list(by_id) == [r.item_id for r in report.item_rows]
    hidden_cells = 0
    for item in report.item_rows:
        xlsx, printed = by_id[item.item_id], on_page[item.item_id]
        assert (xlsx["Rated"], xlsx["Not applicable"]) == (item.rated, item.not_applicable)
        assert printed[-2:] == [str(item.rated), str(item.not_applicable)]
        if not item.rated:  # not asked of anyone counted: no shares to give
            assert all(xlsx[f"{label} %"] is None for _, label in report.scale)
            assert (xlsx["Rated effective"], xlsx["Rated effective %"]) == (0, None)
            continue
        for n, (value, label) in enumerate(report.scale, start=1):
            cell = report.items.cell(item.item_id, value)
            count, percent = xlsx[label], xlsx[f"{label} %"]
            if cell.suppressed:
                hidden_cells += 1
                assert count == percent == cell.text
            else:
                assert count == cell.value and type(count) is int
            assert shown_as_on_page(count, percent, item.rated) == printed[n]
        effective = xlsx["Rated effective"], xlsx["Rated effective %"]
        assert shown_as_on_page(*effective, item.rated) == printed[len(report.scale) + 1]
    assert hidden_cells, "a filtered campaign of 30 has small cells: they must stay hidden"


def _standards_match(workbook: Any, report: CampaignReport, page: str) -> None:
    header, rows = sheet(workbook, "Ratings by standard")
    printed = table_rows(page, "rag-table")
    assert [r[0] for r in rows] == [r[0] for r in printed]
    for row, shown in zip(rows, printed, strict=True):
        values = dict(zip(header, row, strict=True))
        if not values["Rated"]:
            assert shown[1:4] == [Share(0, 0).text] * 3
            assert [values[f"{c} %"] for c in ("Green", "Amber", "Red")] == [None] * 3
            continue
        for n, colour in enumerate(("Green", "Amber", "Red"), start=1):
            assert (
                shown_as_on_page(values[colour], values[f"{colour} %"], values["Rated"])
                == (shown[n])
            )
        assert [str(values["Rated"]), str(values["Not applicable"])] == shown[4:6]


def _response_matches(workbook: Any, report: CampaignReport, page: str) -> None:
    _, rows = sheet(workbook, "Response")
    values = {row[0]: row[1:4] for row in rows}
    overall = report.response.overall
    assert values["Invited"][0] == overall.invited
    for name, share in (
        ("Started", overall.started),
        ("Submitted (returned)", overall.submitted),
        ("Accepted", overall.accepted),
    ):
        assert values[name] == (share.numerator, share.denominator, share.percent)
        count, of, percent = values[name]
        assert f"{percent}% ({count} of {of})" in page
    _, by_district = sheet(workbook, "Response by district")
    assert [r[0] for r in by_district] == ["North"]
    assert by_district[0][1] == overall.invited


def _year_on_year_matches(workbook: Any, report: CampaignReport, page: str) -> None:
    header, rows = sheet(workbook, "Year on year")
    assert report.year_on_year is not None and report.year_on_year.compared
    printed = {r[0].split()[0]: r for r in table_rows(page, "year-on-year-table")}
    assert len(rows) == len(report.year_on_year.compared)
    for row in rows:
        values = dict(zip(header, row, strict=True))
        shown = printed[values["Item"]]
        now = shown_as_on_page(
            values["Rated effective now"], values["Rated effective now %"], values["Rated now"]
        )
        assert now == shown[1]
        assert values["Change"] == shown[3]
        points = values["Change (percentage points)"]
        assert points is None or isinstance(points, int | float)


def test_formulas_in_names_and_answers_are_neutralised(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    g = generate(clean_db, definition(settings), seed=3)
    silent = next(o for o, s in g.status.items() if s not in SUBMITTED)
    hostile = '=HYPERLINK("http://evil.example","Click")'
    with session_scope(clean_db, write=True) as db:
        org = db.get(Organisation, silent)
        assert org is not None
        org.name = hostile
        db.add(org)
    first = "s175.1.1"
    counted = submitted_return(
        clean_db,
        g.campaign_id,
        "+Counted School",
        {first: {"value": 1, "narrative": "=1+2", "evidence": "@SUM(A1:A9)"}},
    )
    signed_in(client, clean_db, world.people["qa"])

    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(url(g.campaign_id, "report.xlsx")).content)
    )
    _, rows = sheet(workbook, "Not returning")
    cell = next(c for c in workbook["Not returning"]["A"] if c.value and "HYPERLINK" in c.value)
    assert cell.value == "'" + hostile and cell.data_type == "s"
    assert ("'" + hostile) in [r[0] for r in rows]
    long = csv_lines(client.get(url(g.campaign_id, "report.csv")).content)
    assert ["Not returning", "'" + hostile] in [line[3:5] for line in long]
    assert not any(v.startswith(("=", "+", "-", "@")) for line in long for v in line)

    lines = csv_lines(client.get(url(g.campaign_id, "answers.csv")).content)
    header = lines[0]
    mine = [dict(zip(header, line, strict=True)) for line in lines[1:]]
    written = next(r for r in mine if r["Item"] == first and r["Organisation id"] == str(counted))
    assert written["Organisation"] == "'+Counted School"
    assert (written["Narrative"], written["Evidence"]) == ("'=1+2", "'@SUM(A1:A9)")
    assert not any(v.startswith(("=", "+", "-", "@")) for line in lines for v in line)


def submitted_return(
    engine: Engine, campaign_id: int, name: str, answers: dict[str, dict[str, Any]]
) -> int:
    """One more organisation, with a submitted return of these answers; its id."""
    with session_scope(engine, write=True) as db:
        org = Organisation(name=name, duty_type="section-175-school", kind="school")
        db.add(org)
        db.flush()
        ret = Return(
            campaign_id=campaign_id,
            organisation_id=saved_id(org),
            status=ReturnStatus.SUBMITTED.value,
        )
        db.add(ret)
        db.flush()
        submission = Submission(
            return_id=saved_id(ret),
            revision=1,
            declaration_name="A Head",
            declaration_role="Head",
            declaration_date=date(2026, 3, 1),
            questionnaire_key="section-175-schools",
            questionnaire_version="2025.1",
            questionnaire_hash="0" * 64,
            content={"answers": answers, "score": {"items": {}, "less_effective": []}},
        )
        db.add(submission)
        db.flush()
        write_answer_rows(db, ret, submission)
        return saved_id(org)


def test_the_answer_level_csv_has_every_counted_answer_for_the_filter(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    d = definition(settings)
    g = generate(clean_db, d, seed=20261203)
    signed_in(client, clean_db, world.people["admin"])
    response = client.get(url(g.campaign_id, "answers.csv", "district=South"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="Generated answers (South).csv"'
    )
    lines = csv_lines(response.content)
    assert lines[0] == [*PROVENANCE_HEADER, *ANSWER_HEADER]
    rows = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    got = {(int(r["Organisation id"]), r["Item"]): r for r in rows}
    assert len(got) == len(rows), "one line per organisation per item"
    expected = {
        (org, item): value
        for org, facts in g.orgs.items()
        if facts["district"] == "South" and g.status[org] in SUBMITTED
        for item, value in g.latest[org].items()
    }
    assert expected and set(got) == set(expected)
    labels = {p.value: p.label for p in d.rating_scale.points}
    for key, value in expected.items():
        row = got[key]
        if value is None:
            assert (row["Answer"], row["Not applicable"]) == ("", "Yes")
        else:
            assert (row["Answer"], row["Rating"]) == (str(value), labels[value])
            assert row["Not applicable"] == "No"
        assert row["Return status"] == g.status[key[0]].label
        assert row["Standard"] == key[1].rsplit(".", 1)[0]


def test_only_qa_and_administrators_get_the_answer_level_csv(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    g = generate(clean_db, definition(settings), seed=4)
    answers = url(g.campaign_id, "answers.csv")
    signed_in(client, clean_db, world.people["scrutineer"])
    assert client.get(answers).status_code == 403
    assert client.get(url(g.campaign_id, "answers.csv", "district=North")).status_code == 403
    page = client.get(url(g.campaign_id, "report", "district=North")).text
    assert "answers.csv" not in page
    assert f'href="{url(g.campaign_id, "report.xlsx", "district=North")}"' in page
    assert f'href="{url(g.campaign_id, "report.csv", "district=North")}"' in page
    home = client.get("/dashboard").text
    for campaign_id in (g.campaign_id, world.campaign_id):
        assert f'href="{url(campaign_id, "report.xlsx")}"' in home
        assert f'href="{url(campaign_id, "report.csv")}"' in home
    assert "answers.csv" not in home
    with session_scope(clean_db, write=False) as db:
        refused = db.exec(
            select(AuditEvent).where(AuditEvent.action == "security.authorisation_refused")
        ).all()
    assert any(e.new and e.new.get("path") == answers for e in refused)
    for persona in ("qa", "admin"):
        signed_in(client, clean_db, world.people[persona])
        page = client.get(url(g.campaign_id, "report", "district=North")).text
        assert f'href="{url(g.campaign_id, "answers.csv", "district=North")}"' in page
        assert client.get(answers).status_code == 200


def test_each_download_is_audited_and_bad_requests_are_refused_plainly(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    g = generate(clean_db, definition(settings), seed=8)
    signed_in(client, clean_db, world.people["qa"])
    for what in ("report.xlsx", "report.csv", "answers.csv"):
        response = client.get(url(g.campaign_id, what, "district=Atlantis"))
        assert response.status_code == 400, what
        assert "There is no such district: choose one from the list" in response.text
        assert client.get(url(2_000_000_001, what)).status_code == 404
    assert _downloads(clean_db) == []
    for what in ("report.xlsx", "report.csv", "answers.csv"):
        assert client.get(url(g.campaign_id, what, "district=North&kind=")).status_code == 200
    found = _downloads(clean_db)
    assert [e.new for e in found] == [
        {"download": what, "filters": {"district": "North"}}
        for what in ("report.xlsx", "report.csv", "answers.csv")
    ]
    assert all(e.actor_id == world.people["qa"].user_id for e in found)
    assert all(e.object_id == str(g.campaign_id) for e in found)


def _downloads(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine, write=False) as db:
        return list(
            db.exec(
                select(AuditEvent)
                .where(AuditEvent.action == "report.downloaded")
                .order_by(col(AuditEvent.id))
            ).all()
        )


def test_an_empty_campaign_downloads_without_figures_rather_than_failing(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    signed_in(client, clean_db, world.people["scrutineer"])
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(url(world.campaign_id, "report.xlsx")).content)
    )
    _, rows = sheet(workbook, "Response")
    assert rows[0][:2] == ("Invited", 2)
    assert rows[2][:4] == ("Submitted (returned)", 0, 2, 0)
    _, items = sheet(workbook, "Common weaknesses")
    assert items == []
    signed_in(client, clean_db, world.people["qa"])
    lines = csv_lines(client.get(url(world.campaign_id, "answers.csv")).content)
    assert len(lines) == 1  # the header: nothing submitted, nothing to list


# --- a large campaign: flat memory -----------------------------------------------------------


ITEMS = 10
NARRATIVE = "We check this every term and record what we find in the governors' minutes. " * 4


def bulk_campaign(engine: Engine, d: Definition, organisations: int, title: str) -> int:
    """A campaign of submitted returns written in bulk: ``organisations`` x ITEMS answers."""
    items = [i.id for i in d.items() if i.kind == "rating"][:ITEMS]
    points = d.rating_scale.points
    with session_scope(engine, write=True) as db:
        campaign = Campaign(
            title=title,
            questionnaire_key=d.key,
            questionnaire_version=d.version,
            opens_on=date(2026, 1, 5),
            closes_on=date(2026, 3, 31),
            status="closed",
        )
        orgs = [
            Organisation(
                name=f"{title} school {n:05}",
                duty_type="section-175-school",
                kind="school",
                district="North",
            )
            for n in range(organisations)
        ]
        db.add(campaign)
        db.add_all(orgs)
        db.flush()
        returns = [
            Return(
                campaign_id=saved_id(campaign),
                organisation_id=saved_id(o),
                status=ReturnStatus.SUBMITTED.value,
            )
            for o in orgs
        ]
        db.add_all(returns)
        db.flush()
        submissions = []
        for n, ret in enumerate(returns):
            answers = {
                item: {"value": points[(n + k) % len(points)].value, "narrative": NARRATIVE}
                for k, item in enumerate(items)
            }
            rags = {item: points[(n + k) % len(points)].rag for k, item in enumerate(items)}
            content = {"answers": answers, "score": {"items": rags, "less_effective": []}}
            submissions.append(
                Submission(
                    return_id=saved_id(ret),
                    revision=1,
                    declaration_name="A Head",
                    declaration_role="Head",
                    declaration_date=date(2026, 3, 1),
                    questionnaire_key=d.key,
                    questionnaire_version=d.version,
                    questionnaire_hash="0" * 64,
                    content=content,
                )
            )
        db.add_all(submissions)
        db.flush()
        db.execute(
            insert(SubmittedAnswer),
            [
                {
                    "submission_id": saved_id(s),
                    "return_id": ret.id,
                    "campaign_id": saved_id(campaign),
                    "organisation_id": ret.organisation_id,
                    **row.__dict__,
                }
                for s, ret in zip(submissions, returns, strict=True)
                for row in answer_rows(s.content)
            ],
        )
        return saved_id(campaign)


def export_peak(engine: Engine, d: Definition, campaign_id: int) -> tuple[int, int, int]:
    """(lines, bytes, peak bytes traced) for one whole answer-level export."""
    with session_scope(engine, write=False) as db:
        lines = csv_rows(
            ANSWER_HEADER,
            answer_lines(db, d, campaign_id, ReportFilters()),
            questionnaire_key=d.key,
            questionnaire_version=d.version,
            content_hash="0" * 64,
        )
        count = size = 0
        tracemalloc.start()
        try:
            for line in lines:
                count += 1
                size += len(line)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return count, size, peak


def test_the_answer_level_csv_streams_a_large_campaign_in_flat_memory(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    d = definition(settings)
    small = bulk_campaign(clean_db, d, 150, "Small")
    large = bulk_campaign(clean_db, d, 600, "Large")
    export_peak(clean_db, d, small)  # warm up: compiled statements and caches are not the export
    small_lines, _, small_peak = export_peak(clean_db, d, small)
    large_lines, large_bytes, large_peak = export_peak(clean_db, d, large)
    assert (small_lines, large_lines) == (150 * ITEMS + 1, 600 * ITEMS + 1)
    # Four times the answers, the same memory: what is held is a few submissions, not the file.
    assert large_peak < small_peak * 1.5 + 256 * 1024, (small_peak, large_peak)
    assert large_peak < large_bytes / 4, (large_peak, large_bytes)

    signed_in(client, clean_db, world.people["qa"])
    pool = clean_db.pool
    with client.stream("GET", url(large, "answers.csv")) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        chunks = list(response.iter_bytes())
    body = b"".join(chunks)
    assert len(chunks) > 10, "sent as it is read, not gathered first"
    assert body.count(b"\n") == large_lines
    assert body.decode("utf-8-sig").splitlines()[1].split(",")[4] == "Large school 00000"
    assert getattr(pool, "checkedout", lambda: 0)() == 0, "the connection went back to the pool"


def test_a_download_cut_off_by_the_client_gives_its_connection_back(
    app: Any, client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    """The browser hangs up after the first chunk: the body stops and its connection returns."""
    large = bulk_campaign(clean_db, definition(settings), 300, "Cut")
    signed_in(client, clean_db, world.people["qa"])
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    sent: list[bytes] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the request has no body; the client never speaks again
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            if sent:
                raise OSError("the client hung up")
            sent.append(message["body"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": f"/campaigns/{large}/answers.csv",
        "raw_path": f"/campaigns/{large}/answers.csv".encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"cookie", cookie.encode())],
        "state": {},
    }

    async def call() -> None:
        with contextlib.suppress(Exception):
            await app(scope, receive, send)

    asyncio.run(call())
    assert sent and sent[0].startswith(b"\xef\xbb\xbf")
    assert clean_db.pool.checkedout() == 0  # type: ignore[attr-defined]
