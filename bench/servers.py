"""Running the portal and the baseline app as separate processes, as an operator would.

Both are started with their ordinary command lines (``audit-portal serve`` and ``uvicorn``), one
process each, on 127.0.0.1, and stopped with SIGTERM whatever happens, so a benchmark run never
leaves a server behind. Their output goes to files: the portal's errors are read back afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
LOG_LEVEL = "info"  # what `audit-portal serve` uses: the baseline logs the same way


class ServerFailed(RuntimeError):
    """A server did not start; the message carries the end of what it wrote to stderr."""


@dataclass(frozen=True)
class Running:
    """A server that answers: where to reach it and where its output goes."""

    name: str
    base_url: str
    stdout: Path
    stderr: Path
    pid: int = 0


def free_port() -> int:
    """A port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def portal_command(port: int) -> list[str]:
    return [str(BIN / "audit-portal"), "serve", "--host", HOST, "--port", str(port)]


def baseline_command(port: int) -> list[str]:
    return [
        str(BIN / "uvicorn"),
        "bench.baseline_app:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        LOG_LEVEL,
    ]


def portal_environment(database_url: str, secret_key: str, var_dir: Path, port: int) -> dict:
    """The portal's settings, all from the environment as the README describes, and as a
    deployment has them (production: templates are not re-read from disk on each request)."""
    return {
        **os.environ,
        "AUDIT_PORTAL_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "AUDIT_PORTAL_VAR_DIR": str(var_dir),
        "BASE_URL": f"http://{HOST}:{port}",  # plain http: cookies must not be Secure
    }


@contextmanager
def serving(
    name: str, command: Sequence[str], env: Mapping[str, str], port: int, logs: Path
) -> Iterator[Running]:
    """Start ``command``, wait until ``/healthz`` answers 200, and always stop it afterwards."""
    base_url = f"http://{HOST}:{port}"
    stdout, stderr = logs / f"{name}.out", logs / f"{name}.err"
    with ExitStack() as stack:
        out = stack.enter_context(stdout.open("wb"))
        err = stack.enter_context(stderr.open("wb"))
        process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            list(command),
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C reaches only us; we stop it ourselves
        )
        stack.callback(_stop, process)
        running = Running(name, base_url, stdout, stderr, process.pid)
        _wait_until_healthy(running, process)
        yield running


def _wait_until_healthy(running: Running, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(
                f"The {running.name} stopped while starting (exit code {process.returncode}).\n"
                + _tail(running.stderr)
            )
        try:
            if httpx.get(f"{running.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ServerFailed(
        f"The {running.name} did not answer /healthz within {START_TIMEOUT_S:.0f} s.\n"
        + _tail(running.stderr)
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "Its stderr ended with:\n" + "\n".join(text.splitlines()[-lines:])


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*$")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far; None where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float | None:
    """The most resident memory a process has used since it started (VmHWM), or since
    ``reset_peak_rss``, in MB (10^6 bytes); None where /proc is not there. Read once after a
    load, it is that load's peak."""
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int) -> float | None:
    """The resident memory a process uses now (VmRSS), in MB; None where /proc is not there."""
    return _status_mb(pid, "VmRSS")


def reset_peak_rss(pid: int) -> bool:
    """Start ``peak_rss_mb`` again from the present resident memory (Linux 4.0 and later, for a
    process of the same user); False where that is not possible."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_mb(pid: int, field: str) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / 1_000_000  # the kernel counts in KiB
    return None


def log_offset(path: Path) -> int:
    """Where the log ends now, so a phase can read only what it added."""
    return path.stat().st_size if path.exists() else 0


def problems_since(path: Path, offset: int = 0) -> Counter[str]:
    """Distinct exception lines (a traceback's last line) written after ``offset``, counted."""
    if not path.exists():
        return Counter()
    with path.open("rb") as log:
        log.seek(offset)
        chunk = log.read().decode(errors="replace")
    found: Counter[str] = Counter()
    for line in chunk.splitlines():
        if _EXCEPTION_LINE.match(line.strip()):
            found[line.strip()[:200]] += 1
    return found
