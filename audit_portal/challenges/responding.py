"""The organisation's side of a challenge: explanations, files, and submitting the evidence.

Every change locks the challenge's row first, then checks that the evidence is still awaited
and the due date has not passed (QA can extend it). Files are inspected (type from content,
placeholder check, SHA-256) before the write transaction, so the database's write lock is
never held while a document is read; stored once per organisation and content; and recorded
as a piece of evidence for one challenged item, with the date it was in force.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.challenges import notices
from audit_portal.challenges.files import storage_key, stored_name
from audit_portal.challenges.issuing import (
    ChallengeError,
    ChallengeNotFound,
    challenged_items,
    load_challenge,
    lock_challenge,
)
from audit_portal.config import Settings
from audit_portal.evidence import Detected, Storage, detect, placeholder_reason
from audit_portal.evidence.storage import file_sha256
from audit_portal.models import (
    ChallengedItem,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
    saved_id,
    utcnow,
)
from audit_portal.models.dipsamples import ChallengeStage
from audit_portal.wording import long_date

MAX_EXPLANATION = 5000
log = logging.getLogger(__name__)


class ItemNotChallenged(ChallengeNotFound):
    """The item is not one of the challenge's items."""


@dataclass(frozen=True)
class Inspected:
    """An uploaded file, judged from its bytes and ready to store."""

    path: Path
    display_name: str
    detected: Detected
    sha256: str
    size: int
    placeholder: str | None


def inspect_upload(path: Path, filename: str, display_name: str) -> Inspected:
    """Type from content (FileRefused for anything not accepted or not what its name says),
    the placeholder check and the hash. No database: run it before the write transaction."""
    detected = detect(path, filename)
    reason = placeholder_reason(path, detected)
    return Inspected(
        path=path,
        display_name=display_name,
        detected=detected,
        sha256=file_sha256(path),
        size=path.stat().st_size,
        placeholder=reason,
    )


def change_refused(challenge: EvidenceChallenge, today: date) -> str | None:
    """Why the organisation cannot change its evidence now, or None when it can."""
    if challenge.stage == ChallengeStage.DRAFT.value:
        return "This challenge has not been issued yet"
    if challenge.stage != ChallengeStage.ISSUED.value:
        return "The evidence has been submitted, so it can no longer be changed"
    if challenge.due_on is not None and today > challenge.due_on:
        return (
            f"The evidence was due on {long_date(challenge.due_on)}. Ask the partnership "
            "to extend the due date if you need more time."
        )
    return None


def _open_for_change(db: Session, challenge_id: int, today: date) -> EvidenceChallenge:
    challenge = lock_challenge(db, challenge_id)
    refused = change_refused(challenge, today)
    if refused:
        raise ChallengeError(refused)
    return challenge


def _item(db: Session, challenge_id: int, item_id: str) -> ChallengedItem:
    found = db.exec(
        select(ChallengedItem)
        .where(ChallengedItem.challenge_id == challenge_id, ChallengedItem.item_id == item_id)
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise ItemNotChallenged(f"Item {item_id!r} is not challenged")
    return found


@dataclass
class SaveOutcome:
    saved: list[str] = field(default_factory=list)
    conflicts: dict[str, ChallengedItem] = field(default_factory=dict)  # as a colleague left it
    errors: dict[str, str] = field(default_factory=dict)


def save_explanations(
    db: Session,
    ctx: AuditContext,
    challenge_id: int,
    explanations: Mapping[str, str],
    versions: Mapping[str, int | None],
    today: date,
) -> SaveOutcome:
    """Save the explanations that changed. An item whose version is not the one the page held
    is a conflict: a colleague saved since; nothing of it is saved, and it is reported."""
    challenge = _open_for_change(db, challenge_id, today)
    outcome = SaveOutcome()
    items = {
        i.item_id: i
        for i in db.exec(
            select(ChallengedItem)
            .where(ChallengedItem.challenge_id == challenge_id)
            .execution_options(populate_existing=True)
        ).all()
    }
    for item_id, text in explanations.items():
        item = items.get(item_id)
        if item is None:
            continue
        text = text.strip().replace("\r\n", "\n")
        if len(text) > MAX_EXPLANATION:
            outcome.errors[item_id] = (
                f"The explanation must be {MAX_EXPLANATION:,} characters or fewer"
            )
            continue
        if text == item.explanation:
            continue
        if versions.get(item_id) != item.version:
            outcome.conflicts[item_id] = item
            continue
        old = item.explanation
        item.explanation = text
        item.version += 1
        db.add(item)
        outcome.saved.append(item_id)
        record(
            db,
            ctx,
            "challenge.explanation_saved",
            object_type="challenged_item",
            object_id=saved_id(item),
            organisation_id=challenge.organisation_id,
            old={"explanation": old},
            new={"explanation": text},
        )
    db.flush()
    return outcome


@dataclass(frozen=True)
class Added:
    piece: EvidencePiece
    file: EvidenceFile
    stored_new: bool  # False: the same content was already stored for the organisation


def add_files(
    db: Session,
    ctx: AuditContext,
    storage: Storage,
    challenge_id: int,
    item_id: str,
    files: Sequence[Inspected],
    in_force_on: date | None,
    today: date,
    written: list[str] | None = None,
) -> list[Added]:
    """Offer inspected files as evidence for one challenged item.

    Each content is stored once per organisation: a file already stored (by any item or
    challenge of the organisation) is reused. Files written to storage are removed again if
    this function fails; `written` (the caller's list) collects the keys stored, for the
    caller to remove if the commit that follows fails. ChallengeError when the evidence
    cannot be changed now, or the same file is already evidence for this item;
    ItemNotChallenged for an item not challenged.
    """
    challenge = _open_for_change(db, challenge_id, today)
    item = _item(db, challenge_id, item_id)
    org_id = challenge.organisation_id
    written = [] if written is None else written
    added: list[Added] = []
    try:
        for inspected in files:
            file, new = _stored_file(db, ctx, storage, org_id, inspected, written)
            already = db.exec(
                select(EvidencePiece.id).where(
                    EvidencePiece.challenged_item_id == item.id,
                    EvidencePiece.evidence_file_id == file.id,
                )
            ).first()
            if already is not None or any(a.file.id == file.id for a in added):
                raise ChallengeError(
                    f"The file ‘{inspected.display_name}’ is already evidence for this item"
                )
            piece = EvidencePiece(
                challenged_item_id=saved_id(item),
                evidence_file_id=saved_id(file),
                in_force_on=in_force_on,
                added_by=ctx.actor_id,
            )
            db.add(piece)
            db.flush()
            record(
                db,
                ctx,
                "evidence.uploaded",
                object_type="evidence_piece",
                object_id=saved_id(piece),
                organisation_id=org_id,
                new={
                    "challenge": challenge_id,
                    "item_id": item_id,
                    "file": saved_id(file),
                    "name": file.display_name,
                    "kind": file.kind,
                    "size": file.size,
                    "sha256": file.sha256,
                    "stored_again": not new,
                    "in_force_on": in_force_on,
                },
            )
            added.append(Added(piece, file, new))
    except BaseException:
        delete_stored(storage, written)
        written.clear()
        raise
    return added


def _stored_file(
    db: Session,
    ctx: AuditContext,
    storage: Storage,
    organisation_id: int,
    inspected: Inspected,
    written: list[str],
) -> tuple[EvidenceFile, bool]:
    """The organisation's stored file with this content, storing it first if there is none."""
    existing = _file_with(db, organisation_id, inspected.sha256)
    if existing is not None:
        return existing, False
    stored = storage.put(inspected.path)
    written.append(stored.key)
    if stored.sha256 != inspected.sha256:  # changed on disk between inspection and storing
        raise ChallengeError("The upload could not be read. Try again.")
    file = EvidenceFile(
        organisation_id=organisation_id,
        storage_key=stored_name(stored.key),
        sha256=stored.sha256,
        size=stored.size,
        kind=inspected.detected.extension,
        content_type=inspected.detected.mime,
        display_name=inspected.display_name,
        placeholder_reason=(inspected.placeholder or "")[:200],
        uploaded_by=ctx.actor_id,
    )
    savepoint = db.begin_nested()
    try:
        db.add(file)
        db.flush()
    except IntegrityError:
        # Another upload of the same content by the same organisation got there first.
        savepoint.rollback()
        written.remove(stored.key)
        _delete_quietly(storage, stored.key)
        existing = _file_with(db, organisation_id, inspected.sha256)
        if existing is None:
            raise
        return existing, False
    savepoint.commit()
    return file, True


def _file_with(db: Session, organisation_id: int, sha256: str) -> EvidenceFile | None:
    return db.exec(
        select(EvidenceFile).where(
            EvidenceFile.organisation_id == organisation_id, EvidenceFile.sha256 == sha256
        )
    ).first()


def remove_piece(
    db: Session, ctx: AuditContext, challenge_id: int, piece_id: int, today: date
) -> str | None:
    """Take a piece of evidence off its item before submission.

    Returns the storage key to delete once this transaction has committed, when no other
    piece of the organisation's evidence uses the file (else None).
    """
    challenge = _open_for_change(db, challenge_id, today)
    row = db.exec(
        select(EvidencePiece, EvidenceFile, ChallengedItem)
        .join(EvidenceFile, col(EvidenceFile.id) == EvidencePiece.evidence_file_id)
        .join(ChallengedItem, col(ChallengedItem.id) == EvidencePiece.challenged_item_id)
        .where(EvidencePiece.id == piece_id, ChallengedItem.challenge_id == challenge_id)
    ).first()
    if row is None:
        raise ChallengeNotFound(f"No evidence piece {piece_id} in challenge {challenge_id}")
    piece, file, item = row
    db.delete(piece)
    db.flush()
    others = db.exec(
        select(EvidencePiece.id).where(EvidencePiece.evidence_file_id == file.id)
    ).first()
    orphan = others is None
    record(
        db,
        ctx,
        "evidence.removed",
        object_type="evidence_piece",
        object_id=piece_id,
        organisation_id=challenge.organisation_id,
        old={
            "item_id": item.item_id,
            "file": saved_id(file),
            "name": file.display_name,
            "sha256": file.sha256,
            "in_force_on": piece.in_force_on,
        },
        new={"file_deleted": orphan},
    )
    if not orphan:
        return None
    key = storage_key(file.storage_key)
    db.delete(file)
    db.flush()
    return key


def unanswered(db: Session, challenge_id: int) -> list[ChallengedItem]:
    """Challenged items with neither a file nor an explanation."""
    items = db.exec(
        select(ChallengedItem)
        .where(ChallengedItem.challenge_id == challenge_id)
        .order_by(col(ChallengedItem.id))
        .execution_options(populate_existing=True)
    ).all()
    with_files = set(
        db.exec(
            select(EvidencePiece.challenged_item_id).where(
                col(EvidencePiece.challenged_item_id).in_([i.id for i in items])
            )
        ).all()
    )
    return [i for i in items if not i.explanation.strip() and i.id not in with_files]


def submit_evidence(
    db: Session, settings: Settings, ctx: AuditContext, challenge_id: int, today: date
) -> EvidenceChallenge:
    """Freeze the evidence: every challenged item needs a file or an explanation. The QA
    sub-group is emailed that it is ready to review."""
    challenge = _open_for_change(db, challenge_id, today)
    missing = unanswered(db, challenge_id)
    if missing:
        raise ChallengeError(
            f"{len(missing)} of the items still need a file or an explanation"
            if len(missing) != 1
            else "1 of the items still needs a file or an explanation"
        )
    challenge.stage = ChallengeStage.SUBMITTED.value
    challenge.submitted_at = utcnow()
    challenge.submitted_by = ctx.actor_id
    db.add(challenge)
    db.flush()
    record(
        db,
        ctx,
        "challenge.evidence_submitted",
        object_type="evidence_challenge",
        object_id=challenge_id,
        organisation_id=challenge.organisation_id,
        old={"stage": ChallengeStage.ISSUED.value},
        new={"stage": ChallengeStage.SUBMITTED.value},
    )
    found = load_challenge(db, challenge_id)
    count = len(challenged_items(db, challenge_id))
    notices.evidence_submitted(
        db, settings, challenge_id, found.organisation, found.campaign, count
    )
    return challenge


def delete_stored(storage: Storage, keys: Sequence[str]) -> None:
    """Remove stored files no longer recorded anywhere (after the commit that forgot them)."""
    for key in keys:
        _delete_quietly(storage, key)


def _delete_quietly(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except OSError:
        log.exception("could not delete evidence file %s", key)
