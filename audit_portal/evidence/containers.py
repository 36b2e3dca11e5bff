"""Open Office and OpenDocument files (zip containers) without trusting them.

A zip file says in its directory how big each member will be once decompressed; a "zip bomb"
says (or hides) that a few kilobytes become gigabytes. We refuse a container whose directory
lists too many members, too many bytes in total, or a member compressed to an absurd degree,
before reading a single member, and we only ever read members into memory with a byte cap:
nothing is extracted to disk.

Python's zipfile stops decompressing a member at its declared size, so once the declared sizes
are bounded, so is everything read.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from audit_portal.evidence.sizes import MB, describe_size

_END_OF_DIRECTORY = b"PK\x05\x06"
_END_RECORD_SIZE = 22
_MAX_COMMENT = 65_535

# What zipfile (and the zlib under it) raise on damaged or hostile input.
ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    ValueError,
    EOFError,
    struct.error,
    NotImplementedError,
    RuntimeError,
)
_READ_ERRORS: tuple[type[Exception], ...] = (KeyError, *ZIP_ERRORS)


@dataclass(frozen=True)
class ZipLimits:
    """Bounds on what a container may declare; far above any real evidence document."""

    max_total_bytes: int = 200 * MB
    max_members: int = 5_000
    max_ratio: int = 100
    ratio_applies_above: int = 10 * MB  # small members compress well (XML): allow any ratio


class UnsafeZip(Exception):
    """The container is refused; the message completes 'The file ... cannot be uploaded: '."""


class DamagedZip(Exception):
    """The container cannot be read as a zip file at all."""


@contextmanager
def open_zip(path: Path, limits: ZipLimits) -> Iterator[zipfile.ZipFile]:
    """Open the zip at `path` after checking its directory against `limits`."""
    _check_declared_count(path, limits)
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as error:
        raise DamagedZip(str(error)) from error
    with archive:
        check_members(archive.infolist(), limits)
        yield archive


def check_members(members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(members) > limits.max_members:
        raise UnsafeZip(f"it contains more than {limits.max_members:,} parts")
    total = sum(member.file_size for member in members)
    if total > limits.max_total_bytes:
        raise UnsafeZip(
            f"it would expand to more than {describe_size(limits.max_total_bytes)} when opened"
        )
    for member in members:
        stored = max(member.compress_size, 1)
        if (
            member.file_size > limits.ratio_applies_above
            and member.file_size > limits.max_ratio * stored
        ):
            raise UnsafeZip(
                f"part of it expands to more than {limits.max_ratio} times its stored size, "
                "which is how harmful ‘zip bomb’ files are built"
            )
        if member.flag_bits & 0x1:
            raise UnsafeZip("it is protected by a password")


def read_member(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    """The member's bytes, refusing more than `max_bytes`; DamagedZip if unreadable."""
    try:
        with archive.open(name) as member:
            data = member.read(max_bytes + 1)
    except _READ_ERRORS as error:
        raise DamagedZip(f"{name}: {error}") from error
    if len(data) > max_bytes:
        raise DamagedZip(f"{name} is larger than {max_bytes} bytes")
    return data


def _check_declared_count(path: Path, limits: ZipLimits) -> None:
    """Refuse a directory with too many entries before zipfile builds an object for each.

    The end-of-directory record (within the last 64 KB) states the entry count; a count too
    large for the record (zip64) is stored as 0xFFFF, which is over any sane limit anyway.
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        file.seek(max(0, size - _END_RECORD_SIZE - _MAX_COMMENT))
        tail = file.read()
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < _END_RECORD_SIZE:
        raise DamagedZip("no end-of-directory record")
    (entries,) = struct.unpack_from("<H", tail, at + 10)
    if entries > limits.max_members:
        raise UnsafeZip(f"it contains more than {limits.max_members:,} parts")
