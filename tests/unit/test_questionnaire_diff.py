"""Diff and carry-forward between the two shipped school versions (real content)."""

from __future__ import annotations

from audit_portal import cli
from audit_portal.config import PROJECT_ROOT
from audit_portal.questionnaires import carry_forward_plan, diff, load_catalogue

KEY = "section-175-schools"


def versions():  # type: ignore[no-untyped-def]
    catalogue = load_catalogue(PROJECT_ROOT / "questionnaires")
    return catalogue.get(KEY, "2022.1"), catalogue.get(KEY, "2025.1")


def test_diff_between_the_school_versions() -> None:
    old, new = versions()
    d = diff(old, new)
    added = {item.id: (entry.change if entry else "new") for item, entry in d.added}
    assert added == {
        "s175.1.6": "merged",
        "s175.1.7": "new",
        "s175.3.6": "new",
        "s175.10.4": "split",
        "s175.10.5": "split",
        "s175.10.6": "split",
        "s175.11.5": "new",
    }
    removed = {item.id: entry.change for item, entry in d.removed}
    assert removed == {"s175.1.3": "merged", "s175.1.4": "merged", "s175.9.5": "removed"}
    changed = {c.id: c.lineage.change for c in d.changed if c.lineage}
    assert {"s175.7.2", "s175.7.4", "s175.7.5", "s175.10.1", "s175.10.2"} <= set(changed)
    assert all(c.lineage is not None for c in d.changed), "every changed item is declared"
    assert d.unchanged == new.item_count() - len(d.added) - len(d.changed)
    assert not d.scale_changed


def test_carry_forward_plan_follows_the_lineage() -> None:
    old, new = versions()
    plan = carry_forward_plan(old, new)
    assert set(plan) == {i.id for i in new.items()}
    assert plan["s175.2.1"].change == "same" and plan["s175.2.1"].copies_answer
    assert plan["s175.10.1"].change == "reworded" and plan["s175.10.1"].needs_confirmation
    assert plan["s175.10.5"].sources == ("s175.10.2",) and plan["s175.10.5"].copies_answer
    assert plan["s175.1.6"].sources == ("s175.1.3", "s175.1.4")
    assert not plan["s175.1.6"].copies_answer, "a merged item is answered afresh"
    assert plan["s175.3.6"].change == "new" and not plan["s175.3.6"].needs_confirmation


def test_cli_diff_output(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["questionnaires", "diff", KEY, "2022.1", "2025.1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("section-175-schools: 2022.1 -> 2025.1\n")
    assert "Added (7):" in out and "Removed (3):" in out
    assert "+ s175.10.4 [split from s175.10.2]" in out
    assert "- s175.9.5 [removed]" in out
    assert "- s175.1.3 [merged into s175.1.6]" in out
    assert "~ s175.10.1 [reworded]  changed: prompt" in out


def test_cli_diff_unknown_version(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["questionnaires", "diff", KEY, "2022.1", "2031.1"]) == 2
    assert "section-175-schools 2031.1 was not found" in capsys.readouterr().out
