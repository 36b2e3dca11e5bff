"""Administrators bring past years' returns in from a spreadsheet (a closed campaign).

The same checks as ``audit-portal import-returns``: if any row cannot be used, nothing is
imported and every bad row is listed with its number and reason, on the form, with the typed
choices kept.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from audit_portal import clock
from audit_portal.importing.historical import (
    HistoricalCampaign,
    HistoricalReport,
    import_historical_returns,
)
from audit_portal.importing.report import ImportFileError
from audit_portal.parsing import DateProblem, parse_date_parts
from audit_portal.policy import Permission
from audit_portal.questionnaires import current_catalogue
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import audit_context, page
from audit_portal.web.imports import MAX_UPLOAD_BYTES, record_rejected_upload

TITLE = "Import past returns"
SUFFIXES = (".csv", ".xlsx")


async def import_returns_page(request: Request) -> Response:
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    choices = [
        (f"{d.key}/{d.version}", f"{d.title} (version {d.version})")
        for d in sorted(catalogue.definitions, key=lambda d: (d.key, d.version_key))
        if d.status == "published"
    ]
    if request.method == "GET":
        return _form(request, choices, {}, {})
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()[:300]
        for k in ("questionnaire", "title", "submitted-day", "submitted-month", "submitted-year")
    }
    errors, plan = _plan(values, [value for value, _ in choices])
    data, filename = await _file(form, errors)
    if errors or plan is None:
        await record_rejected_upload(request, errors)
        return _form(request, choices, values, errors, status_code=400)
    ctx, today = audit_context(request), clock.today()
    try:
        report = await run_db(
            request,
            lambda db: import_historical_returns(db, catalogue, data, plan, ctx, today),
            write=True,
        )
    except ImportFileError as problem:
        errors = {"file": f"{problem} Nothing was imported."}
        await record_rejected_upload(request, errors)
        return _form(request, choices, values, errors, status_code=400)
    if not report.imported:
        return _form(request, choices, values, {"file": report.summary()}, report, 400)
    return render(
        request,
        "campaigns/import_report.html",
        {"title": "Past returns imported", "report": report, "plan": plan, "filename": filename},
    )


def _plan(
    values: dict[str, str], questionnaires: list[str]
) -> tuple[dict[str, str], HistoricalCampaign | None]:
    errors: dict[str, str] = {}
    if values["questionnaire"] not in questionnaires:
        errors["questionnaire"] = "Choose the questionnaire the returns answered"
    if not values["title"]:
        errors["title"] = "Enter a title for the campaign, for example Section 175 audit 2024"
    elif len(values["title"]) > 200:
        errors["title"] = "The title must be 200 characters or fewer"
    try:
        on = parse_date_parts(
            values["submitted-day"],
            values["submitted-month"],
            values["submitted-year"],
            what="the submitted date",
        )
    except DateProblem as problem:
        errors["submitted"] = str(problem)
        on = None
    else:
        if on is None:
            errors["submitted"] = "Enter the date the returns were submitted"
        elif on > clock.today():
            errors["submitted"] = "The submitted date must be today or in the past"
    if errors or on is None:
        return errors, None
    key, version = values["questionnaire"].split("/", 1)
    return errors, HistoricalCampaign(key, version, values["title"], on)


async def _file(form: FormData, errors: dict[str, str]) -> tuple[bytes, str]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "Choose a CSV or Excel (.xlsx) file to import"
        return b"", ""
    if not upload.filename.lower().endswith(SUFFIXES):
        errors["file"] = "The file must be a CSV or Excel (.xlsx) file"
        return b"", ""
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        errors["file"] = "The file must be smaller than 20 MB"
    return data, upload.filename


def _form(
    request: Request,
    choices: list[tuple[str, str]],
    values: dict[str, str],
    errors: dict[str, str],
    report: HistoricalReport | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "title": TITLE,
        "choices": choices,
        "form_values": values,
        "errors": errors,
        "report": report,
    }
    return render(request, "campaigns/import.html", context, status_code=status_code)


routes = [
    page(
        "/campaigns/import",
        import_returns_page,
        permission=Permission.CAMPAIGNS_MANAGE,
        methods=["GET", "POST"],
    ),
]
