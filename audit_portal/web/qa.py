"""The QA sub-group's dip samples: select one (preview, then confirm), read it, change it with
a reason. Endpoints parse, call one domain function (``dipsamples``), render."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from audit_portal import dipsamples
from audit_portal.campaigns import CampaignNotFound
from audit_portal.challenges.unevidenced import (
    ChallengeCandidate,
    challenge_candidates,
    unevidenced_greens,
)
from audit_portal.dipsamples import (
    DIMENSION_LABELS,
    METHOD_LABELS,
    RAG_LABELS,
    Preview,
    SampleChanged,
    SampleChangeError,
    SampleNotFound,
    SampleSummary,
)
from audit_portal.models import Campaign
from audit_portal.models.organisations import KINDS
from audit_portal.parsing import parse_id, parse_int
from audit_portal.policy import Permission, allows
from audit_portal.sampling import (
    DIMENSIONS,
    FLAG_LABELS,
    METHODS,
    Filters,
    SampleError,
    SampleSpec,
    new_seed,
    parse_seed,
    validate_spec,
)
from audit_portal.web.context import redirect_with_message, render, run_db
from audit_portal.web.guard import audit_context, page

MAX_SIZE = 1_000_000
MAX_MINIMUM = 10_000
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")
RAG_CHOICES = (("green", "Green"), ("amber", "Amber"), ("red", "Red"), ("none", "Not rated"))
# Where a message from sampling.validate_spec belongs on the form, by what it talks about.
_MESSAGE_FIELDS = (
    ("number of returns", "size"),
    ("how many returns", "size"),
    ("percentage", "percent"),
    ("divide", "stratify_by"),
    ("minimum", "min_per_stratum"),
    ("weight", "weights"),
    ("intelligence", "weights"),
    ("include or exclude", "include"),
    ("overall rating", "rag"),
    ("seed", "seed"),
)


def weight_field(category: str) -> str:
    return f"weight-{category}"


@dataclass
class SampleForm:
    """What was typed, kept to show back, and the spec it makes (None while it has errors)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    spec: SampleSpec | None = None
    seed: int | None = None
    include_ids: frozenset[int] = frozenset()
    exclude_ids: frozenset[int] = frozenset()

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def blank_form() -> SampleForm:
    return SampleForm(
        values={
            "method": "simple",
            "size": "",
            "percent": "",
            "stratify_by": "",
            "min_per_stratum": "",
            "weights": {},
            "include": set(),
            "exclude": set(),
            "kind": set(),
            "district": set(),
            "rag": set(),
            "green_without_evidence": False,
            "seed": str(new_seed()),
        }
    )


def _text(form: FormData, name: str, limit: int = 40) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _many(form: FormData, name: str, limit: int = 100) -> list[str]:
    return [v[:limit] for v in form.getlist(name)[:5000] if isinstance(v, str)]


def parse_form(form: FormData) -> SampleForm:
    """The form as typed, each problem by its field; a spec when there are none."""
    parsed = SampleForm()
    v = parsed.values
    v["method"] = _text(form, "method")
    v["size"], v["percent"] = _text(form, "size"), _text(form, "percent")
    v["stratify_by"], v["min_per_stratum"] = (
        _text(form, "stratify_by"),
        _text(form, "min_per_stratum"),
    )
    v["weights"] = {c: _text(form, weight_field(c)) for c in FLAG_LABELS}
    v["include"], v["exclude"] = set(_many(form, "include")), set(_many(form, "exclude"))
    v["kind"], v["district"] = set(_many(form, "kind")), set(_many(form, "district"))
    v["rag"] = set(_many(form, "rag"))
    v["green_without_evidence"] = form.get("green_without_evidence") == "yes"
    v["seed"] = _text(form, "seed")

    method = v["method"]
    if method not in METHODS:
        parsed.fail("method", "Choose how to select the sample")
    size = percent = None
    if v["size"]:
        size = parse_int(v["size"], high=MAX_SIZE)
        if size is None:
            parsed.fail("size", "Enter the number of returns as a whole number, for example 10")
    if v["percent"]:
        if _DECIMAL.fullmatch(v["percent"].rstrip("%").strip()):
            percent = float(v["percent"].rstrip("%").strip())
        else:
            parsed.fail("percent", "Enter the percentage as a number, for example 10")
    stratify_by, minimum = None, 0
    if method == "stratified":
        if v["stratify_by"] not in DIMENSIONS:
            parsed.fail("stratify_by", "Choose what to divide the population by")
        else:
            stratify_by = v["stratify_by"]
        if v["min_per_stratum"]:
            found = parse_int(v["min_per_stratum"], high=MAX_MINIMUM)
            if found is None:
                parsed.fail("min_per_stratum", "Enter the minimum for each group as a whole number")
            else:
                minimum = found
    weights: dict[str, float] = {}
    if method == "risk":
        for category, label in FLAG_LABELS.items():
            typed = v["weights"][category]
            if not typed:
                continue
            if _DECIMAL.fullmatch(typed):
                weights[category] = float(typed)
            else:
                parsed.fail(
                    weight_field(category),
                    f"The weight for {label} must be a number, for example 3",
                )
    include = {parse_id(x) for x in v["include"]}
    exclude = {parse_id(x) for x in v["exclude"]}
    if None in include:
        parsed.fail("include", "Choose organisations to include from the list")
    if None in exclude:
        parsed.fail("exclude", "Choose organisations to exclude from the list")
    rags: set[str | None] = set()
    for rag in v["rag"]:
        if rag not in {value for value, _ in RAG_CHOICES}:
            parsed.fail("rag", "Filter the overall rating by green, amber, red or not rated")
        rags.add(None if rag == "none" else rag)
    try:
        parsed.seed = parse_seed(v["seed"])
    except SampleError as problem:
        parsed.fail("seed", str(problem))
    if parsed.errors:
        return parsed
    spec = SampleSpec(
        method=method,  # checked against METHODS above
        size=size,
        percent=percent,
        stratify_by=stratify_by,  # checked against DIMENSIONS
        min_per_stratum=minimum,
        weights=weights,
        filters=Filters(
            kinds=frozenset(v["kind"]),
            districts=frozenset(v["district"]),
            overall_rags=frozenset(rags),
            green_without_evidence_only=v["green_without_evidence"],
        ),
    )
    try:
        validate_spec(spec)
    except SampleError as problem:
        parsed.fail(field_for(str(problem)), str(problem))
        return parsed
    parsed.spec = spec
    parsed.include_ids = frozenset(i for i in include if i is not None)
    parsed.exclude_ids = frozenset(i for i in exclude if i is not None)
    return parsed


def field_for(message: str) -> str:
    lowered = message.casefold()
    for words, name in _MESSAGE_FIELDS:
        if words in lowered:
            if name == "weights":
                return weight_field(next(iter(FLAG_LABELS)))
            return name
    return "method"


def _error_anchor(name: str) -> str:
    """The id of the first input of a field, for the error summary's link."""
    return {
        "method": "method",
        "stratify_by": "stratify_by",
        "include": "include",
        "exclude": "exclude",
        "rag": "rag",
        "reason": "reason",
        "return_id": "return_id",
    }.get(name, name)


# ---------------------------------------------------------------------------------------------
# Select a dip sample


async def sample_new(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    if request.method == "GET":
        typed = blank_form()
        return await _new_page(request, campaign_id, typed)
    form = await request.form()
    typed = parse_form(form)
    button = _text(form, "button")
    if typed.errors or typed.spec is None or typed.seed is None:
        return await _new_page(request, campaign_id, typed, status_code=400)
    spec, seed = typed.spec, typed.seed
    include, exclude = typed.include_ids, typed.exclude_ids
    if button == "confirm":
        ctx, actor = audit_context(request), request.state.actor
        previewed = _text(form, "previewed", 64)
        try:
            stored = await run_db(
                request,
                lambda db: dipsamples.confirm_sample(
                    db,
                    ctx,
                    campaign_id,
                    spec,
                    seed,
                    actor,
                    previewed,
                    include_ids=include,
                    exclude_ids=exclude,
                ),
                write=True,
            )
        except CampaignNotFound:
            raise HTTPException(404) from None
        except SampleChanged as changed:
            return await _new_page(
                request, campaign_id, typed, notice=str(changed), status_code=409
            )
        except SampleError as problem:
            typed.fail(getattr(problem, "field", None) or field_for(str(problem)), str(problem))
            return await _new_page(request, campaign_id, typed, status_code=400)
        return await redirect_with_message(
            request,
            f"/dip-samples/{stored.id}",
            "The dip sample is confirmed. A draft evidence challenge has been made for each "
            "organisation in it.",
        )
    return await _new_page(request, campaign_id, typed, show_preview=True)


async def _new_page(
    request: Request,
    campaign_id: int,
    typed: SampleForm,
    *,
    show_preview: bool = False,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    spec, seed = typed.spec, typed.seed
    include, exclude = typed.include_ids, typed.exclude_ids

    shown: Preview | None = None
    if spec is not None and seed is not None and (show_preview or notice):
        try:
            shown = await run_db(
                request,
                lambda db: dipsamples.preview(
                    db, campaign_id, spec, seed, include_ids=include, exclude_ids=exclude
                ),
            )
        except CampaignNotFound:
            raise HTTPException(404) from None
        except SampleError as problem:
            name = getattr(problem, "field", None) or field_for(str(problem))
            typed.fail(name, str(problem))
            status_code = 400
    if shown is not None:
        campaign, members = shown.campaign, shown.members
    else:
        try:
            campaign, members = await run_db(
                request, lambda db: dipsamples.selection_choices(db, campaign_id)
            )
        except CampaignNotFound:
            raise HTTPException(404) from None
    districts = sorted({m.candidate.district for m in members if m.candidate.district})
    return render(
        request,
        "qa/sample_form.html",
        {
            "title": "Select a dip sample",
            "campaign": campaign,
            "members": members,
            "values": typed.values,
            "errors": typed.errors,
            "anchors": {name: _error_anchor(name) for name in typed.errors},
            "preview": shown,
            "notice": notice,
            "methods": [(m, METHOD_LABELS[m]) for m in METHODS],
            "dimensions": [(d, DIMENSION_LABELS[d].capitalize()) for d in DIMENSIONS],
            "flag_labels": list(FLAG_LABELS.items()),
            "weight_field": weight_field,
            "kinds": list(KINDS.items()),
            "kind_labels": KINDS,
            "districts": districts,
            "rag_choices": RAG_CHOICES,
            "rag_labels": RAG_LABELS,
        },
        status_code=status_code,
    )


# ---------------------------------------------------------------------------------------------
# Read and change a sample


async def sample_view(request: Request) -> Response:
    return await _sample_page(request, request.path_params["sample_id"])


async def _sample_page(
    request: Request,
    sample_id: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    can_manage = allows(request.state.actor, Permission.DIP_SAMPLES_MANAGE)

    def load(db: Session) -> tuple[dipsamples.SampleView, dict[int, tuple[str, ...]]]:
        view = dipsamples.load_sample(db, sample_id, with_addable=can_manage)
        in_sample = [line.sampled.return_id for line in view.current]
        return view, unevidenced_greens(db, view.sample.campaign_id, in_sample)

    try:
        view, unevidenced = await run_db(request, load)
    except (SampleNotFound, CampaignNotFound):
        raise HTTPException(404) from None
    return render(
        request,
        "qa/sample.html",
        {
            "title": f"Dip sample: {view.campaign.title}",
            "view": view,
            "method_label": METHOD_LABELS.get(view.sample.method, view.sample.method),
            "can_manage": can_manage,
            "unevidenced": unevidenced,
            "errors": errors or {},
            "typed": typed or {},
        },
        status_code=status_code,
    )


async def sample_change(request: Request) -> Response:
    sample_id = request.path_params["sample_id"]
    form = await request.form()
    change = _text(form, "change")
    raw_reason = form.get("reason")
    reason = raw_reason if isinstance(raw_reason, str) else ""
    return_id = parse_id(form.get("return_id"))
    typed = {"change": change, "reason": reason[:5000], "return_id": _text(form, "return_id")}
    if change not in {"add", "remove"}:
        return await _sample_page(
            request,
            sample_id,
            errors={"change": "Choose whether to add or remove an organisation"},
            typed=typed,
            status_code=400,
        )
    ctx, actor = audit_context(request), request.state.actor
    act = dipsamples.add_to_sample if change == "add" else dipsamples.remove_from_sample
    try:
        await run_db(
            request, lambda db: act(db, ctx, sample_id, return_id, reason, actor), write=True
        )
    except (SampleNotFound, CampaignNotFound):
        raise HTTPException(404) from None
    except SampleChangeError as problem:
        return await _sample_page(
            request,
            sample_id,
            errors={problem.field: str(problem)},
            typed=typed,
            status_code=400,
        )
    text = (
        "The organisation has been added to the sample."
        if change == "add"
        else "The organisation has been removed from the sample."
    )
    return await redirect_with_message(request, f"/dip-samples/{sample_id}", text)


async def campaign_samples(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]

    def load(db: Session) -> tuple[Campaign, list[SampleSummary], list[ChallengeCandidate]]:
        campaign, summaries = dipsamples.list_samples(db, campaign_id)
        return campaign, summaries, challenge_candidates(db, campaign_id)

    try:
        campaign, summaries, candidates = await run_db(request, load)
    except CampaignNotFound:
        raise HTTPException(404) from None
    return render(
        request,
        "qa/samples.html",
        {
            "title": f"Dip samples: {campaign.title}",
            "campaign": campaign,
            "summaries": summaries,
            "candidates": candidates,
            "method_labels": METHOD_LABELS,
            "can_manage": allows(request.state.actor, Permission.DIP_SAMPLES_MANAGE),
        },
    )


routes = [
    page(
        "/campaigns/{campaign_id:id}/dip-samples",
        campaign_samples,
        permission=Permission.DIP_SAMPLES_VIEW,
    ),
    page(
        "/campaigns/{campaign_id:id}/dip-samples/new",
        sample_new,
        permission=Permission.DIP_SAMPLES_MANAGE,
        methods=["GET", "POST"],
    ),
    page("/dip-samples/{sample_id:id}", sample_view, permission=Permission.DIP_SAMPLES_VIEW),
    page(
        "/dip-samples/{sample_id:id}/changes",
        sample_change,
        permission=Permission.DIP_SAMPLES_MANAGE,
        methods=["POST"],
    ),
]
