"""Questionnaire definitions for administrators and QA: list, preview, compare, blank PDF."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from audit_portal.policy import Permission
from audit_portal.questionnaires import (
    Catalogue,
    Definition,
    check_catalogue,
    current_catalogue,
    diff,
)
from audit_portal.questionnaires.blank_pdf import blank_pdf
from audit_portal.questionnaires.locks import locked_versions
from audit_portal.scoring import applies
from audit_portal.vocabulary import DUTY_TYPES, FEATURES, PHASES, SECTORS, OrganisationProfile
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import page

LABELS = {"duty_types": DUTY_TYPES, "sectors": SECTORS, "phases": PHASES, "features": FEATURES}


def _catalogue(request: Request) -> Catalogue:
    return current_catalogue(request.app.state.settings.questionnaires_dir)


def _definition(request: Request) -> Definition:
    p = request.path_params
    definition = _catalogue(request).get(p["key"], p["version"])
    if definition is None:
        raise HTTPException(404)
    return definition


def _profile(request: Request) -> OrganisationProfile | None:
    """Preview as a particular kind of organisation, so only the items that apply show."""
    q = request.query_params
    duty_type = q.get("duty_type", "")
    if duty_type not in DUTY_TYPES:
        return None
    features = frozenset(f for f in q.getlist("features") if f in FEATURES)
    return OrganisationProfile(
        duty_type=duty_type,
        sector=q.get("sector") if q.get("sector") in SECTORS else None,
        phase=q.get("phase") if q.get("phase") in PHASES else None,
        features=features,
    )


async def questionnaire_list(request: Request) -> Response:
    catalogue = _catalogue(request)
    problems = check_catalogue(catalogue)

    locks_by_version = await run_db(request, locked_versions)
    groups = [(key, catalogue.versions(key)) for key in catalogue.questionnaire_keys()]
    return render(
        request,
        "questionnaires/list.html",
        {
            "title": "Questionnaires",
            "groups": groups,
            "locks": locks_by_version,
            "problems": problems,
        },
    )


async def questionnaire_preview(request: Request) -> Response:
    definition = _definition(request)
    return render(
        request,
        "questionnaires/preview.html",
        {
            "title": f"{definition.title} ({definition.version})",
            "definition": definition,
            "profile": _profile(request),
            "labels": LABELS,
            "query": request.url.query,
        },
    )


async def section_preview(request: Request) -> Response:
    definition = _definition(request)
    section_id = request.path_params["section_id"]
    index = next((i for i, s in enumerate(definition.sections) if s.id == section_id), None)
    if index is None:
        raise HTTPException(404)
    section = definition.sections[index]
    profile = _profile(request)
    items = [item for item in section.items if applies(item, profile)]
    return render(
        request,
        "questionnaires/section.html",
        {
            "title": section.title,
            "definition": definition,
            "section": section,
            "items": items,
            "previous_section": definition.sections[index - 1] if index > 0 else None,
            "next_section": definition.sections[index + 1]
            if index + 1 < len(definition.sections)
            else None,
            "section_number": index + 1,
            "query": request.url.query,
            "preview": True,
        },
    )


async def questionnaire_pdf(request: Request) -> Response:
    definition = _definition(request)
    data = blank_pdf(definition, request.app.state.settings.partnership_name)
    filename = f"{definition.key}-{definition.version}-blank.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def questionnaire_diff(request: Request) -> Response:
    key = request.path_params["key"]
    catalogue = _catalogue(request)
    versions = catalogue.versions(key)
    if len(versions) < 2:
        raise HTTPException(404)
    q = request.query_params
    new = catalogue.get(key, q.get("new", "")) or versions[-1]
    old = (
        catalogue.get(key, q.get("old", ""))
        or catalogue.get(key, new.supersedes or "")
        or versions[-2]
    )
    return render(
        request,
        "questionnaires/diff.html",
        {
            "title": f"What changed in {new.title}",
            "diff": diff(old, new),
            "versions": versions,
            "old": old,
            "new": new,
        },
    )


routes = [
    page("/questionnaires", questionnaire_list, permission=Permission.QUESTIONNAIRES_VIEW),
    page(
        "/questionnaires/{key}/diff", questionnaire_diff, permission=Permission.QUESTIONNAIRES_VIEW
    ),
    page(
        "/questionnaires/{key}/{version}",
        questionnaire_preview,
        permission=Permission.QUESTIONNAIRES_VIEW,
    ),
    page(
        "/questionnaires/{key}/{version}/sections/{section_id}",
        section_preview,
        permission=Permission.QUESTIONNAIRES_VIEW,
    ),
    page(
        "/questionnaires/{key}/{version}/blank.pdf",
        questionnaire_pdf,
        permission=Permission.QUESTIONNAIRES_VIEW,
    ),
]
