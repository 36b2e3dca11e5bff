"""Evidence files: what organisations upload when the QA sub-group challenges them.

No database and no routes here: the building blocks a route calls, in this order.

1. ``upload.parse_upload``: stream the multipart body to temporary files, within limits.
2. ``filetypes.detect``: decide each file's type from its bytes; refuse anything else.
3. ``placeholders.placeholder_reason``: note for QA when an accepted file looks empty.
4. ``storage.Storage.put``: keep the file under a random key (``LocalStorage`` by default).
5. ``filenames``: the name to show, and the Content-Disposition header for downloads.
"""

from audit_portal.evidence.filenames import content_disposition, download_name, safe_display_name
from audit_portal.evidence.filetypes import Detected, FileRefused, detect
from audit_portal.evidence.placeholders import placeholder_reason
from audit_portal.evidence.storage import InvalidKey, LocalStorage, Storage, StoredFile
from audit_portal.evidence.upload import (
    ParsedUpload,
    UploadedPart,
    UploadError,
    UploadMalformed,
    UploadTooLarge,
    parse_upload,
)

__all__ = [
    "Detected",
    "FileRefused",
    "InvalidKey",
    "LocalStorage",
    "ParsedUpload",
    "Storage",
    "StoredFile",
    "UploadError",
    "UploadMalformed",
    "UploadTooLarge",
    "UploadedPart",
    "content_disposition",
    "detect",
    "download_name",
    "parse_upload",
    "placeholder_reason",
    "safe_display_name",
]
