"""The "bare POST" baseline: the least a Starlette app must do to answer an autosave.

It parses the same form, renders a fragment of the same shape with Jinja2 and answers with the
next version, but touches no database, session or audit trail. Served by uvicorn on the same
machine and driven by the same clients, its rate is the ceiling the portal's autosave could
reach on this machine with this stack: the difference is the portal's own work.

Its one GET (``/returns/{id}/sections/{section}``) is the "bare GET" of the pages benchmark: a
page with a standard's worth of rating questions (radios, explanation and evidence boxes),
rendered with Jinja2 from data in memory.

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

PAGE = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
<form method="post" novalidate>
{%- for item in items %}
  <div class="govuk-form-group" id="{{ item.fid }}-item">
    <fieldset class="govuk-fieldset"><legend>{{ item.number }} {{ item.prompt }}</legend>
    {%- for value, label in scale %}
      <div class="govuk-radios__item">
        <input class="govuk-radios__input" id="{{ item.fid }}-{{ value }}"
          name="{{ item.fid }}-value" type="radio" value="{{ value }}"
          {%- if item.value == value %} checked{% endif %}>
        <label class="govuk-label govuk-radios__label" for="{{ item.fid }}-{{ value }}">
          {{- label }}</label></div>
    {%- endfor %}
    </fieldset>
    <textarea name="{{ item.fid }}-narrative" rows="3">{{ item.narrative }}</textarea>
    <textarea name="{{ item.fid }}-evidence" rows="3">{{ item.evidence }}</textarea>
    <input type="hidden" name="{{ item.fid }}-version" value="{{ item.version }}">
  </div>
{%- endfor %}
<button type="submit">Save and continue</button></form></main></body></html>
"""
ITEMS_ON_PAGE = 8  # a standard of the benchmark's 100-item questionnaire has 7 or 8
SCALE = ((3, "Fully in place"), (2, "Partly in place"), (1, "Not in place"), ("na", "N/A"))

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.DictLoader({"save_status.html": FRAGMENT, "page.html": PAGE}),
        autoescape=True,
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


async def section_page(request: Request) -> Response:
    """A section page's worth of questions, answered, as a page: no session or database."""
    section = str(request.path_params["section_id"])
    items = [
        {
            "fid": f"item-{section.replace('.', '-')}-{n}",
            "number": f"1.{n}",
            "prompt": "The governing body takes strategic responsibility for safeguarding.",
            "value": 3,
            "narrative": "",
            "evidence": "Training log and minutes of the board meeting.",
            "version": 1,
        }
        for n in range(1, ITEMS_ON_PAGE + 1)
    ]
    context = {"title": f"Standard {section}", "items": items, "scale": SCALE}
    return templates.TemplateResponse(request, "page.html", context)


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/returns/{return_id:int}/sections/{section_id}", section_page),
        Route("/returns/{return_id:int}/items/{item_id}", autosave_item, methods=["POST"]),
    ]
)
