"""The validating models of a questionnaire definition file (see docs/questionnaire-format.md).

Field-level rules live here (pydantic, which also generates the committed JSON Schema);
rules that relate fields to each other or to other versions live in ``check.py`` so that every
problem can be reported at once with its path.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

RAG = Literal["green", "amber", "red"]
RAG_RANK: dict[str, int] = {"red": 0, "amber": 1, "green": 2}
ItemKind = Literal["rating", "yes_no", "number", "date", "single_choice", "multiple_choice", "text"]
CHOICE_KINDS = frozenset({"single_choice", "multiple_choice"})
Text = Annotated[str, Field(min_length=1)]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9]+(\.[0-9]+)+$", max_length=32)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ScalePoint(_Strict):
    value: int = Field(ge=0, le=100)
    label: Text
    description: Text
    rag: RAG
    less_effective: bool
    narrative_required: bool = False


class NotApplicable(_Strict):
    label: Text = "Not applicable"
    description: str = ""
    reason_required: bool = True


class RatingScale(_Strict):
    points: list[ScalePoint] = Field(min_length=2)
    not_applicable: NotApplicable | None = None

    def point(self, value: int | None) -> ScalePoint | None:
        return next((p for p in self.points if p.value == value), None)


class WorstRule(_Strict):
    """The worst RAG among the inputs."""

    method: Literal["worst"]


class ShareRule(_Strict):
    """Thresholds on the share of inputs that are green or red; otherwise amber."""

    method: Literal["share"]
    over: Literal["sections", "items"] | None = None
    green_at_least: float = Field(ge=0, le=1)
    red_if_any_red: bool = False
    red_at_least: float | None = Field(default=None, gt=0, le=1)
    # Never green while any counted input is red: amber at best (a red standard must not sit
    # under a green overall rating, which reads as a clean bill of health).
    amber_at_best_if_any_red: bool = False


RollupRule = Annotated[WorstRule | ShareRule, Field(discriminator="method")]


class Rollup(_Strict):
    section: RollupRule
    overall: RollupRule


class Conditions(_Strict):
    duty_types: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    phases: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.model_dump().items() if v}


class Option(_Strict):
    value: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    label: Text


class Item(_Strict):
    id: Identifier
    kind: ItemKind
    prompt: Text
    guidance: Text
    evidence_examples: list[Text] = Field(default_factory=list)
    required: bool = True
    applies_to: Conditions | None = None
    narrative_required_for: list[int] | None = None
    options: list[Option] | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    max_length: int | None = Field(default=None, ge=1, le=20000)

    def meaning(self) -> dict[str, object]:
        """What must not change for an id to keep its meaning across versions."""
        return {
            "kind": self.kind,
            "prompt": " ".join(self.prompt.split()),
            "applies_to": self.applies_to.as_dict() if self.applies_to else {},
            "options": [o.model_dump() for o in self.options or []],
        }


class Section(_Strict):
    id: Identifier
    title: Text
    summary: str = ""
    items: list[Item] = Field(min_length=1)


class LineageEntry(_Strict):
    id: Identifier
    change: Literal["reworded", "split", "merged", "removed"]
    from_: list[Identifier] = Field(default_factory=list, alias="from")
    note: Text

    @property
    def change_label(self) -> str:
        return CHANGE_LABELS[self.change]


CHANGE_LABELS = {"reworded": "Reworded", "split": "Split", "merged": "Merged", "removed": "Removed"}
STATUS_LABELS = {"draft": "Draft", "published": "Published"}


class Definition(_Strict):
    key: Text
    version: Annotated[str, Field(pattern=r"^\d{4}\.\d+$")]
    title: Text
    status: Literal["draft", "published"]
    supersedes: Annotated[str, Field(pattern=r"^\d{4}\.\d+$")] | None = None
    follows: list[Text] = Field(min_length=1)
    audience: Conditions
    introduction: Text
    completion_guidance: Text
    rating_scale: RatingScale
    rollup: Rollup
    sections: list[Section] = Field(min_length=1)
    lineage: list[LineageEntry] = Field(default_factory=list)
    notes: str = ""  # why this version exists or changed, for the people who choose versions

    @property
    def is_published(self) -> bool:
        """Published versions are frozen and may be chosen for campaigns."""
        return self.status == "published"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item | None:
        return self.items_by_id.get(item_id)

    @cached_property
    def items_by_id(self) -> dict[str, Item]:
        """Every item by its id, built on first use: pages look items up one by one, and a scan
        of a 100-item definition for each made "Check your answers" quadratic."""
        return {i.id: i for i in self.items()}

    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def version_key(self) -> tuple[int, int]:
        return version_sort_key(self.version)


def version_sort_key(version: str) -> tuple[int, int]:
    year, _, n = version.partition(".")
    return (int(year), int(n or 0))
