"""The "bare POST" baseline: the least a Starlette app must do to answer an autosave.

It parses the same form, renders a fragment of the same shape with Jinja2 and answers with the
next version, but touches no database, session or audit trail. Served by uvicorn on the same
machine and driven by the same clients, its rate is the ceiling the portal's autosave could
reach on this machine with this stack: the difference is the portal's own work.

Run it as ``uvicorn bench.baseline_app:app`` from the project root.
"""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

FRAGMENT = """\
{%- if problem -%}
  <p class="govuk-body-s app-save-status app-save-status--error" id="{{ fid }}-status" role="alert">
    <strong>Not saved:</strong> {{ problem }}.
  </p>
{%- else -%}
  <p class="govuk-body-s app-save-status" id="{{ fid }}-status" aria-live="polite">
    Saved at {{ saved_at }}</p>
  <input type="hidden" name="{{ fid }}-version" id="{{ fid }}-version" value="{{ version }}"
    hx-swap-oob="true">
{%- endif %}
"""

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.DictLoader({"save_status.html": FRAGMENT}), autoescape=True
    )
)


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def autosave_item(request: Request) -> Response:
    """Answer an autosave as the portal would, without storing anything."""
    fid = "item-" + str(request.path_params["item_id"]).replace(".", "-")
    form = await request.form()
    value, version = str(form.get(f"{fid}-value", "")), str(form.get(f"{fid}-version", ""))
    problem = "" if value in {"1", "2", "3"} else "Choose one of the ratings shown"
    context = {
        "fid": fid,
        "problem": problem,
        "saved_at": datetime.now(UTC).strftime("%H:%M"),
        "version": int(version) + 1 if version.isdigit() else 1,
    }
    return templates.TemplateResponse(request, "save_status.html", context)


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/returns/{return_id:int}/items/{item_id}", autosave_item, methods=["POST"]),
    ]
)
