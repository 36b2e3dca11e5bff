"""Signing in and out, invitations, password resets and the second factor."""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audit_portal.accounts import sessions, totp
from audit_portal.accounts.signing_in import (
    Outcome,
    Step,
    after_link,
    authenticator_secret,
    check_password,
    code_step,
    confirm_authenticator,
    link_user,
    pending_is_current,
    record_password,
    request_password_reset,
    turn_off_authenticator,
)
from audit_portal.accounts.throttle import THROTTLED_MESSAGE
from audit_portal.accounts.tokens import LinkProblem, Purpose, read_link_token
from audit_portal.accounts.users import AccountError, set_password
from audit_portal.audit import security_event
from audit_portal.models import User, utcnow
from audit_portal.policy import Permission
from audit_portal.web.account_forms import (
    CodeForm,
    EmailForm,
    NewPasswordForm,
    SignInForm,
    TwoFactorForm,
    TwoFactorOffForm,
)
from audit_portal.web.context import get_or_404, redirect_with_message, render, run_db
from audit_portal.web.guard import audit_context, page, set_session_cookie

INVALID_SIGN_IN = "Enter a correct email address and password"


def safe_next(value: str | None) -> str:
    """Only same-site paths: never send someone to another site after signing in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


def _signed_in(request: Request, step: Step, destination: str) -> Response:
    if step.token is None:
        raise ValueError("a signed-in step carries the new session's token")
    response = RedirectResponse(destination, status_code=303)
    request.state.session_rotated = True
    set_session_cookie(request, response, step.token)
    return response


async def sign_in(request: Request) -> Response:
    if request.state.actor is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    form = SignInForm(await request.form()) if request.method == "POST" else SignInForm()
    context = {"title": "Sign in", "form": form, "next": request.query_params.get("next", "")}
    if request.method == "GET" or not form.validate():
        return render(request, "accounts/sign_in.html", context, status_code=_status(form))
    settings, ctx, now = request.app.state.settings, audit_context(request), utcnow()
    session_id = request.state.web_session.id
    email, password = form.email.data, form.password.data
    check = await run_db(
        request, lambda db: check_password(db, settings, email, ctx.address, password, now)
    )
    step = await run_db(
        request,
        lambda db: record_password(db, settings, ctx, check, session_id, now),
        write=True,
    )
    destination = safe_next(request.query_params.get("next"))
    if step.outcome is Outcome.SIGNED_IN:
        return _signed_in(request, step, destination)
    if step.outcome is Outcome.NEEDS_CODE:
        return RedirectResponse(f"/sign-in/code?next={quote(destination)}", status_code=303)
    message = THROTTLED_MESSAGE if step.outcome is Outcome.THROTTLED else INVALID_SIGN_IN
    form.email.errors = [message]
    form.password.errors = [] if step.outcome is Outcome.THROTTLED else [message]
    return render(request, "accounts/sign_in.html", context, status_code=400)


def _status(form: object) -> int:
    return 400 if getattr(form, "errors", None) else 200


CODE_MESSAGES = {
    Outcome.WRONG_CODE: "The security code is not correct: check your authenticator app",
    Outcome.REUSED_CODE: "That code has already been used: wait for your app to show a new one",
}
EXPIRED_MESSAGE = "You took too long to enter the security code. Sign in again."


async def sign_in_code(request: Request) -> Response:
    record = request.state.web_session
    now = utcnow()
    if not pending_is_current(record, now):
        if record.pending_user_id is not None:
            return await redirect_with_message(request, "/sign-in", EXPIRED_MESSAGE, "important")
        return RedirectResponse("/sign-in", status_code=303)
    form = CodeForm(await request.form()) if request.method == "POST" else CodeForm()
    context = {"title": "Enter your security code", "form": form}
    if request.method == "GET" or not form.validate():
        return render(request, "accounts/code.html", context, status_code=_status(form))
    settings, ctx, code = request.app.state.settings, audit_context(request), form.code.data
    step = await run_db(
        request, lambda db: code_step(db, settings, ctx, record.id, code, now), write=True
    )
    if step.outcome is Outcome.SIGNED_IN:
        return _signed_in(request, step, safe_next(request.query_params.get("next")))
    if step.outcome is Outcome.THROTTLED:
        return await redirect_with_message(request, "/sign-in", THROTTLED_MESSAGE, "important")
    if step.outcome is Outcome.EXPIRED:
        return await redirect_with_message(request, "/sign-in", EXPIRED_MESSAGE, "important")
    form.code.errors = [CODE_MESSAGES[step.outcome]]
    return render(request, "accounts/code.html", context, status_code=400)


async def sign_out(request: Request) -> Response:
    ctx, record_id = audit_context(request), request.state.web_session.id

    def work(db: Session) -> None:
        security_event(db, ctx, "sign_out")
        sessions.end_session(db, record_id)

    await run_db(request, work, write=True)
    response = RedirectResponse("/signed-out", status_code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    request.state.session_rotated = True
    return response


async def signed_out(request: Request) -> Response:
    return render(request, "accounts/signed_out.html", {"title": "You have signed out"})


# --- invitation and reset links ------------------------------------------------------------


async def _link_user(request: Request, purpose: Purpose) -> User | str:
    settings = request.app.state.settings
    try:
        claims = read_link_token(settings, request.path_params["token"], purpose)
    except LinkProblem as problem:
        return str(problem)
    try:
        return await run_db(request, lambda db: link_user(db, claims))
    except LinkProblem as problem:
        return str(problem)


async def accept_invitation(request: Request) -> Response:
    return await _accept_link(request, Purpose.INVITATION)


async def reset_password(request: Request) -> Response:
    return await _accept_link(request, Purpose.RESET)


async def _accept_link(request: Request, purpose: Purpose) -> Response:
    """Invitation and reset links share one page: set a password, then you are signed in."""
    user = await _link_user(request, purpose)
    heading = "Set your password" if purpose is Purpose.INVITATION else "Reset your password"
    if isinstance(user, str):
        return render(
            request,
            "accounts/link_problem.html",
            {"title": user, "purpose": purpose.value},
            status_code=400,
        )
    form = NewPasswordForm(await request.form()) if request.method == "POST" else NewPasswordForm()
    context = {"title": heading, "form": form, "user": user, "purpose": purpose.value}
    if request.method == "GET" or not form.validate():
        return render(request, "accounts/set_password.html", context, status_code=_status(form))
    settings, now, session_id = request.app.state.settings, utcnow(), request.state.web_session.id
    ctx = audit_context(request).for_user(user.id, user.email)
    token = request.path_params["token"]

    def work(db: Session) -> Step:
        fresh = link_user(db, read_link_token(settings, token, purpose))
        set_password(
            db,
            settings,
            ctx,
            fresh,
            form.password.data,
            reason="invitation_accepted" if purpose is Purpose.INVITATION else "password_reset",
        )
        return after_link(db, fresh, session_id, now)

    try:
        step = await run_db(request, work, write=True)
    except AccountError as problem:
        form.password.errors = [str(problem)]
        return render(request, "accounts/set_password.html", context, status_code=400)
    except LinkProblem as problem:
        return render(
            request,
            "accounts/link_problem.html",
            {"title": str(problem), "purpose": purpose.value},
            status_code=400,
        )
    if step.outcome is Outcome.NEEDS_CODE:
        request.state.session_rotated = True  # the flash below would otherwise be cleared
        return RedirectResponse("/sign-in/code?next=/dashboard", status_code=303)
    return _signed_in(request, step, "/dashboard")


async def forgotten_password(request: Request) -> Response:
    form = EmailForm(await request.form()) if request.method == "POST" else EmailForm()
    context = {"title": "Reset your password", "form": form}
    if request.method == "GET" or not form.validate():
        return render(request, "accounts/forgotten.html", context, status_code=_status(form))
    settings, ctx, email = request.app.state.settings, audit_context(request), form.email.data
    await run_db(
        request, lambda db: request_password_reset(db, settings, ctx, email, utcnow()), write=True
    )
    # The same answer whether or not the account exists.
    return render(
        request, "accounts/reset_sent.html", {"title": "Check your email", "email": email}
    )


# --- your account and the second factor -------------------------------------------------------


async def account(request: Request) -> Response:
    actor = request.state.actor
    user = await run_db(request, lambda db: get_or_404(db, User, actor.user_id))
    return render(
        request,
        "accounts/account.html",
        {"title": "Your account", "user": user, "off_form": TwoFactorOffForm()},
    )


async def two_factor(request: Request) -> Response:
    """Set up (or replace) an authenticator app: a QR code, one code, recovery codes once."""
    settings, actor, record_id = (
        request.app.state.settings,
        request.state.actor,
        request.state.web_session.id,
    )
    ctx = audit_context(request)
    form = TwoFactorForm(await request.form()) if request.method == "POST" else TwoFactorForm()

    user, secret = await run_db(
        request, lambda db: authenticator_secret(db, actor.user_id, record_id), write=True
    )
    uri = totp.provisioning_uri(secret, user.email, settings.partnership_name)
    context = {
        "title": "Two-step verification" if user.totp_enabled else "Set up two-step verification",
        "form": form,
        "user": user,
        "replacing": user.totp_enabled,
        "qr_svg": totp.qr_svg(uri),
        "secret": secret,
        "two_factor_required": actor.needs_second_factor,
    }
    if request.method == "GET" or not form.validate():
        return render(request, "accounts/two_factor.html", context, status_code=_status(form))
    code, current = form.code.data, form.current_code.data or ""

    result = await run_db(
        request,
        lambda db: confirm_authenticator(
            db, ctx, actor.user_id, record_id, secret, code, current, utcnow()
        ),
        write=True,
    )
    if result.recovery_codes is None:
        for name, message in result.errors.items():
            getattr(form, name).errors = [message]
        return render(request, "accounts/two_factor.html", context, status_code=400)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"title": "Save your recovery codes", "recovery_codes": result.recovery_codes},
    )


async def two_factor_off(request: Request) -> Response:
    actor, ctx = request.state.actor, audit_context(request)
    if actor.needs_second_factor:
        return render(
            request,
            "errors/generic.html",
            {
                "title": "You cannot turn off two-step verification",
                "detail": "People with partnership-wide roles must use two-step verification.",
            },
            status_code=400,
        )

    form = TwoFactorOffForm(await request.form())
    code = (form.current_code.data or "") if form.validate() else ""
    error = await run_db(
        request,
        lambda db: turn_off_authenticator(db, ctx, actor.user_id, code, utcnow()),
        write=True,
    )
    if error is not None:
        form.current_code.errors = [error]
        user = await run_db(request, lambda db: get_or_404(db, User, actor.user_id))
        context = {"title": "Your account", "user": user, "off_form": form}
        return render(request, "accounts/account.html", context, status_code=400)
    return await redirect_with_message(request, "/account", "Two-step verification is off.")


routes = [
    page("/sign-in", sign_in, permission=Permission.PUBLIC, methods=["GET", "POST"]),
    page("/sign-in/code", sign_in_code, permission=Permission.PUBLIC, methods=["GET", "POST"]),
    page("/sign-out", sign_out, permission=Permission.SIGNED_IN, methods=["POST"], mfa_exempt=True),
    page("/signed-out", signed_out, permission=Permission.PUBLIC),
    page(
        "/invitation/{token}",
        accept_invitation,
        permission=Permission.PUBLIC,
        methods=["GET", "POST"],
    ),
    page(
        "/reset-password/{token}",
        reset_password,
        permission=Permission.PUBLIC,
        methods=["GET", "POST"],
    ),
    page(
        "/forgotten-password",
        forgotten_password,
        permission=Permission.PUBLIC,
        methods=["GET", "POST"],
    ),
    page("/account", account, permission=Permission.SIGNED_IN, mfa_exempt=True),
    page(
        "/account/two-factor",
        two_factor,
        permission=Permission.SIGNED_IN,
        methods=["GET", "POST"],
        mfa_exempt=True,
    ),
    page(
        "/account/two-factor/off", two_factor_off, permission=Permission.SIGNED_IN, methods=["POST"]
    ),
]
