"""Administrators invite people, give and take away roles, and disable accounts."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from wtforms.fields.choices import SelectChoice

from audit_portal.accounts import sessions
from audit_portal.accounts.users import (
    AccountError,
    add_membership,
    create_user,
    invitation_email,
    remove_membership,
    set_active,
)
from audit_portal.models import Membership, Organisation, Role, User
from audit_portal.parsing import parse_id
from audit_portal.policy import Permission
from audit_portal.web.admin_forms import InviteForm, RoleForm
from audit_portal.web.context import get_or_404, redirect_with_message, render, run_db
from audit_portal.web.guard import audit_context, page


def _organisation_choices(db: Session) -> list[SelectChoice]:
    orgs = db.exec(
        select(Organisation.id, Organisation.name)
        .where(Organisation.status == "active")
        .order_by(Organisation.name)
    ).all()
    return [
        SelectChoice("", "Not an organisation role"),
        *(SelectChoice(str(i), n) for i, n in orgs),
    ]


def _id_or_none(raw: str | None) -> int | None:
    return parse_id(raw)


async def user_list(request: Request) -> Response:
    search = request.query_params.get("search", "").strip().lower()[:100]

    def load(db: Session) -> list[tuple[User, list[str]]]:
        query = select(User).order_by(User.full_name)
        if search:
            like = f"%{search}%"
            query = query.where(
                func.lower(User.email).like(like) | func.lower(User.full_name).like(like)
            )
        users = db.exec(query.limit(500)).all()
        roles: dict[int, list[str]] = {}
        for m in db.exec(select(Membership)).all():
            roles.setdefault(m.user_id, []).append(m.role)
        return [(u, sorted(roles.get(u.id, []))) for u in users]

    rows = await run_db(request, load)
    return render(request, "users/list.html", {"title": "People", "rows": rows, "search": search})


async def user_invite(request: Request) -> Response:
    choices = await run_db(request, _organisation_choices)
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

    def work(db: Session) -> tuple[int, str]:
        user = create_user(
            db,
            ctx,
            email=form.email.data,
            full_name=form.full_name.data,
            role=Role(form.role.data),
            organisation_id=_id_or_none(form.organisation_id.data),
        )
        email = invitation_email(db, settings, user, invited_by=actor.full_name)
        return user.id, email.status

    try:
        user_id, status = await run_db(request, work, write=True)
    except AccountError as problem:
        target = form.organisation_id if "organisation" in str(problem) else form.email
        target.errors = [str(problem)]
        return render(request, "users/invite.html", context, status_code=400)
    text = (
        "Invitation sent."
        if status != "failed"
        else (
            "The account was created but the invitation email could not be sent: "
            "use ‘Send the invitation again’."
        )
    )
    return await redirect_with_message(request, f"/users/{user_id}", text)


async def user_view(request: Request) -> Response:
    user_id = request.path_params["user_id"]

    def load(db: Session) -> dict:
        user = get_or_404(db, User, user_id)
        memberships = db.exec(
            select(Membership, Organisation)
            .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user_id)
        ).all()
        return {"user": user, "memberships": memberships, "choices": _organisation_choices(db)}

    data = await run_db(request, load)
    form = RoleForm()
    form.organisation_id.choices = data.pop("choices")
    return render(
        request, "users/view.html", {"title": data["user"].full_name, **data, "form": form}
    )


async def user_add_role(request: Request) -> Response:
    user_id, ctx = request.path_params["user_id"], audit_context(request)
    form = RoleForm(await request.form())
    if form.role.data not in {r.value for r in Role}:
        return await redirect_with_message(request, f"/users/{user_id}", "Choose a role to add.")
    role, organisation_id = Role(form.role.data), _id_or_none(form.organisation_id.data)

    def work(db: Session) -> None:
        add_membership(db, ctx, get_or_404(db, User, user_id), role, organisation_id)

    try:
        await run_db(request, work, write=True)
    except AccountError as problem:
        return await redirect_with_message(request, f"/users/{user_id}", str(problem))
    return await redirect_with_message(request, f"/users/{user_id}", "The role has been added.")


async def user_remove_role(request: Request) -> Response:
    user_id, ctx = request.path_params["user_id"], audit_context(request)
    membership_id = _id_or_none(str((await request.form()).get("membership_id", "")))
    if membership_id is None:
        return await redirect_with_message(request, f"/users/{user_id}", "Choose a role to remove.")

    def work(db: Session) -> None:
        membership = db.get(Membership, membership_id) if membership_id else None
        if membership is None or membership.user_id != user_id:
            raise HTTPException(404)
        remove_membership(db, ctx, membership)

    await run_db(request, work, write=True)
    return await redirect_with_message(
        request, f"/users/{user_id}", "The role has been removed. It stops working at once."
    )


async def user_set_active(request: Request) -> Response:
    user_id, ctx = request.path_params["user_id"], audit_context(request)
    choice = (await request.form()).get("active")
    if choice not in {"yes", "no"}:
        return await redirect_with_message(
            request, f"/users/{user_id}", "Choose whether to enable or disable the account."
        )
    active = choice == "yes"
    if user_id == request.state.actor.user_id and not active:
        return await redirect_with_message(
            request, f"/users/{user_id}", "You cannot disable your own account."
        )

    def work(db: Session) -> None:
        user = get_or_404(db, User, user_id)
        set_active(db, ctx, user, active)
        if not active:
            sessions.end_all_for_user(db, user.id)

    await run_db(request, work, write=True)
    text = (
        "The account has been enabled."
        if active
        else "The account has been disabled and signed out."
    )
    return await redirect_with_message(request, f"/users/{user_id}", text)


async def user_reinvite(request: Request) -> Response:
    user_id, settings, actor = (
        request.path_params["user_id"],
        request.app.state.settings,
        request.state.actor,
    )

    def work(db: Session) -> str:
        user = get_or_404(db, User, user_id)
        if user.password_hash:
            raise AccountError(
                "This person has already set a password: they can reset it from the sign-in page."
            )
        return invitation_email(db, settings, user, invited_by=actor.full_name).status

    try:
        status = await run_db(request, work, write=True)
    except AccountError as problem:
        return await redirect_with_message(request, f"/users/{user_id}", str(problem))
    text = (
        "Invitation sent again."
        if status != "failed"
        else "The invitation email could not be sent."
    )
    return await redirect_with_message(request, f"/users/{user_id}", text)


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
