"""create_app wires settings, database, templates, routes, middleware and error pages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from audit_portal.challenges.files import max_request_bytes
from audit_portal.config import PROJECT_ROOT, Settings
from audit_portal.db import create_db_engine, require_current_schema
from audit_portal.web import (
    accounts,
    audit_trail,
    campaigns,
    challenge_events,
    challenge_review,
    dashboard,
    evidence,
    feedback_letters,
    followups,
    historical_import,
    imports,
    organisations,
    pages,
    qa,
    questionnaires,
    report_downloads,
    reports,
    returns,
    users,
)
from audit_portal.web.errors import exception_handlers, too_large
from audit_portal.web.overload import Limits, OverloadMiddleware
from audit_portal.web.request_log import RequestLogMiddleware
from audit_portal.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from audit_portal.web.templating import create_templates
from audit_portal.worker import Worker

MAX_BODY_BYTES = 25 * 1024 * 1024  # the largest form or import upload
UPLOAD_FIELDS_SLACK = 1024 * 1024  # an evidence upload's text fields and part headers


class PortalApp(Starlette):
    """Starlette with the security headers outside everything, its error middleware included,
    and one log line per request just inside them (so it has the request's id)."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(
            RequestLogMiddleware(super().build_middleware_stack()),
            hsts=self.state.settings.secure_cookies,
        )


def create_app(settings: Settings, *, engine: Engine | None = None) -> Starlette:
    """Build the ASGI app. Start-up refuses a database whose schema is not current."""
    own_engine = engine is None
    db_engine = engine or create_db_engine(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker: Worker | None = None
        try:
            require_current_schema(db_engine, settings.database_url)
            if settings.embedded_worker:
                worker = Worker(db_engine, settings)
                thread = worker.start_thread()
            yield
        finally:
            if worker is not None:
                worker.stop.set()
                thread.join(timeout=30)
            if own_engine:
                db_engine.dispose()

    static_dir = PROJECT_ROOT / "static"
    app = PortalApp(
        routes=[
            # Completing a return first: Starlette tries each route in turn, and the autosave
            # is by far the most frequent request (no other route matches a /returns/ address).
            *returns.routes,
            *pages.routes,
            *accounts.routes,
            *dashboard.routes,
            *imports.routes,
            *organisations.routes,
            *users.routes,
            *audit_trail.routes,
            *questionnaires.routes,
            *historical_import.routes,
            *campaigns.routes,
            *followups.routes,
            *qa.routes,
            *evidence.routes,
            *challenge_review.routes,
            *challenge_events.routes,
            *reports.routes,
            *report_downloads.routes,
            *feedback_letters.routes,
            Mount("/static", app=StaticFiles(directory=static_dir, check_dir=False), name="static"),
        ],
        middleware=[
            # Outermost of ours: a request refused for overload costs no body read and no query.
            Middleware(OverloadMiddleware, limits=Limits.from_settings(settings)),
            Middleware(
                BodyLimitMiddleware,
                limit=MAX_BODY_BYTES,
                refuse=too_large,
                # Evidence uploads have their own limit, enforced while streaming by the route.
                wider=[(evidence.UPLOAD_PATH, max_request_bytes(settings) + UPLOAD_FIELDS_SLACK)],
            ),
        ],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = db_engine
    app.state.templates = create_templates(settings)
    return app
