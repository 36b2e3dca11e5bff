"""The Jinja environment: our templates first, then the GOV.UK Frontend macros."""

from __future__ import annotations

import jinja2
import jinja2.runtime
from jinja2_fragments.starlette import Jinja2Blocks
from markupsafe import Markup

from audit_portal.config import PROJECT_ROOT, Settings
from audit_portal.policy import Actor, Permission, allows

# The partnership-wide areas, each shown only to people the policy lets in.
ADMIN_AREAS = (
    ("/campaigns", "Campaigns", Permission.CAMPAIGNS_VIEW),
    ("/organisations", "Organisations", Permission.ORGANISATIONS_LIST),
    ("/users", "People", Permission.USERS_MANAGE),
    ("/questionnaires", "Questionnaires", Permission.QUESTIONNAIRES_VIEW),
    ("/audit", "Audit trail", Permission.AUDIT_VIEW),
    ("/outbox", "Outbox", Permission.OUTBOX_VIEW),
)


@jinja2.pass_context
def csrf_field(context: jinja2.runtime.Context) -> Markup:
    """The hidden CSRF input; a global (not a macro) so it sees the request in any template."""
    token = context["request"].state.csrf_token
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def admin_links(actor: Actor | None) -> list[dict[str, str]]:
    return [{"href": h, "text": t} for h, t, p in ADMIN_AREAS if allows(actor, p)]


def create_templates(settings: Settings) -> Jinja2Blocks:
    env = jinja2.Environment(
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
    )
    env.globals["partnership_name"] = settings.partnership_name
    env.globals["service_name"] = "Safeguarding Audit Portal"
    env.globals["admin_links"] = admin_links
    env.globals["csrf_field"] = csrf_field
    env.filters["labels"] = lambda values, mapping: [mapping.get(v, v) for v in values or []]
    return Jinja2Blocks(env=env)
