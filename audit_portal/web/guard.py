"""Every route is built with ``page()``, which declares its Permission and wraps the endpoint.

The wrapper, in this order: loads the server-side session, works out who is asking, insists on
a second factor for partnership-wide roles, checks the permission (404 for another
organisation's resource, sign-in for anonymous visitors, 403 otherwise), checks the CSRF token
on every state-changing request, and only then calls the endpoint. A route built any other way
has no permission and fails the route x role test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import quote

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from audit_portal.accounts import sessions
from audit_portal.audit import AuditContext, security_event
from audit_portal.models import utcnow
from audit_portal.policy import Actor, Permission, allows, is_scoped
from audit_portal.web import csrf
from audit_portal.web.context import render, run_db

Endpoint = Callable[[Request], Awaitable[Response]]
# For a scoped permission on a resource below an organisation (a return, say): find the
# organisation it belongs to from the path parameters, or None when there is no such resource.
ScopeResolver = Callable[[Session, dict], int | None]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FORM_LIMITS = {"max_files": 5, "max_fields": 3000}
TWO_FACTOR_SETUP = "/account/two-factor"


class GuardedRoute(Route):
    """A Route that knows the permission it needs (read by the route x role test)."""

    permission: Permission
    mfa_exempt: bool
    scope: ScopeResolver | None


def page(
    path: str,
    endpoint: Endpoint,
    *,
    permission: Permission,
    methods: Sequence[str] = ("GET",),
    name: str | None = None,
    mfa_exempt: bool = False,
    sessionless: bool = False,
    scope: ScopeResolver | None = None,
) -> GuardedRoute:
    """Build a route. ``sessionless`` is for public machine endpoints such as /healthz."""
    if sessionless and (permission is not Permission.PUBLIC or set(methods) - {"GET", "HEAD"}):
        raise ValueError("only public GET routes may skip the session")

    async def guarded(request: Request) -> Response:
        settings = request.app.state.settings
        if sessionless:
            request.state.actor = None
            return await endpoint(request)
        loaded = await run_in_threadpool(
            sessions.load_request_session,
            request.app.state.engine,
            settings,
            request.cookies.get(sessions.COOKIE_NAME),
            utcnow(),
        )
        _remember(request, loaded, settings.secret_key)
        response = await _authorise_and_call(request, endpoint, permission, mfa_exempt, scope)
        rotated = getattr(request.state, "session_rotated", False)
        if loaded.new_token and not rotated:
            set_session_cookie(request, response, loaded.new_token)
        if loaded.flash and not rotated and _shows_a_page(response):
            record_id = loaded.record.id
            await run_db(request, lambda db: sessions.clear_flash(db, record_id), write=True)
        return response

    route = GuardedRoute(path, guarded, methods=list(methods), name=name or endpoint.__name__)
    route.permission = permission
    route.mfa_exempt = mfa_exempt
    route.scope = scope
    return route


def _shows_a_page(response: Response) -> bool:
    return response.status_code == 200 and response.media_type == "text/html"


def _remember(request: Request, loaded: sessions.LoadedSession, secret_key: str) -> None:
    request.state.web_session = loaded.record
    request.state.actor = loaded.actor
    request.state.flash = loaded.flash
    request.state.csrf_token = csrf.token_for(secret_key, loaded.record.csrf_secret)


async def _authorise_and_call(
    request: Request,
    endpoint: Endpoint,
    permission: Permission,
    mfa_exempt: bool,
    scope: ScopeResolver | None,
) -> Response:
    actor: Actor | None = request.state.actor
    if actor is None and permission is not Permission.PUBLIC:
        return RedirectResponse(f"/sign-in?next={quote(request.url.path)}", status_code=303)
    record = request.state.web_session
    if actor and actor.needs_second_factor and not record.mfa_verified and not mfa_exempt:
        return RedirectResponse(TWO_FACTOR_SETUP, status_code=303)
    organisation_id = await _organisation_id(request, scope) if is_scoped(permission) else None
    if not allows(actor, permission, organisation_id):
        await _refused(request, permission, organisation_id)
        raise HTTPException(404 if is_scoped(permission) else 403)
    if request.method not in UNSAFE:
        return await endpoint(request)
    form = await request.form(**FORM_LIMITS)
    try:
        presented = request.headers.get(csrf.HEADER) or _text(form.get(csrf.FIELD))
        settings = request.app.state.settings
        if not csrf.is_valid(settings.secret_key, record.csrf_secret, presented):
            return await _csrf_failed(request, form)
        return await endpoint(request)
    finally:
        await form.close()  # uploaded files are spooled to temporary files: release them


async def _organisation_id(request: Request, scope: ScopeResolver | None) -> int | None:
    if scope is not None:
        params = dict(request.path_params)
        return await run_db(request, lambda db: scope(db, params))
    raw = request.path_params.get("organisation_id")
    if not isinstance(raw, int):
        raise RuntimeError(f"{request.url.path}: a scoped permission needs {{organisation_id:int}}")
    return raw


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def audit_context(request: Request) -> AuditContext:
    actor: Actor | None = getattr(request.state, "actor", None)
    return AuditContext(
        actor_id=actor.user_id if actor else None,
        actor_label=actor.email if actor else "anonymous",
        request_id=getattr(request.state, "request_id", ""),
        address=client_address(request),
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _refused(request: Request, permission: Permission, organisation_id: int | None) -> None:
    ctx = audit_context(request)
    await run_db(
        request,
        lambda db: security_event(
            db,
            ctx,
            "authorisation_refused",
            path=request.url.path,
            permission=str(permission),
            organisation_id=organisation_id,
        ),
        write=True,
    )


async def _csrf_failed(request: Request, form: FormData) -> Response:
    """Explain, and offer to send the same answers again with a fresh token: nothing is lost."""
    ctx = audit_context(request)
    await run_db(
        request,
        lambda db: security_event(db, ctx, "csrf_failed", path=request.url.path),
        write=True,
    )
    kept = [
        (key, value)
        for key, value in form.multi_items()
        if key != csrf.FIELD and "password" not in key and not isinstance(value, UploadFile)
    ]
    dropped_files = any(isinstance(v, UploadFile) for _, v in form.multi_items())
    return render(
        request,
        "errors/csrf.html",
        {
            "title": "Your form could not be sent",
            "action": request.url.path,
            "kept": kept,
            "dropped_files": dropped_files,
        },
        status_code=403,
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
