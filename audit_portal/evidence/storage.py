"""Where accepted evidence files are kept: a small interface, and a local-disk implementation.

Files are stored under random keys such as ``3f/a9/3fa9…`` (two levels of two hex digits, then
64 hex digits of randomness). A key is never derived from the uploader's filename, so a name
cannot choose, guess or overwrite a path, and keys are checked against that exact format before
any file operation, so a key from a tampered form cannot reach outside the store. The person's
filename lives only in the database, as display text.

``LocalStorage`` (the default) writes under a directory outside the web root: a temporary file
in the destination directory, flushed to disk, then atomically renamed, so a reader never sees
half a file and a crash leaves no partial evidence under a real key. Directories are 0o700 and
files 0o600: only the application's own user can read evidence.

An S3-compatible object store would implement the same Protocol:

- ``put``: generate the key the same way; stream the source file to the bucket with a
  (multipart) upload while hashing it, so sha256 and size come from the same single read as
  here; a multipart upload is only visible once completed, which gives the same atomicity as
  the rename. Keep the bucket private (no public ACLs) and encrypted at rest.
- ``open``: GetObject and return its streaming body (a readable binary file-like object).
- ``delete``: DeleteObject (already idempotent in S3).
- ``exists``: HeadObject, treating "404 Not Found" as False.
The same ``KEY_PATTERN`` check applies before every call. Downloads should still go through the
application (which checks access) rather than public or long-lived presigned links.

De-duplication (one copy per organisation for identical files) is the caller's: either hash the
upload first with ``file_sha256`` and look it up before ``put``, or ``put`` (which returns the
sha256), look up, and ``delete`` the new key when a copy already exists.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

KEY_PATTERN = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
COPY_CHUNK = 1024 * 1024


class InvalidKey(ValueError):
    """A storage key that is not in the format ``put`` produces."""


@dataclass(frozen=True)
class StoredFile:
    """A file as stored: its key (what the database records), content hash and size in bytes."""

    key: str
    sha256: str
    size: int


class Storage(Protocol):
    def put(self, source_path: Path) -> StoredFile:
        """Copy the file at `source_path` into the store under a new random key."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the stored file for reading; FileNotFoundError if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the stored file; deleting a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


def new_key() -> str:
    name = secrets.token_hex(32)
    return f"{name[:2]}/{name[2:4]}/{name}"


def check_key(key: str) -> str:
    """The key itself if it is in the format ``new_key`` makes; InvalidKey otherwise."""
    match = KEY_PATTERN.fullmatch(key) if isinstance(key, str) else None
    if match is None or match[3][:2] != match[1] or match[3][2:4] != match[2]:
        raise InvalidKey("Not an evidence storage key")
    return key


def file_sha256(path: Path) -> str:
    """The hex sha256 of the file at `path`, read in chunks (for a lookup before ``put``)."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


class LocalStorage:
    """Evidence files on the local disk under `root` (keep it outside any served directory)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, source_path: Path) -> StoredFile:
        key = new_key()
        target = self.root / key
        _make_private_directories(self.root, target.parent)
        digest = hashlib.sha256()
        size = 0
        # mkstemp creates the file with mode 0o600 and a name no other process can claim.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out, source_path.open("rb") as source:
                while chunk := source.read(COPY_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return StoredFile(key=key, sha256=digest.hexdigest(), size=size)

    def open(self, key: str) -> BinaryIO:
        return (self.root / check_key(key)).open("rb")

    def delete(self, key: str) -> None:
        (self.root / check_key(key)).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return (self.root / check_key(key)).is_file()


def _make_private_directories(root: Path, directory: Path) -> None:
    """Create `root` and the key's directories below it, each 0o700 whatever the umask."""
    for path in (root, directory.parent, directory):
        if not path.is_dir():
            path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
            os.chmod(path, DIRECTORY_MODE)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
