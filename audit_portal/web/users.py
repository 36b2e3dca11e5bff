"""Administrators invite people, give and take away roles, and disable accounts."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from wtforms.fields.choices import SelectChoice

from audit_portal.accounts.users import (
    AccountError,
    PersonNotFound,
    active_organisations,
    add_role,
    get_person,
    invite_person,
    list_people,
    memberships_of,
    remove_role,
    resend_invitation,
    set_account_active,
)
from audit_portal.models import EmailStatus, Membership, Organisation, OutboxEmail, Role, User
from audit_portal.parsing import parse_id
from audit_portal.policy import Permission
from audit_portal.web.admin_forms import InviteForm, RoleForm
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.guard import audit_context, page


def _organisation_choices(organisations: list[tuple[int, str]]) -> list[SelectChoice]:
    return [
        SelectChoice("", "Not an organisation role"),
        *(SelectChoice(str(i), n) for i, n in organisations),
    ]


async def user_list(request: Request) -> Response:
    search = request.query_params.get("search", "").strip()[:100]
    people = await run_db(request, lambda db: list_people(db, search))
    return render(
        request, "users/list.html", {"title": "People", "people": people, "search": search}
    )


async def user_invite(request: Request) -> Response:
    choices = _organisation_choices(await run_db(request, active_organisations))
    if request.method == "POST":
        form = InviteForm(await request.form())
    else:
        form = InviteForm(organisation_id=request.query_params.get("organisation_id", ""))
    form.organisation_id.choices = choices
    context = {"title": "Invite someone", "form": form}
    if request.method == "GET" or not form.validate():
        return render(
            request, "users/invite.html", context, status_code=400 if form.errors else 200
        )
    settings, ctx, actor = request.app.state.settings, audit_context(request), request.state.actor
    email, full_name = form.email.data, form.full_name.data
    role, organisation_id = Role(form.role.data), parse_id(form.organisation_id.data)
    try:
        user, sent = await run_db(
            request,
            lambda db: invite_person(
                db,
                settings,
                ctx,
                email=email,
                full_name=full_name,
                role=role,
                organisation_id=organisation_id,
                invited_by=actor.full_name,
            ),
            write=True,
        )
    except AccountError as problem:
        target = form.organisation_id if "organisation" in str(problem) else form.email
        target.errors = [str(problem)]
        return render(request, "users/invite.html", context, status_code=400)
    return await redirect_with_message(request, f"/users/{user.id}", _invitation_sent(sent))


def _invitation_sent(email: OutboxEmail) -> str:
    """Email leaves through the outbox after the request, so say it is on its way."""
    if email.status == EmailStatus.OUTBOX:
        return "Invitation sent to the outbox page (no mail server is set up here)."
    return f"Invitation sent to {email.to_address}."


async def user_view(request: Request) -> Response:
    user_id = request.path_params["user_id"]

    def load(
        db: Session,
    ) -> tuple[User, list[tuple[Membership, Organisation | None]], list[tuple[int, str]]]:
        return get_person(db, user_id), memberships_of(db, user_id), active_organisations(db)

    try:
        user, memberships, organisations = await run_db(request, load)
    except PersonNotFound:
        raise HTTPException(404) from None
    form = RoleForm()
    form.organisation_id.choices = _organisation_choices(organisations)
    return render(
        request,
        "users/view.html",
        {"title": user.full_name, "user": user, "memberships": memberships, "form": form},
    )


async def _change(request: Request, change: Callable[[Session], object], done: str) -> Response:
    """Run one change to an account and go back to its page with what happened."""
    user_id = request.path_params["user_id"]
    try:
        await run_db(request, change, write=True)
    except PersonNotFound:
        raise HTTPException(404) from None
    except AccountError as problem:
        return await redirect_with_message(request, f"/users/{user_id}", str(problem), "important")
    return await redirect_with_message(request, f"/users/{user_id}", done)


async def user_add_role(request: Request) -> Response:
    user_id, ctx = request.path_params["user_id"], audit_context(request)
    form = RoleForm(await request.form())
    if form.role.data not in {r.value for r in Role}:
        return await redirect_with_message(
            request, f"/users/{user_id}", "Choose a role to add.", "important"
        )
    role, organisation_id = Role(form.role.data), parse_id(form.organisation_id.data)
    return await _change(
        request,
        lambda db: add_role(db, ctx, user_id, role, organisation_id),
        "The role has been added.",
    )


async def user_remove_role(request: Request) -> Response:
    user_id, ctx = request.path_params["user_id"], audit_context(request)
    membership_id = parse_id((await request.form()).get("membership_id"))
    if membership_id is None:
        return await redirect_with_message(
            request, f"/users/{user_id}", "Choose a role to remove.", "important"
        )
    return await _change(
        request,
        lambda db: remove_role(db, ctx, user_id, membership_id),
        "The role has been removed. It stops working at once.",
    )


async def user_set_active(request: Request) -> Response:
    user_id, ctx = request.path_params["user_id"], audit_context(request)
    choice = (await request.form()).get("active")
    if choice not in {"yes", "no"}:
        return await redirect_with_message(
            request,
            f"/users/{user_id}",
            "Choose whether to enable or disable the account.",
            "important",
        )
    active, acting = choice == "yes", request.state.actor.user_id
    return await _change(
        request,
        lambda db: set_account_active(db, ctx, user_id, active, acting_user_id=acting),
        "The account has been enabled."
        if active
        else "The account has been disabled and signed out.",
    )


async def user_reinvite(request: Request) -> Response:
    user_id, settings = request.path_params["user_id"], request.app.state.settings
    invited_by = request.state.actor.full_name
    try:
        sent = await run_db(
            request, lambda db: resend_invitation(db, settings, user_id, invited_by), write=True
        )
    except PersonNotFound:
        raise HTTPException(404) from None
    except AccountError as problem:
        return await redirect_with_message(request, f"/users/{user_id}", str(problem), "important")
    return await redirect_with_message(request, f"/users/{user_id}", _invitation_sent(sent))


routes = [
    page("/users", user_list, permission=Permission.USERS_MANAGE),
    page("/users/invite", user_invite, permission=Permission.USERS_MANAGE, methods=["GET", "POST"]),
    page("/users/{user_id:id}", user_view, permission=Permission.USERS_MANAGE),
    page(
        "/users/{user_id:id}/roles",
        user_add_role,
        permission=Permission.USERS_MANAGE,
        methods=["POST"],
    ),
    page(
        "/users/{user_id:id}/roles/remove",
        user_remove_role,
        permission=Permission.USERS_MANAGE,
        methods=["POST"],
    ),
    page(
        "/users/{user_id:id}/active",
        user_set_active,
        permission=Permission.USERS_MANAGE,
        methods=["POST"],
    ),
    page(
        "/users/{user_id:id}/invitation",
        user_reinvite,
        permission=Permission.USERS_MANAGE,
        methods=["POST"],
    ),
]
