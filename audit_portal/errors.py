"""Errors the domain raises that every entry point (web, command line) understands alike."""

from __future__ import annotations


class NotFound(LookupError):
    """The thing asked for does not exist (the web answers 404; the command line says so)."""
