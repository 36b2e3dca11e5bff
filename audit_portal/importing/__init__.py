"""Importing organisations and intelligence from the files partnerships already have.

Parsing is pure (bytes in, records and skips out); ``apply`` writes through the caller's
session with an audit event per change, so a whole import commits or rolls back together.
"""

from audit_portal.importing.apply import import_intelligence, import_organisations, import_schools
from audit_portal.importing.report import ImportFileError, ImportReport, Skip

__all__ = [
    "ImportFileError",
    "ImportReport",
    "Skip",
    "import_intelligence",
    "import_organisations",
    "import_schools",
]
