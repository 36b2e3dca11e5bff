"""The one error every sub-command raises for a problem the user can fix."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the user can fix; printed as one line without a traceback."""
