"""What an import did: created, updated, unchanged, and every skipped row with its reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int, int], None] | None  # (rows done, rows in all)


class ImportFileError(Exception):
    """The whole file is unusable: nothing was imported. The message says why."""


@dataclass(frozen=True)
class Skip:
    row: int  # the line number in the file, the header being row 1
    reason: str
    name: str = ""

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}" + (f" ({self.name})" if self.name else "")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skip] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped"
        )
