"""Backups of a portal on SQLite, and restoring one into a fresh install, checked by a manifest.

A backup is a directory holding ``audit-portal.sqlite3`` (a consistent copy of the database),
``evidence/`` (the evidence store, in its own layout) and ``manifest.json``: when it was made (by
the portal's clock), the schema revision, the number of rows in every table, and the size and
sha256 of every file. A restore checks every file against the manifest before it touches
anything, and afterwards checks the restored tables hold the manifest's numbers of rows.

Consistent while the portal serves and writes: the database is copied with SQLite's online
backup API in a single step, which reads one snapshot (one read transaction; in WAL mode the
portal's writers carry on meanwhile). A copy made in several steps would start again whenever
another connection writes, and under steady autosaves might never finish. The evidence is
copied after the database: a file is stored before the row that names it commits and is never
changed afterwards, so every file the copied database names is already on disk. Files stored
since are copied too; nothing names them and they do no harm.

A restore writes into the target with the same backup API, so a database file that SQLite has
open (with its ``-wal`` and ``-shm`` files) is replaced whole and never half-copied over.

PostgreSQL has its own tools for this (``pg_dump``, ``pg_restore``): the commands to run are
spelt out by ``postgresql_backup_commands`` and ``postgresql_restore_commands``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine.url import make_url

from audit_portal import clock
from audit_portal.challenges.files import evidence_storage
from audit_portal.config import Settings
from audit_portal.evidence import LocalStorage

DATABASE_FILE = "audit-portal.sqlite3"
EVIDENCE_DIR = "evidence"
MANIFEST_FILE = "manifest.json"
POSTGRESQL_DUMP = "audit-portal.dump"
FORMAT = 1
BUSY_TIMEOUT_S = 30.0
# Backups hold personal data: only the portal's own user may read them, as for the evidence.
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
PROGRESS_FROM = 100  # files: a shorter list is copied before anyone would wonder

Say = Callable[[str], None]


def _quiet(_text: str) -> None:
    """The default ``say``: tell nobody."""


class BackupError(Exception):
    """A backup or restore that cannot go ahead, in words the operator can act on."""


@dataclass(frozen=True)
class ManifestFile:
    path: str  # relative to the backup directory, with forward slashes
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    created_at: str  # ISO 8601, UTC, from the portal's clock
    schema_revision: list[str]  # the alembic_version rows of the copied database
    counts: dict[str, int]  # table -> rows
    files: list[ManifestFile]
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise BackupError(f"{MANIFEST_FILE} is in format {data.get('format')!r}, not {FORMAT}.")
        return cls(
            created_at=data["created_at"],
            schema_revision=list(data["schema_revision"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            files=[ManifestFile(f["path"], int(f["size"]), f["sha256"]) for f in data["files"]],
        )

    @property
    def evidence_files(self) -> list[ManifestFile]:
        return [f for f in self.files if f.path.startswith(EVIDENCE_DIR + "/")]


# --- where things are ------------------------------------------------------------------------


def sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not settings.is_sqlite or not database or database == ":memory:":
        raise BackupError("This is not a SQLite database file.")
    return Path(database)


def evidence_root(settings: Settings) -> Path:
    """The directory of the evidence store (the portal keeps evidence on local disk)."""
    storage = evidence_storage(settings)
    if not isinstance(storage, LocalStorage):
        raise BackupError(
            "Evidence is not kept on local disk: back up its store with its own tools."
        )
    return storage.root


# --- backing up ------------------------------------------------------------------------------


def back_up(settings: Settings, destination: Path, say: Say = _quiet) -> Manifest:
    """Copy the database and the evidence into ``destination`` (new or empty) with a manifest."""
    source = sqlite_path(settings)
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} already exists and is not empty: name a new directory.")
    _private_directory(destination)

    copy = destination / DATABASE_FILE
    say(f"Copying the database ({_megabytes(source.stat().st_size)}) ...")
    with closing(_connect(source)) as live, closing(_connect(copy)) as target:
        live.backup(target)  # one step: one consistent snapshot (see the module's docstring)
        target.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        problem = _integrity_problem(target)
        if problem:
            raise BackupError(f"The copied database fails SQLite's integrity check: {problem}")
        revision = _schema_revision(target)
        counts = table_counts(target)
    os.chmod(copy, FILE_MODE)

    root = evidence_root(settings)
    stored = _evidence_files(root)
    say(f"Copying {len(stored):,} evidence file{'s' * (len(stored) != 1)} ...")
    for done, relative in enumerate(stored, start=1):
        _copy_private(root / relative, destination / EVIDENCE_DIR / relative, destination)
        _every_tenth(say, done, len(stored), "Copied {done:,} of {total:,} evidence files")

    say("Writing the manifest (checksums of every file) ...")
    manifest = Manifest(
        created_at=clock.now().isoformat(),
        schema_revision=revision,
        counts=counts,
        files=[_describe(destination, copy)]
        + [_describe(destination, destination / EVIDENCE_DIR / r) for r in stored],
    )
    # Written last: a directory without a manifest (a backup cut short) is never restored.
    _write_private(destination / MANIFEST_FILE, manifest.to_json())
    return manifest


# --- restoring -------------------------------------------------------------------------------


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST_FILE
    if not path.is_file():
        raise BackupError(f"{source} has no {MANIFEST_FILE}: it is not a portal backup.")
    try:
        return Manifest.from_json(path.read_text())
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path} cannot be read ({exc}).") from None


def check_backup(source: Path, manifest: Manifest) -> list[str]:
    """Every way the files differ from the manifest (an empty list: the backup is whole)."""
    problems = []
    for entry in manifest.files:
        path = source / entry.path
        if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
            problems.append(f"{entry.path} is outside the backup")
        elif not path.is_file():
            problems.append(f"{entry.path} is missing")
        elif path.stat().st_size != entry.size:
            problems.append(f"{entry.path} is {path.stat().st_size:,} bytes, not {entry.size:,}")
        elif file_sha256(path) != entry.sha256:
            problems.append(f"{entry.path} does not match its checksum")
    if DATABASE_FILE not in {f.path for f in manifest.files}:
        problems.append(f"the manifest lists no {DATABASE_FILE}")
    return problems


def holds_data(settings: Settings) -> list[str]:
    """What the target install already holds (empty: a fresh install, safe to restore into)."""
    found = []
    target = sqlite_path(settings)
    if target.is_file():
        with closing(_connect(target)) as db:
            filled = [t for t, n in table_counts(db).items() if n and t != "alembic_version"]
        if filled:
            found.append(f"the database has rows in {', '.join(filled[:5])}")
    stored = _evidence_files(evidence_root(settings))
    if stored:
        found.append(f"the evidence store has {len(stored):,} files")
    return found


def restore(settings: Settings, source: Path, *, force: bool, say: Say = _quiet) -> Manifest:
    """Put a backup made by ``back_up`` back: checked first, then evidence, then the database."""
    manifest = read_manifest(source)
    say(f"Checking {len(manifest.files):,} files against the manifest ...")
    problems = check_backup(source, manifest)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise BackupError(
            "The backup does not match its manifest, nothing was restored: "
            + "; ".join(problems[:5])
            + more
        )
    existing = holds_data(settings)
    if existing and not force:
        raise BackupError(
            f"The target install is not empty ({'; '.join(existing)}). Restore into a fresh "
            "install, or add --force to replace its database."
        )

    # Evidence first: once the database is back, every file it names is already in place.
    root = evidence_root(settings)
    evidence = manifest.evidence_files
    say(f"Restoring {len(evidence):,} evidence file{'s' * (len(evidence) != 1)} ...")
    for done, entry in enumerate(evidence, start=1):
        relative = entry.path.removeprefix(EVIDENCE_DIR + "/")
        _copy_private(source / entry.path, root / relative, root)
        _every_tenth(say, done, len(evidence), "Restored {done:,} of {total:,} evidence files")

    target = sqlite_path(settings)
    say(f"Restoring the database into {target} ...")
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(source / DATABASE_FILE)) as saved, closing(_connect(target)) as live:
        saved.backup(live)
        counts = table_counts(live)
    if counts != manifest.counts:
        differ = sorted(
            t for t in set(counts) | set(manifest.counts) if counts.get(t) != manifest.counts.get(t)
        )
        raise BackupError(
            f"The restored database's row counts differ from the manifest: {', '.join(differ)}."
        )
    return manifest


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_options(settings: Settings) -> tuple[str, str]:
    """(connection options, database name) for the PostgreSQL command-line tools."""
    url = make_url(settings.database_url)
    options = f"--host={url.host or 'localhost'} --port={url.port or 5432}"
    if url.username:
        options += f" --username={shlex.quote(url.username)}"
    return options, shlex.quote(url.database or "")


def postgresql_backup_commands(settings: Settings, destination: Path) -> list[str]:
    """What to run to back up a portal on PostgreSQL (a password is asked for, or PGPASSWORD)."""
    options, name = _pg_options(settings)
    dest = shlex.quote(str(destination))
    return [
        f"mkdir -m 700 {dest}",
        f"pg_dump --format=custom {options} --file={dest}/{POSTGRESQL_DUMP} {name}",
        f"cp -a {shlex.quote(str(evidence_root(settings)))} {dest}/{EVIDENCE_DIR}",
    ]


def postgresql_restore_commands(settings: Settings, source: Path) -> list[str]:
    """What to run to restore such a backup into a new, empty PostgreSQL database."""
    options, name = _pg_options(settings)
    src, root = shlex.quote(str(source)), shlex.quote(str(evidence_root(settings)))
    return [
        f"createdb {options} {name}",
        f"pg_restore --no-owner --exit-on-error {options} --dbname={name} {src}/{POSTGRESQL_DUMP}",
        f"mkdir -p -m 700 {root} && cp -a {src}/{EVIDENCE_DIR}/. {root}/",
    ]


# --- small pieces ----------------------------------------------------------------------------


def table_counts(db: sqlite3.Connection) -> dict[str, int]:
    """Rows in every table of a SQLite database, by table name."""
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    count = 'SELECT COUNT(*) FROM "{}"'  # table names read from sqlite_master just above
    return {t: db.execute(count.format(t.replace('"', '""'))).fetchone()[0] for t in tables}


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return db


def _integrity_problem(db: sqlite3.Connection) -> str | None:
    rows = [row[0] for row in db.execute("PRAGMA integrity_check")]
    return None if rows == ["ok"] else "; ".join(rows[:5])


def _schema_revision(db: sqlite3.Connection) -> list[str]:
    try:
        return sorted(row[0] for row in db.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.OperationalError:  # never migrated
        return []


def _evidence_files(root: Path) -> list[str]:
    """Every stored file under ``root``, relative, sorted; not uploads still being written."""
    if not root.is_dir():
        return []
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )


def _describe(base: Path, path: Path) -> ManifestFile:
    return ManifestFile(path.relative_to(base).as_posix(), path.stat().st_size, file_sha256(path))


def _private_directory(path: Path) -> None:
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIRECTORY_MODE)


def _copy_private(source: Path, target: Path, top: Path) -> None:
    """Copy one file below ``top``: written to a temporary name, then renamed into place.

    ``top`` and each directory below it down to the file's are made private (0o700).
    """
    if not target.resolve().is_relative_to(top.resolve()):
        raise BackupError(f"{source} would be copied outside {top}.")
    for directory in reversed([target.parent, *target.parent.parents]):
        if directory.is_relative_to(top) and not directory.is_dir():
            _private_directory(directory)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    os.chmod(path, FILE_MODE)


def _every_tenth(say: Say, done: int, total: int, message: str) -> None:
    """Progress through a long list: about ten lines; nothing for a short one."""
    if total >= PROGRESS_FROM and done % (total // 10) == 0:
        say(message.format(done=done, total=total))


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"
