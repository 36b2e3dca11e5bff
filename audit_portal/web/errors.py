"""One place that turns exceptions into friendly GOV.UK-styled error pages."""

from __future__ import annotations

import logging

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from audit_portal.db import ValueTooLong
from audit_portal.errors import NotFound
from audit_portal.web.context import render
from audit_portal.web.security import TOO_LARGE

log = logging.getLogger(__name__)

PAGE_TITLES = {
    400: "There is a problem with your request",
    403: "You do not have permission to do this",
    404: "Page not found",
    405: "This action is not allowed here",
    413: "The file or form you sent is too large",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}
TEMPLATED = {404, 500}
DATABASE_RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (
    "The service cannot reach its database at the moment. Try again in a few minutes. "
    "If you were saving something, check it is there when the service is back."
)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status < 400:
        return PlainTextResponse(str(exc.detail), status_code=status, headers=exc.headers)
    template = f"errors/{status}.html" if status in TEMPLATED else "errors/generic.html"
    context = {
        "title": PAGE_TITLES.get(status, "There is a problem"),
        "detail": exc.detail if status not in TEMPLATED else None,
    }
    response = render(request, template, context, status_code=status)
    response.headers.update(exc.headers or {})  # Retry-After on a 503, say
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    """The plain 500 page. Its reference is the request id, which the traceback logged here and
    the request's own log line both carry, so a quoted reference finds them."""
    reference = _request_id(request)
    log.exception("Unhandled error (request %s)", reference, extra={"request_id": reference})
    context = {"title": PAGE_TITLES[500], "request_id": reference}
    return render(request, "errors/500.html", context, status_code=500)


async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The 413 page, for a body refused before the app ever saw the request."""
    request = Request(scope, receive)
    request.state.actor, request.state.flash, request.state.csrf_token = None, [], ""
    response = render(
        request,
        "errors/generic.html",
        {"title": PAGE_TITLES[413], "detail": TOO_LARGE},
        status_code=413,
    )
    await response(scope, receive, send)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is down or unreachable: a plain 503 at once, never a traceback or a hang.

    The pool throws the dead connections away, so the portal serves again by itself as soon as
    the database is back; a load balancer sees the same from /healthz meanwhile.
    """
    reference = _request_id(request)
    problem = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    log.error(
        "Database unavailable (request %s): %s", reference, problem, extra={"request_id": reference}
    )
    for name, default in (("actor", None), ("flash", []), ("csrf_token", "")):
        if not hasattr(request.state, name):
            setattr(request.state, name, default)
    response = render(
        request,
        "errors/generic.html",
        {"title": PAGE_TITLES[503], "detail": DATABASE_UNAVAILABLE},
        status_code=503,
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


async def value_too_long(request: Request, exc: Exception) -> Response:
    """The net under every form's own length checks: a plain 400, nothing stored."""
    log.warning("Refused an over-long value (request %s): %s", _request_id(request), exc)
    return render(
        request,
        "errors/generic.html",
        {
            "title": PAGE_TITLES[400],
            "detail": "Something you entered is too long to be saved. Shorten it and try again.",
        },
        status_code=400,
    )


def _request_id(request: Request) -> str:
    return getattr(request.state, "request_id", "?")


async def not_found(request: Request, exc: Exception) -> Response:
    """A domain lookup that found nothing: the same page as any unknown address."""
    return await http_error(request, HTTPException(404))


exception_handlers = {
    HTTPException: http_error,
    NotFound: not_found,
    ValueTooLong: value_too_long,
    OperationalError: database_unavailable,  # connection refused, lost or timed out
    InterfaceError: database_unavailable,  # a connection already closed under the portal
    500: server_error,
}
