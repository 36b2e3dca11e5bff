"""Reading definition files into a Catalogue, collecting every problem instead of stopping."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from audit_portal.questionnaires.model import Definition, version_sort_key

# libyaml's loader when available (several times faster); both are the safe loader.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, at a path a person can find (e.g. sections[s175.3].title)."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


@dataclass
class LoadedFile:
    path: Path
    data: Any
    definition: Definition | None
    content_hash: str | None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Catalogue:
    """Every definition under a directory, by key and version."""

    root: Path
    files: list[LoadedFile]

    @property
    def definitions(self) -> list[Definition]:
        return [f.definition for f in self.files if f.definition is not None]

    def questionnaire_keys(self) -> list[str]:
        return sorted({d.key for d in self.definitions})

    def versions(self, key: str) -> list[Definition]:
        found = [d for d in self.definitions if d.key == key]
        return sorted(found, key=lambda d: d.version_key)

    def get(self, key: str, version: str) -> Definition | None:
        loaded = self.file_for(key, version)
        return loaded.definition if loaded else None

    def file_for(self, key: str, version: str) -> LoadedFile | None:
        for loaded in self.files:
            d = loaded.definition
            if d is not None and d.key == key and d.version == version:
                return loaded
        return None


def content_hash(data: Any) -> str:
    """Hash of the parsed content: comments and layout may change, meaning may not."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def definition_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/*.yaml"), key=lambda p: (p.parent.name, version_sort_key_safe(p)))


def version_sort_key_safe(path: Path) -> tuple[int, int]:
    try:
        return version_sort_key(path.stem)
    except ValueError:
        return (0, 0)


def load_file(path: Path, root: Path) -> LoadedFile:
    name = _display_name(path, root)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        return LoadedFile(path, None, None, None, [Problem(name, "", f"cannot be read: {exc}")])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return LoadedFile(
            path, None, None, None, [Problem(name, where, f"is not valid YAML: {reason}")]
        )
    if not isinstance(data, dict):
        return LoadedFile(path, data, None, None, [Problem(name, "", "must be a YAML mapping")])
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        return LoadedFile(path, data, None, None, _pydantic_problems(name, data, exc))
    return LoadedFile(path, data, definition, content_hash(data))


def load_catalogue(root: Path, extra_files: Iterable[Path] = ()) -> Catalogue:
    paths = [*definition_files(root), *extra_files]
    return Catalogue(root=root, files=[load_file(p, root) for p in paths])


_cache: dict[Path, tuple[tuple, Catalogue, float]] = {}


RECHECK_SECONDS = 2.0  # how stale the catalogue may be: files are looked at no more often


def current_catalogue(root: Path, *, recheck_seconds: float = RECHECK_SECONDS) -> Catalogue:
    """The catalogue, re-read only when a file was added, removed or changed.

    The web pages call this on every request; files stay the source of truth (a draft can be
    edited and previewed at once) without parsing every YAML file each time, and the files are
    looked at (a directory listing and a stat each) at most every ``recheck_seconds``.
    """
    now = time.monotonic()
    cached = _cache.get(root)
    if cached is not None and now - cached[2] < recheck_seconds:
        return cached[1]
    paths = definition_files(root)
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_catalogue(root), now)
    _cache[root] = (cached[0], cached[1], now)
    return cached[1]


def _display_name(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


# --- turning pydantic errors into plain English -------------------------------------------


def _pydantic_problems(name: str, data: Any, exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if not _is_union_tag(part)]
        problems.append(Problem(name, readable_path(data, loc), _message(error)))
    return sorted(set(problems))


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in {"worst", "share"}


def readable_path(data: Any, loc: list[Any]) -> str:
    """sections.2.items.0.kind -> sections[s175.3].items[s175.3.1].kind, using ids where known."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            child = node[part] if isinstance(node, list) and part < len(node) else None
            label = child.get("id") if isinstance(child, dict) and child.get("id") else part
            out += f"[{label}]"
            node = child
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a recognised field (check the spelling against docs/questionnaire-format.md)"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')} (got {error.get('input')!r})"
    if kind == "string_pattern_mismatch":
        return f"has the wrong form (got {error.get('input')!r})"
    if kind == "too_short":
        return "must not be empty"
    if kind == "union_tag_invalid":
        return f"method must be one of {ctx.get('expected_tags', '')}"
    return error["msg"][0].lower() + error["msg"][1:]
