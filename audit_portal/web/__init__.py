"""Starlette routes grouped by user journey; each module exports ``routes``."""
