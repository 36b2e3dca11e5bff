"""`audit-portal questionnaires list | check | diff | schema`."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

from audit_portal.config import Settings
from audit_portal.questionnaires import Diff, check_catalogue, diff, load_catalogue
from audit_portal.questionnaires.model import Definition

SCHEMA_FILE = "schema.json"


class _Fail(Exception):
    pass


def add_parser(sub: Any) -> None:
    q = sub.add_parser("questionnaires", help="list, check and compare questionnaire definitions")
    q.add_argument("--dir", type=Path, help="definitions folder (default: QUESTIONNAIRES_DIR)")
    qs = q.add_subparsers(dest="action", required=True, metavar="ACTION")

    qs.add_parser("list", help="one line per definition file").set_defaults(handler=cmd_list)
    qs.add_parser("check", help="validate every file; exit 1 on any problem").set_defaults(
        handler=cmd_check
    )
    p = qs.add_parser("diff", help="items added, removed and changed between two versions")
    p.add_argument("key")
    p.add_argument("old")
    p.add_argument("new")
    p.set_defaults(handler=cmd_diff)
    p = qs.add_parser("schema", help="write the JSON Schema for definition files")
    p.add_argument("--check", action="store_true", help="exit 1 if the committed schema is stale")
    p.set_defaults(handler=cmd_schema)


def _root(args: argparse.Namespace, settings: Settings) -> Path:
    return args.dir.resolve() if args.dir else settings.questionnaires_dir


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    catalogue = load_catalogue(_root(args, settings))
    rows = [("KEY", "VERSION", "STATUS", "SECTIONS", "ITEMS", "FILE")]
    for loaded in catalogue.files:
        d = loaded.definition
        name = loaded.path.relative_to(catalogue.root.parent)
        if d is None:
            rows.append(("?", loaded.path.stem, "INVALID", "-", "-", str(name)))
        else:
            rows.append(
                (d.key, d.version, d.status, str(len(d.sections)), str(d.item_count()), str(name))
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    catalogue = load_catalogue(_root(args, settings))
    problems = check_catalogue(catalogue)
    for problem in problems:
        print(problem)
    if problems:
        files = len({p.file for p in problems})
        print(f"{len(problems)} problem(s) in {files} file(s).")
        return 1
    print(f"All {len(catalogue.files)} questionnaire file(s) are valid.")
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    catalogue = load_catalogue(_root(args, settings))
    old = catalogue.get(args.key, args.old)
    new = catalogue.get(args.key, args.new)
    for version, found in ((args.old, old), (args.new, new)):
        if found is None:
            print(
                f"{args.key} {version} was not found or is not valid (try `questionnaires check`)."
            )
            return 2
    assert old is not None and new is not None
    print(format_diff(diff(old, new)))
    return 0


def format_diff(d: Diff) -> str:
    lines = [f"{d.key}: {d.old_version} -> {d.new_version}"]
    if d.scale_changed:
        lines.append("! The rating scale changed: ratings are not directly comparable.")
    if d.rollup_changed:
        lines.append("! The roll-up rules changed: section and overall RAGs use a new method.")
    lines.append(f"\nAdded ({len(d.added)}):")
    for item, entry in d.added:
        how = f" [{entry.change} from {', '.join(entry.from_)}]" if entry and entry.from_ else ""
        lines.append(f"  + {item.id}{how}  {_short(item.prompt)}")
        if entry:
            lines.append(_wrap(f"note: {entry.note}"))
    lines.append(f"\nRemoved ({len(d.removed)}):")
    for item, entry in d.removed:
        how = (
            f" [{entry.change}" + (f" into {entry.id}]" if entry.change != "removed" else "]")
            if entry
            else ""
        )
        lines.append(f"  - {item.id}{how}  {_short(item.prompt)}")
        if entry and entry.change == "removed":
            lines.append(_wrap(f"note: {entry.note}"))
    lines.append(f"\nChanged ({len(d.changed)}):")
    for change in d.changed:
        how = f" [{change.lineage.change}]" if change.lineage else ""
        lines.append(f"  ~ {change.id}{how}  changed: {', '.join(change.fields)}")
        if "prompt" in change.fields:
            lines.append(_wrap(f"was: {change.before.prompt}"))
            lines.append(_wrap(f"now: {change.after.prompt}"))
        if change.lineage:
            lines.append(_wrap(f"note: {change.lineage.note}"))
    lines.append(f"\nUnchanged: {d.unchanged} item(s)")
    return "\n".join(lines)


def _short(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _wrap(text: str) -> str:
    return textwrap.fill(
        " ".join(text.split()), width=100, initial_indent=" " * 6, subsequent_indent=" " * 6
    )


def json_schema() -> str:
    schema = Definition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Safeguarding Audit Portal questionnaire definition"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    path = _root(args, settings) / SCHEMA_FILE
    fresh = json_schema()
    if args.check:
        if not path.exists() or path.read_text() != fresh:
            print(f"{path} is out of date: run `audit-portal questionnaires schema`.")
            return 1
        print(f"{path} is up to date.")
        return 0
    path.write_text(fresh)
    print(f"Wrote {path}.")
    return 0
