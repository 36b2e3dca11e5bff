"""Evidence files: where they are kept, who may download them, and which to flag to QA.

Downloads are for the owning organisation's members, the QA sub-group and administrators; the
independent scrutineer only where ``EVIDENCE_SCRUTINEER_DOWNLOAD`` is on. Evidence that was in
force longer ago than ``EVIDENCE_STALE_YEARS``, and files that look like placeholders, are
flagged: plain functions over plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.config import Settings
from audit_portal.errors import NotFound
from audit_portal.evidence import LocalStorage, Storage
from audit_portal.evidence.filetypes import KIND_BY_EXTENSION, KINDS
from audit_portal.evidence.sizes import MB
from audit_portal.evidence.storage import check_key
from audit_portal.models import (
    ChallengedItem,
    EvidenceFile,
    EvidencePiece,
    Role,
    saved_id,
)
from audit_portal.policy import Actor
from audit_portal.wording import long_date

SEE_EVERY_ORGANISATION = frozenset({Role.ADMIN, Role.QA})
MEMBERS = frozenset({Role.RESPONDENT, Role.SIGNATORY})


class PieceNotFound(NotFound):
    """No such piece of evidence."""


def evidence_storage(settings: Settings) -> Storage:
    """Where accepted files are kept: a directory below UPLOAD_DIR, outside the web root."""
    return LocalStorage(settings.upload_dir / "evidence")


def incoming_directory(settings: Settings) -> Path:
    """Where an upload is spooled while it arrives; emptied whatever happens to the request."""
    return settings.upload_dir / "incoming"


def stored_name(key: str) -> str:
    """What the evidence_file.storage_key column holds: the key's last part (64 hex digits).

    A storage key (``3f/a9/3fa9…``) is 70 characters and the column 64; the two directory
    levels repeat the name's first four digits, so the name alone gives the key back.
    """
    return check_key(key).rsplit("/", 1)[1]


def storage_key(stored: str) -> str:
    """The storage key for what the column holds (a full key is accepted as it is)."""
    if "/" in stored:
        return check_key(stored)
    return check_key(f"{stored[:2]}/{stored[2:4]}/{stored}")


def max_file_bytes(settings: Settings) -> int:
    return settings.evidence_max_file_mb * MB


def max_request_bytes(settings: Settings) -> int:
    return max(settings.evidence_max_request_mb, settings.evidence_max_file_mb) * MB


def may_download(actor: Actor | None, organisation_id: int, settings: Settings) -> bool:
    """The owning organisation's members, QA and administrators; the scrutineer by setting."""
    if actor is None:
        return False
    if actor.partnership_roles & SEE_EVERY_ORGANISATION:
        return True
    if actor.roles_at(organisation_id) & MEMBERS:
        return True
    return settings.evidence_scrutineer_download and actor.has(Role.SCRUTINEER)


def piece_scope(db: Session, piece_id: int) -> int | None:
    """The organisation a piece of evidence belongs to (None: no such piece)."""
    row = db.exec(
        select(EvidencePiece, EvidenceFile)
        .join(EvidenceFile, col(EvidenceFile.id) == EvidencePiece.evidence_file_id)
        .where(EvidencePiece.id == piece_id)
    ).first()
    if row is None:
        return None
    db.info.setdefault("keep", []).extend(row)
    return row[1].organisation_id


@dataclass(frozen=True)
class Download:
    piece: EvidencePiece
    file: EvidenceFile
    challenge_id: int
    item_id: str

    @property
    def filename(self) -> str:
        return self.file.display_name


def find_download(db: Session, piece_id: int) -> Download:
    row = db.exec(
        select(EvidencePiece, EvidenceFile, ChallengedItem)
        .join(EvidenceFile, col(EvidenceFile.id) == EvidencePiece.evidence_file_id)
        .join(ChallengedItem, col(ChallengedItem.id) == EvidencePiece.challenged_item_id)
        .where(EvidencePiece.id == piece_id)
    ).first()
    if row is None:
        raise PieceNotFound(f"No evidence piece {piece_id}")
    piece, file, item = row
    return Download(piece, file, item.challenge_id, item.item_id)


def record_download(db: Session, ctx: AuditContext, download: Download) -> None:
    record(
        db,
        ctx,
        "evidence.downloaded",
        object_type="evidence_file",
        object_id=saved_id(download.file),
        organisation_id=download.file.organisation_id,
        new={
            "piece": saved_id(download.piece),
            "challenge": download.challenge_id,
            "item_id": download.item_id,
            "sha256": download.file.sha256,
        },
    )


def is_stale(in_force_on: date | None, today: date, years: int) -> bool:
    """In force longer ago than ``years`` years (29 February counts from 28 February)."""
    if in_force_on is None:
        return False
    try:
        limit = today.replace(year=today.year - years)
    except ValueError:
        limit = today.replace(year=today.year - years, day=28)
    return in_force_on < limit


def flags(file: EvidenceFile, in_force_on: date | None, today: date, years: int) -> list[str]:
    """What QA should notice about a piece of evidence, as short sentences."""
    found = []
    if in_force_on is not None and is_stale(in_force_on, today, years):
        found.append(
            f"In force on {long_date(in_force_on)}: more than {years} years ago, "
            "so it may be out of date"
        )
    if file.placeholder_reason:
        found.append(file.placeholder_reason)
    return found


def kind_label(kind: str) -> str:
    """'PDF document' for a stored kind (the detected extension: pdf, docx, jpg...)."""
    found = KIND_BY_EXTENSION.get(kind) or KINDS.get(kind)
    return found.label if found else kind


@dataclass(frozen=True)
class PieceLine:
    piece: EvidencePiece
    file: EvidenceFile
    flags: list[str]

    @property
    def label(self) -> str:
        return kind_label(self.file.kind)

    @property
    def size(self) -> str:
        return size_label(self.file.size)


def size_label(size: int) -> str:
    """'812 bytes', '14 KB', '2.5 MB': rounded, as people read a file list."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < MB:
        return f"{round(size / 1024):,} KB"
    return f"{size / MB:,.1f} MB"


def pieces_by_item(
    db: Session, challenge_id: int, today: date, stale_years: int
) -> dict[int, list[PieceLine]]:
    """Each challenged item's evidence (by challenged item id), oldest first, with its flags."""
    rows = db.exec(
        select(EvidencePiece, EvidenceFile)
        .join(EvidenceFile, col(EvidenceFile.id) == EvidencePiece.evidence_file_id)
        .join(ChallengedItem, col(ChallengedItem.id) == EvidencePiece.challenged_item_id)
        .where(ChallengedItem.challenge_id == challenge_id)
        .order_by(col(EvidencePiece.id))
    ).all()
    found: dict[int, list[PieceLine]] = {}
    for piece, file in rows:
        line = PieceLine(piece, file, flags(file, piece.in_force_on, today, stale_years))
        found.setdefault(piece.challenged_item_id, []).append(line)
    return found
