"""Pages everyone can read: the home page, accessibility statement, cookies, health check."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from audit_portal.db import check_database
from audit_portal.policy import Permission
from audit_portal.web.context import render
from audit_portal.web.guard import page


async def home(request: Request) -> Response:
    return render(request, "pages/home.html")


async def accessibility(request: Request) -> Response:
    return render(request, "pages/accessibility.html")


async def cookies(request: Request) -> Response:
    return render(request, "pages/cookies.html")


async def healthz(request: Request) -> Response:
    """For load balancers: 200 when the database answers, 503 when it does not."""
    ok = await run_in_threadpool(check_database, request.app.state.engine)
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return JSONResponse(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


routes = [
    page("/", home, permission=Permission.PUBLIC),
    page("/accessibility", accessibility, permission=Permission.PUBLIC),
    page("/cookies", cookies, permission=Permission.PUBLIC),
    page("/healthz", healthz, permission=Permission.PUBLIC, sessionless=True),
]
