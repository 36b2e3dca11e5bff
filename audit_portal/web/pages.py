"""Pages everyone can read: the home page, accessibility statement, cookies, health check."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from audit_portal.db import check_database
from audit_portal.web.context import render


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
    Route("/", home, name="home"),
    Route("/accessibility", accessibility, name="accessibility"),
    Route("/cookies", cookies, name="cookies"),
    Route("/healthz", healthz, name="healthz"),
]
