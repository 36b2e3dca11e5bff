"""Every route is built with ``page()``, which declares its Permission and wraps the endpoint.

The wrapper, in this order: loads the server-side session, works out who is asking, insists on
a second factor for partnership-wide roles, checks the permission (404 for another
organisation's resource, sign-in for anonymous visitors, 403 otherwise), checks the CSRF token
on every state-changing request, and only then calls the endpoint. A route built any other way
has no permission and fails the route x role test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from audit_portal import parsing  # noqa: F401  (registers the {name:id} route converter)
from audit_portal.accounts import sessions
from audit_portal.audit import AuditContext, security_event
from audit_portal.db import RequestDatabase
from audit_portal.evidence.upload import ParsedUpload
from audit_portal.models import utcnow
from audit_portal.policy import Actor, Permission, allows, is_scoped
from audit_portal.web import csrf
from audit_portal.web.context import close_db, connection_slots, render, run_db
from audit_portal.web.whole_form import read_form

Endpoint = Callable[[Request], Awaitable[Response]]
# For a scoped permission on a resource below an organisation (a return, say): find the
# organisation it belongs to from the path parameters, or None when there is no such resource.
ScopeResolver = Callable[[Session, dict], int | None]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FORM_LIMITS: dict[str, int] = {"max_files": 5, "max_fields": 3000}
TWO_FACTOR_SETUP = "/account/two-factor"


class GuardedRoute(Route):
    """A Route that knows the permission it needs (read by the route x role test)."""

    permission: Permission
    mfa_exempt: bool
    scope: ScopeResolver | None
    keeper: TypingKeeper | None
    upload: UploadReader | None


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
    keep_typing: TypingKeeper | None = None,
    upload: UploadReader | None = None,
) -> GuardedRoute:
    """Build a route. ``sessionless`` is for public machine endpoints such as /healthz.

    ``upload`` is for routes that take files: a multipart body is then read by it (streamed
    to disk within limits) instead of ``request.form()``, the CSRF token is checked from the
    header before the body is read, or from the form's field before the endpoint runs, and the
    spooled files are removed when the endpoint returns. The endpoint finds the parsed body in
    ``request.state.upload``; a body that is not multipart goes the usual way.
    """
    if sessionless and (permission is not Permission.PUBLIC or set(methods) - {"GET", "HEAD"}):
        raise ValueError("only public GET routes may skip the session")

    async def guarded(request: Request) -> Response:
        if _has_nul(list(request.path_params.items())):
            raise HTTPException(400, NUL_MESSAGE)  # before a database sees it as a bound value
        if sessionless:
            request.state.actor = None
            return await endpoint(request)
        async with connection_slots():
            request.state.db = RequestDatabase(request.app.state.engine)
            try:
                return await _with_session(
                    request, endpoint, permission, mfa_exempt, scope, keep_typing, upload
                )
            finally:
                await close_db(request)

    route = GuardedRoute(path, guarded, methods=list(methods), name=name or endpoint.__name__)
    route.permission = permission
    route.mfa_exempt = mfa_exempt
    route.scope = scope
    route.keeper = keep_typing
    route.upload = upload
    return route


async def _with_session(
    request: Request,
    endpoint: Endpoint,
    permission: Permission,
    mfa_exempt: bool,
    scope: ScopeResolver | None,
    keeper: TypingKeeper | None,
    upload: UploadReader | None = None,
) -> Response:
    """Load the browser's session (writing only when it must), authorise, call, set cookies."""
    settings, now = request.app.state.settings, utcnow()
    token = request.cookies.get(sessions.COOKIE_NAME)
    params = dict(request.path_params)

    def load(db: Session) -> sessions.LoadedSession | None:
        # The scope's lookup rides in the same trip to the thread pool as the session (in the
        # session's own statement when it can): it is a read of the resource the URL names, and
        # the answer is only used after authorisation.
        if scope is None or not is_scoped(permission):
            return sessions.load(db, settings, token, now)
        if isinstance(scope, sessions.OwnerLookup):
            loaded = sessions.load(db, settings, token, now, scope, params)
            if loaded is not None:  # None: no session, so nobody signed in to authorise
                request.state.scope_result = loaded.owner
            return loaded
        request.state.scope_result = scope(db, params)
        return sessions.load(db, settings, token, now)

    loaded = await run_db(request, load)
    if loaded is None or loaded.needs_write:
        loaded = await run_db(
            request, lambda db: sessions.refresh(db, settings, token, now), write=True
        )
    _remember(request, loaded, settings.secret_key)
    response = await _authorise_and_call(
        request, endpoint, permission, mfa_exempt, scope, keeper, upload
    )
    rotated = getattr(request.state, "session_rotated", False)
    if loaded.new_token and not rotated:
        set_session_cookie(request, response, loaded.new_token)
    if loaded.flash and not rotated and _shows_a_page(response):
        record_id = loaded.record.id
        await run_db(request, lambda db: sessions.clear_flash(db, record_id), write=True)
    return response


def _shows_a_page(response: Response) -> bool:
    return response.status_code == 200 and response.media_type == "text/html"


def _remember(request: Request, loaded: sessions.LoadedSession, secret_key: str) -> None:
    request.state.web_session = loaded.record
    actor = loaded.actor
    if actor is not None and actor.has_authenticator and not loaded.record.mfa_verified:
        actor = None  # someone with an authenticator is not signed in until they use it
    request.state.actor = actor
    request.state.flash = loaded.flash
    request.state.csrf_token = csrf.token_for(secret_key, loaded.record.csrf_secret)


async def _authorise_and_call(
    request: Request,
    endpoint: Endpoint,
    permission: Permission,
    mfa_exempt: bool,
    scope: ScopeResolver | None,
    keeper: TypingKeeper | None,
    upload: UploadReader | None = None,
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
    if _has_nul(request.query_params.multi_items()):
        raise HTTPException(400, NUL_MESSAGE)
    if request.method not in UNSAFE:
        return await endpoint(request)
    if upload is not None and _is_multipart(request):
        return await _upload_and_call(request, endpoint, keeper, upload)
    form = await read_form(request, **FORM_LIMITS)
    try:
        if _has_nul(form.multi_items()):
            raise HTTPException(400, NUL_MESSAGE)
        presented = request.headers.get(csrf.HEADER) or _text(form.get(csrf.FIELD))
        settings = request.app.state.settings
        if not csrf.is_valid(settings.secret_key, record.csrf_secret, presented):
            return await _csrf_failed(request, form, keeper)
        return await endpoint(request)
    finally:
        await form.close()  # uploaded files are spooled to temporary files: release them


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def _upload_and_call(
    request: Request, endpoint: Endpoint, keeper: TypingKeeper | None, upload: UploadReader
) -> Response:
    """A file upload: CSRF checked before anything reaches the endpoint (and so storage)."""
    record = request.state.web_session
    secret_key = request.app.state.settings.secret_key
    header = request.headers.get(csrf.HEADER)
    if header is not None and not csrf.is_valid(secret_key, record.csrf_secret, header):
        return await _csrf_failed(request, FormData(), keeper)
    parsed = await upload(request)
    if isinstance(parsed, Response):
        return parsed  # refused while reading: too large, cut off, malformed
    try:
        pairs: list[tuple[str, str | UploadFile]] = [
            (name, value) for name, values in parsed.fields.items() for value in values
        ]
        if _has_nul(pairs):
            raise HTTPException(400, NUL_MESSAGE)
        presented = header if header is not None else parsed.value(csrf.FIELD)
        if not csrf.is_valid(secret_key, record.csrf_secret, presented):
            return await _csrf_failed(request, FormData(pairs), keeper)
        request.state.upload = parsed
        return await endpoint(request)
    finally:
        parsed.cleanup()


async def _organisation_id(request: Request, scope: ScopeResolver | None) -> int | None:
    if scope is not None:
        if hasattr(request.state, "scope_result"):
            found: int | None = request.state.scope_result
            return found
        params = dict(request.path_params)
        return await run_db(request, lambda db: scope(db, params))
    raw = request.path_params.get("organisation_id")
    if not isinstance(raw, int):
        raise RuntimeError(f"{request.url.path}: a scoped permission needs {{organisation_id:id}}")
    return raw


NUL_MESSAGE = (
    "What you sent contains a character that cannot be stored (a null character), "
    "often from copying out of another program. Remove it and try again."
)


def _has_nul(pairs: Sequence[tuple[str, object]]) -> bool:
    """A NUL cannot be stored in PostgreSQL text: refuse it for every route, on both databases."""
    return any("\x00" in key or (isinstance(v, str) and "\x00" in v) for key, v in pairs)


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


@dataclass(frozen=True)
class KeptTyping:
    """What a person typed, to show back as text after a refused form, and where to go back to."""

    typed: list[tuple[str, str]]  # (what the field is, what was typed)
    back_url: str


# For the few forms where what was typed matters to the person (their own answers): which of
# the fields to show back, as text, never as a form that could send a forged request again.
TypingKeeper = Callable[[Request, FormData], KeptTyping]
# Reads a file upload's body (see ``page(upload=...)``): the parsed body, or the response that
# refuses it (too large, cut off, malformed), having left nothing on disk.
UploadReader = Callable[[Request], Awaitable["ParsedUpload | Response"]]


async def _csrf_failed(request: Request, form: FormData, keeper: TypingKeeper | None) -> Response:
    """Explain, show the person's own typed answers as text, and send nothing on their behalf."""
    ctx = audit_context(request)
    await run_db(
        request,
        lambda db: security_event(db, ctx, "csrf_failed", path=request.url.path),
        write=True,
    )
    kept = keeper(request, form) if keeper is not None else None
    return render(
        request,
        "errors/csrf.html",
        {"title": "Your form could not be sent", "kept": kept},
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
