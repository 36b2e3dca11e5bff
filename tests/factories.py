"""Builders for test data: small, valid by default, easy to break on purpose."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

THREE_POINT_SCALE: dict[str, Any] = {
    "points": [
        {
            "value": 3,
            "label": "Fully in place",
            "description": "In place and working.",
            "rag": "green",
            "less_effective": False,
        },
        {
            "value": 2,
            "label": "Partly in place",
            "description": "Partly there.",
            "rag": "amber",
            "less_effective": True,
            "narrative_required": True,
        },
        {
            "value": 1,
            "label": "Not in place",
            "description": "Not there.",
            "rag": "red",
            "less_effective": True,
            "narrative_required": True,
        },
    ],
    "not_applicable": {"label": "Not applicable", "reason_required": True},
}


def item(item_id: str, prompt: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "kind": "rating",
        "prompt": prompt or f"Prompt for {item_id}",
        "guidance": f"What good looks like for {item_id}.",
        "evidence_examples": [f"Evidence for {item_id}"],
        **extra,
    }


def definition(version: str = "2025.1", **overrides: Any) -> dict[str, Any]:
    """A valid section-175-schools definition with two sections of two items each."""
    data: dict[str, Any] = {
        "key": "section-175-schools",
        "version": version,
        "title": "Test school audit",
        "status": "published",
        "follows": ["Keeping Children Safe in Education (test)"],
        "audience": {"duty_types": ["section-175-school"]},
        "introduction": "Intro.",
        "completion_guidance": "Rate honestly.",
        "rating_scale": copy.deepcopy(THREE_POINT_SCALE),
        "rollup": {
            "section": {"method": "worst"},
            "overall": {"method": "share", "over": "sections", "green_at_least": 0.8},
        },
        "sections": [
            {"id": "s175.1", "title": "Leadership", "items": [item("s175.1.1"), item("s175.1.2")]},
            {"id": "s175.2", "title": "Training", "items": [item("s175.2.1"), item("s175.2.2")]},
        ],
    }
    data.update(overrides)
    return data


def write_definition(root: Path, data: dict[str, Any], *, name: str | None = None) -> Path:
    path = root / data.get("key", "unknown") / f"{name or data.get('version', 'x')}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path
