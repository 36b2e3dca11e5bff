"""Safeguarding Audit Portal: Section 11 and Section 175 self-assessment audits."""

__version__ = "0.1.0"
