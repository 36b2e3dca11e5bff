"""Byte counts as people read them in messages ("20 MB", "64 KB")."""

from __future__ import annotations

KB = 1024
MB = 1024 * KB


def describe_size(size: int) -> str:
    """Whole megabytes or kilobytes where the size is one, else bytes (limits are round)."""
    if size >= MB and size % MB == 0:
        return f"{size // MB:,} MB"
    if size >= KB and size % KB == 0:
        return f"{size // KB:,} KB"
    return f"{size:,} bytes"
