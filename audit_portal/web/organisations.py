"""Administrators manage organisations; members, QA and administrators view one."""

from __future__ import annotations

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from audit_portal.models import FLAG_TYPES, Organisation
from audit_portal.models.organisations import IDENTIFIER_SCHEMES, STATUSES
from audit_portal.organisations import (
    OrganisationError,
    OrganisationFilter,
    OrganisationPage,
    create_organisation,
    districts,
    list_organisations,
    note_intelligence,
    organisation_page,
    update_organisation,
)
from audit_portal.parsing import MAX_PAGE
from audit_portal.policy import Permission, allows
from audit_portal.returns.listing import ReturnListing, list_returns
from audit_portal.vocabulary import DUTY_TYPES, FEATURES, PHASES, SECTORS
from audit_portal.web.admin_forms import IntelligenceForm, OrganisationForm
from audit_portal.web.context import (
    PAGE_PROBLEM,
    get_or_404,
    query_number,
    redirect_with_message,
    render,
    return_filter_from,
    run_db,
)
from audit_portal.web.guard import audit_context, page

LABELS = {
    "duty_types": DUTY_TYPES,
    "sectors": SECTORS,
    "phases": PHASES,
    "features": FEATURES,
    "flags": FLAG_TYPES,
    "schemes": IDENTIFIER_SCHEMES,
    "statuses": STATUSES,
}


async def organisation_list(request: Request) -> Response:
    q = request.query_params
    organisation_filter = OrganisationFilter(
        search=q.get("search", "").strip()[:100],
        duty_type=q.get("duty_type", ""),
        district=q.get("district", ""),
        status=q.get("status", "active"),
        page=query_number(request, "page", PAGE_PROBLEM, high=MAX_PAGE) or 1,
    )
    organisations, total, all_districts = await run_db(
        request, lambda db: (*list_organisations(db, organisation_filter), districts(db))
    )
    pages = max(1, -(-total // organisation_filter.per_page))
    return render(
        request,
        "organisations/list.html",
        {
            "title": "Organisations",
            "organisations": organisations,
            "total": total,
            "organisation_filter": organisation_filter,
            "pages": pages,
            "districts": all_districts,
            "labels": LABELS,
            "can_manage": allows(request.state.actor, Permission.ORGANISATIONS_MANAGE),
        },
    )


def _form_values(form: OrganisationForm) -> dict:
    return {name: field.data for name, field in form._fields.items()}


async def organisation_new(request: Request) -> Response:
    form = (
        OrganisationForm(await request.form()) if request.method == "POST" else OrganisationForm()
    )
    context = {"title": "Add an organisation", "form": form, "organisation": None}
    if request.method == "GET" or not form.validate():
        return render(
            request, "organisations/form.html", context, status_code=400 if form.errors else 200
        )
    ctx = audit_context(request)
    try:
        org = await run_db(
            request, lambda db: create_organisation(db, ctx, _form_values(form)), write=True
        )
    except OrganisationError as problem:
        form.identifier.errors = [str(problem)]
        return render(request, "organisations/form.html", context, status_code=400)
    return await redirect_with_message(
        request, f"/organisations/{org.id}", f"{org.name} has been added."
    )


async def organisation_view(request: Request) -> Response:
    organisation_id = request.path_params["organisation_id"]
    actor = request.state.actor
    show_intelligence = allows(actor, Permission.INTELLIGENCE_VIEW)
    show_members = allows(actor, Permission.USERS_MANAGE)

    return_filter = return_filter_from(request)

    def load(db: Session) -> tuple[OrganisationPage | None, list[ReturnListing]]:
        found = organisation_page(
            db, organisation_id, with_members=show_members, with_intelligence=show_intelligence
        )
        return found, list_returns(db, return_filter, organisation_id=organisation_id)

    found, listings = await run_db(request, load)
    if found is None:
        raise HTTPException(404)
    return render(
        request,
        "organisations/view.html",
        {
            "title": found.organisation.name,
            "listings": listings,
            "return_filter": return_filter,
            "org": found.organisation,
            "members": found.members,
            "flags": found.flags,
            "history": found.history,
            "labels": LABELS,
            "can_manage": allows(actor, Permission.ORGANISATIONS_MANAGE),
            "can_note": allows(actor, Permission.INTELLIGENCE_MANAGE),
            "intelligence_form": IntelligenceForm(),
        },
    )


async def organisation_edit(request: Request) -> Response:
    organisation_id = request.path_params["organisation_id"]
    org = await run_db(request, lambda db: get_or_404(db, Organisation, organisation_id))
    if request.method == "POST":
        form = OrganisationForm(await request.form())
    else:
        form = OrganisationForm(obj=org)
    context = {"title": f"Change {org.name}", "form": form, "organisation": org}
    if request.method == "GET" or not form.validate():
        return render(
            request, "organisations/form.html", context, status_code=400 if form.errors else 200
        )
    ctx = audit_context(request)

    def save(db: Session) -> bool:
        return update_organisation(
            db, ctx, get_or_404(db, Organisation, organisation_id), _form_values(form)
        )

    try:
        changed = await run_db(request, save, write=True)
    except OrganisationError as problem:
        form.identifier.errors = [str(problem)]
        return render(request, "organisations/form.html", context, status_code=400)
    return await redirect_with_message(
        request,
        f"/organisations/{organisation_id}",
        "Your changes have been saved." if changed else "Nothing was changed.",
    )


async def intelligence_add(request: Request) -> Response:
    organisation_id = request.path_params["organisation_id"]
    form = IntelligenceForm(await request.form())
    if not form.validate():
        org = await run_db(request, lambda db: get_or_404(db, Organisation, organisation_id))
        return render(
            request,
            "organisations/intelligence_form.html",
            {"title": f"Add intelligence about {org.name}", "organisation": org, "form": form},
            status_code=400,
        )
    ctx = audit_context(request)

    values = {
        "flag": form.flag.data,
        "value": form.value.data or "",
        "source": form.source.data,
        "noted_on": form.noted_on.data,
        "note": form.note.data or "",
    }

    def save(db: Session) -> bool:
        get_or_404(db, Organisation, organisation_id)
        return note_intelligence(db, ctx, organisation_id, **values) != "unchanged"

    changed = await run_db(request, save, write=True)
    text = (
        "The intelligence has been recorded."
        if changed
        else "That intelligence was already recorded."
    )
    return await redirect_with_message(
        request, f"/organisations/{organisation_id}#intelligence", text
    )


routes = [
    page("/organisations", organisation_list, permission=Permission.ORGANISATIONS_LIST),
    page(
        "/organisations/new",
        organisation_new,
        permission=Permission.ORGANISATIONS_MANAGE,
        methods=["GET", "POST"],
    ),
    page(
        "/organisations/{organisation_id:id}",
        organisation_view,
        permission=Permission.ORGANISATION_VIEW,
    ),
    page(
        "/organisations/{organisation_id:id}/edit",
        organisation_edit,
        permission=Permission.ORGANISATIONS_MANAGE,
        methods=["GET", "POST"],
    ),
    page(
        "/organisations/{organisation_id:id}/intelligence",
        intelligence_add,
        permission=Permission.INTELLIGENCE_MANAGE,
        methods=["POST"],
    ),
]
