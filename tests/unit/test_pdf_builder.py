"""The builder process: work runs in another process, at a lower priority than the app's; a
builder that died is replaced by the next call, and the builder ends with the app process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from audit_portal.web.pdf_builder import NICENESS, in_builder_process

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def where_and_how_nice(label: str) -> bytes:
    return f"{label} {os.getpid()} {os.nice(0)}".encode()


def die(code: int) -> bytes:
    os._exit(code)


def test_work_runs_in_another_process_at_a_lower_priority() -> None:
    label, pid, niceness = asyncio.run(in_builder_process(where_and_how_nice, "pack")).split()
    assert label == b"pack" and int(pid) != os.getpid()
    assert int(niceness) == min(19, os.nice(0) + NICENESS)
    again = asyncio.run(in_builder_process(where_and_how_nice, "again")).split()
    assert again[1] == pid  # the same process, kept


def test_a_builder_that_died_is_replaced() -> None:
    first = asyncio.run(in_builder_process(where_and_how_nice, "before")).split()[1]
    with pytest.raises(BrokenProcessPool):
        asyncio.run(in_builder_process(die, 3))
    after = asyncio.run(in_builder_process(where_and_how_nice, "after")).split()[1]
    assert after != first


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_builder_ends_when_the_app_process_is_killed(tmp_path: Path) -> None:
    """However the app process ends (here SIGKILL: no exit handler runs), its builder ends."""
    found = tmp_path / "builder.pid"
    script = (
        "import asyncio, os, pathlib, signal, sys\n"
        "from audit_portal.web.pdf_builder import in_builder_process\n"
        "from tests.unit.test_pdf_builder import where_and_how_nice\n"
        "pid = asyncio.run(in_builder_process(where_and_how_nice, 'x')).split()[1]\n"
        "pathlib.Path(sys.argv[1]).write_bytes(pid)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    app = subprocess.run(
        [sys.executable, "-c", script, str(found)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the builder would keep a pipe open
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert app.returncode == -signal.SIGKILL
    builder = int(found.read_text())
    deadline = time.monotonic() + 15
    while running(builder) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(builder)
