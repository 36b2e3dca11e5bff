"""Administrators import organisations and intelligence by uploading a CSV file."""

from __future__ import annotations

from sqlmodel import Session
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from audit_portal.audit import security_event
from audit_portal.importing import (
    ImportFileError,
    ImportReport,
    import_intelligence,
    import_organisations,
    import_schools,
)
from audit_portal.policy import Permission
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import audit_context, page

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
KINDS = {
    "schools": "Schools and colleges from Get Information about Schools (all establishments CSV)",
    "organisations": "Partner agencies and early years settings (the portal's organisations CSV)",
    "intelligence": "Intelligence flags (the portal's intelligence CSV)",
}


async def import_page(request: Request) -> Response:
    if request.method == "GET":
        return render(
            request,
            "organisations/import.html",
            {"title": "Import organisations", "kinds": KINDS, "form_values": {}, "errors": {}},
        )
    form = await request.form()
    kind = str(form.get("kind", ""))
    authorities = [
        la.strip() for la in str(form.get("local_authorities", "")).replace("\n", ",").split(",")
    ]
    authorities = [la for la in authorities if la]
    upload = form.get("file")
    form_values = {"kind": kind, "local_authorities": form.get("local_authorities", "")}
    errors = _check(kind, authorities, upload)
    data = b""
    if not errors and isinstance(upload, UploadFile):
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            errors["file"] = "The file must be smaller than 20 MB"
    if errors:
        await record_rejected_upload(request, errors)
        return render(
            request,
            "organisations/import.html",
            {
                "title": "Import organisations",
                "kinds": KINDS,
                "form_values": form_values,
                "errors": errors,
            },
            status_code=400,
        )
    ctx = audit_context(request)

    def work(db: Session) -> ImportReport:
        if kind == "schools":
            return import_schools(db, data, authorities, ctx)
        if kind == "organisations":
            return import_organisations(db, data, ctx)
        return import_intelligence(db, data, ctx)

    try:
        report = await run_db(request, work, write=True)
    except ImportFileError as problem:
        errors = {"file": f"{problem} Nothing was imported."}
        await record_rejected_upload(request, errors)
        return render(
            request,
            "organisations/import.html",
            {
                "title": "Import organisations",
                "kinds": KINDS,
                "form_values": form_values,
                "errors": errors,
            },
            status_code=400,
        )
    filename = upload.filename if isinstance(upload, UploadFile) else ""
    return render(
        request,
        "organisations/import_report.html",
        {
            "title": "Import finished",
            "report": report,
            "kind_label": KINDS[kind],
            "filename": filename,
        },
    )


def _check(kind: str, authorities: list[str], upload: object) -> dict[str, str]:
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "Choose what the file contains"
    if kind == "schools" and not authorities:
        errors["local_authorities"] = (
            "Enter the local authority or authorities to import schools from"
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "Choose a CSV file to import"
    elif not upload.filename.lower().endswith(".csv"):
        errors["file"] = "The file must be a CSV file (its name should end in .csv)"
    return errors


async def record_rejected_upload(request: Request, errors: dict[str, str]) -> None:
    ctx = audit_context(request)
    await run_db(
        request,
        lambda db: security_event(db, ctx, "upload_rejected", reasons=sorted(errors.values())),
        write=True,
    )


routes = [
    page(
        "/organisations/import",
        import_page,
        permission=Permission.ORGANISATIONS_MANAGE,
        methods=["GET", "POST"],
    ),
]
