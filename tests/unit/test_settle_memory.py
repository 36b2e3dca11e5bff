"""``audit-portal serve`` settles its start-up objects out of the garbage collector's sight."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit_portal.cli import settle_memory
from audit_portal.questionnaires import current_catalogue
from tests.conftest import make_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()  # whatever an earlier test froze
    yield
    gc.unfreeze()  # the rest of the suite runs with a collector that sees everything


@pytest.mark.usefixtures("unfrozen")
def test_the_catalogue_is_loaded_first_and_everything_made_so_far_is_frozen(
    tmp_path: Path,
) -> None:
    settings = make_settings("sqlite:///" + str(tmp_path / "unused.db"), tmp_path)
    assert gc.get_freeze_count() == 0
    settle_memory(settings)
    catalogue = current_catalogue(settings.questionnaires_dir)
    assert gc.get_freeze_count() > 10_000, "the start-up objects are out of the collector's sight"
    assert catalogue.definitions, "the questionnaires were loaded before the freeze"
