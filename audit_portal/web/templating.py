"""The Jinja environment: our templates first, then the GOV.UK Frontend macros."""

from __future__ import annotations

import functools
from collections.abc import MutableMapping
from datetime import date, datetime
from typing import Any

import jinja2
import jinja2.runtime
from jinja2_fragments.starlette import Jinja2Blocks
from markupsafe import Markup

from audit_portal import clock, wording
from audit_portal.config import PROJECT_ROOT, Settings
from audit_portal.models import (
    ActionStatus,
    CampaignStatus,
    ChallengeStage,
    EmailStatus,
    LetterStatus,
    ReturnStatus,
    Role,
)
from audit_portal.policy import Actor, Permission, allows
from audit_portal.questionnaires.model import Item
from audit_portal.returns.answers import field_prefix
from audit_portal.returns.context import SectionStatus
from audit_portal.web import form_parts

# The partnership-wide areas (by route name), each shown only to people the policy lets in.
ADMIN_AREAS = (
    ("campaign_list", "Campaigns", Permission.CAMPAIGNS_VIEW),
    ("organisation_list", "Organisations", Permission.ORGANISATIONS_LIST),
    ("user_list", "People", Permission.USERS_MANAGE),
    ("questionnaire_list", "Questionnaires", Permission.QUESTIONNAIRES_VIEW),
    ("audit_trail", "Audit trail", Permission.AUDIT_VIEW),
    ("outbox", "Outbox", Permission.OUTBOX_VIEW),
)
# Enums whose codes are stored as text: a template shows one as ``CampaignStatus(code) | label``.
LABELLED_ENUMS = {
    enum.__name__: enum
    for enum in (
        ActionStatus,
        CampaignStatus,
        ChallengeStage,
        EmailStatus,
        LetterStatus,
        ReturnStatus,
        Role,
        SectionStatus,
    )
}


@jinja2.pass_context
def csrf_field(context: jinja2.runtime.Context) -> Markup:
    """The hidden CSRF input; a global (not a macro) so it sees the request in any template."""
    token = context["request"].state.csrf_token
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


@jinja2.pass_context
def url(context: jinja2.runtime.Context, name: str, **params: object) -> str:
    """The path of a route by its name, e.g. ``url('return_overview', return_id=3)``."""
    return _path(context["request"].app, name, tuple(sorted(params.items())))


@functools.lru_cache(maxsize=4096)
def _path(app: Any, name: str, params: tuple[tuple[str, object], ...]) -> str:
    """Remembered: the route table never changes, and a page can ask for dozens of paths, each
    a walk of every route (a tenth of a 100-question section page's time before this)."""
    return str(app.url_path_for(name, **dict(params)))


def long_date(value: date | datetime | str | None) -> str:
    """27 March 2026 (GOV.UK style), in England's time for moments; ISO text is read too."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        value = clock.local(value)
    return wording.long_date(value)


def date_and_time(value: datetime | None) -> str:
    """27 March 2026 at 2:32pm (GOV.UK style), in England's time."""
    if value is None:
        return ""
    moment = clock.local(value)
    return f"{long_date(moment)} at {clock_time(moment)}"


def clock_time(value: datetime | None) -> str:
    """2:32pm, or midday and midnight in words (GOV.UK style), in England's time."""
    if value is None:
        return ""
    return wording.clock_time(clock.local(value))


def label(value: object) -> str:
    """A status or other enum as people read it (its ``label``), never its code."""
    return str(getattr(value, "label", value))


@functools.lru_cache(maxsize=4096)
def _help_html(guidance: str, examples: tuple[str, ...]) -> Markup:
    parts = [Markup('<p class="govuk-body">{}</p>').format(guidance)]
    if examples:
        parts.append(
            Markup(
                '<p class="govuk-body govuk-!-font-weight-bold govuk-!-margin-bottom-1">'
                "Examples of evidence</p>"
            )
        )
        items = Markup("").join(Markup("<li>{}</li>").format(e) for e in examples)
        parts.append(Markup('<ul class="govuk-list govuk-list--bullet">{}</ul>').format(items))
    return Markup("").join(parts)


def item_help(item: Item) -> Markup:
    """An item's guidance and evidence examples as HTML, built once per questionnaire text:
    it does not depend on the answer, and a section page shows it for every item."""
    return _help_html(item.guidance, tuple(item.evidence_examples))


@jinja2.pass_context
def admin_links(context: jinja2.runtime.Context, actor: Actor | None) -> list[dict[str, str]]:
    return [
        {"href": url(context, name), "text": text}
        for name, text, permission in ADMIN_AREAS
        if allows(actor, permission)
    ]


class _Environment(jinja2.Environment):
    """Each template's globals as one plain dict, not jinja2's ChainMap over the environment's.

    Every render copies the globals into its context, and every ``{% from ... import %}``
    compares them with the imported template's: over a ChainMap that was a third of the
    autosave's reply (its fragment imports a macro). All globals are set in
    ``create_templates``, before any template is loaded, as jinja2 asks anyway.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


def create_templates(settings: Settings) -> Jinja2Blocks:
    env = _Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(PROJECT_ROOT / "templates"),
                jinja2.PrefixLoader(
                    {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
                ),
            ]
        ),
        autoescape=True,
        # govuk-frontend-jinja's template.html reads optional params (see STACK-NOTES).
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates only change with a new release: outside development, never stat the files.
        auto_reload=settings.environment == "development",
    )
    env.globals["partnership_name"] = settings.partnership_name
    env.globals["service_name"] = "Safeguarding Audit Portal"
    env.globals["admin_links"] = admin_links
    env.globals["csrf_field"] = csrf_field
    env.globals["url"] = url
    env.globals["field_id"] = field_prefix
    env.globals["item_help"] = item_help
    env.globals.update(
        textarea=form_parts.textarea,
        date_parts=form_parts.date_parts,
        error_message=form_parts.error_message,
        still_needed=form_parts.still_needed,
        rating_radios=form_parts.rating_radios,
    )
    env.globals.update(LABELLED_ENUMS)
    env.filters["labels"] = lambda values, mapping: [mapping.get(v, v) for v in values or []]
    env.filters["date"] = long_date
    env.filters["datetime"] = date_and_time
    env.filters["time"] = clock_time
    env.filters["label"] = label
    return Jinja2Blocks(env=env)
