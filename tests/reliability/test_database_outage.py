"""Database outage: PostgreSQL stops while the portal serves, then comes back.

The shared server at 127.0.0.1:5432 is never touched: the test starts a throwaway cluster of
its own (initdb and pg_ctl, as ``scripts/test`` does) on a free port, runs ``audit-portal
serve`` against it and stops the cluster under it. During the outage /healthz and the pages
must answer a clear 503 within a few seconds (no traceback, no hang); once the cluster is back
the same portal process must serve again, without a restart.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from audit_portal.db import migrate
from bench import driver
from bench.dataset import populate, rating_items
from bench.servers import free_port
from tests.reliability.portal import SECRET_KEY, client_for, portal

pytestmark = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE", "sqlite") != "postgresql",
    reason="a database outage is a PostgreSQL matter: SQLite is a file inside the portal's process",
)

QUICK_S = 5.0  # "a few seconds": the longest an answer may take during the outage
RECOVERY_S = 30.0


def _pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    return Path(found[-1]).parent


def _as_postgres(*command: str) -> None:
    """Run a PostgreSQL server program, as the postgres user when we are root (it refuses root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)


@dataclass(frozen=True)
class Cluster:
    """A throwaway PostgreSQL cluster of this test's own."""

    folder: Path
    port: int
    pg_bin: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c fsync=off -c listen_addresses=127.0.0.1 -k {self.folder}"
        _as_postgres(
            str(self.pg_bin / "pg_ctl"), "-D", str(self.folder / "data"),
            "-l", str(self.folder / "log"), "-w", "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(
            str(self.pg_bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop"
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    pg_bin = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="audit-portal-outage-"))
    if os.getuid() == 0:
        shutil.chown(folder, "postgres")
    made = Cluster(folder, free_port(), pg_bin)
    try:
        _as_postgres(
            str(pg_bin / "initdb"), "-D", str(folder / "data"), "-U", "postgres", "--auth=trust"
        )
        made.start()
        yield made
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            made.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _timed(browser: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    """The response, which must come within QUICK_S (a hang is a failure, not a wait)."""
    started = time.monotonic()
    response = browser.request(method, url, timeout=QUICK_S + 5, **kwargs)  # type: ignore[arg-type]
    took = time.monotonic() - started
    assert took < QUICK_S, f"{method} {url} took {took:.1f} s during the outage"
    return response


def _until_healthy(browser: httpx.Client) -> None:
    deadline = time.monotonic() + RECOVERY_S
    while time.monotonic() < deadline:
        try:
            if browser.get("/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the portal did not recover within {RECOVERY_S:.0f} s")


def test_an_outage_answers_503_quickly_and_the_portal_recovers(
    cluster: Cluster, tmp_path: Path
) -> None:
    migrate(cluster.url)
    respondent = populate(cluster.url, 1, SECRET_KEY).respondents[0]
    item = rating_items()[0]
    fid = driver.field_prefix(item)
    overview = f"/returns/{respondent.return_id}"
    autosave = f"{overview}/items/{item}"
    with (
        portal(cluster.url, tmp_path, "portal") as running,
        client_for(running, respondent) as browser,
    ):
        assert browser.get(overview).status_code == 200

        cluster.stop()
        health = _timed(browser, "GET", "/healthz")
        assert (health.status_code, health.json()["database"]) == (503, "unreachable")
        for method, url, form in (
            ("GET", overview, None),
            ("GET", "/", None),
            ("POST", autosave, {f"{fid}-value": "2", f"{fid}-version": ""}),
        ):
            response = _timed(browser, method, url, data=form)
            assert response.status_code == 503, f"{method} {url}: {response.status_code}"
            assert "Sorry, the service is unavailable" in response.text
            assert "Traceback" not in response.text
            assert response.headers.get("retry-after")

        cluster.start()
        _until_healthy(browser)
        assert browser.get(overview).status_code == 200
        saved = browser.post(autosave, data={f"{fid}-value": "2", f"{fid}-version": ""})
        assert driver.classify(saved, fid)[0] is driver.Outcome.SAVED
