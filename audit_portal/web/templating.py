"""The Jinja environment: our templates first, then the GOV.UK Frontend macros."""

from __future__ import annotations

import jinja2
from jinja2_fragments.starlette import Jinja2Blocks

from audit_portal.config import PROJECT_ROOT, Settings


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
    return Jinja2Blocks(env=env)
