"""``audit-portal serve`` settles its start-up objects out of the garbage collector's sight."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit_portal.cli import settle_memory
from audit_portal.config import PROJECT_ROOT
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
    # A folder of its own, so that no earlier test has loaded (and cached) this catalogue.
    folder = shutil.copytree(PROJECT_ROOT / "questionnaires", tmp_path / "questionnaires")
    settings = make_settings(
        "sqlite:///" + str(tmp_path / "unused.db"), tmp_path, QUESTIONNAIRES_DIR=str(folder)
    )
    settle_memory(settings)
    catalogue = current_catalogue(settings.questionnaires_dir)  # the cached one
    assert catalogue.definitions and gc.get_freeze_count() > 10_000
    frozen = not any(thing is catalogue for thing in gc.get_objects())
    assert frozen, "the questionnaires were loaded before the freeze, so they are frozen too"
