"""Immutability of published versions: the content hash is stored on first use by a campaign.

If a used version's file later hashes differently, the portal refuses it rather than letting
answers silently change meaning; the fix is to publish the change as a new version.
"""

from __future__ import annotations

from sqlmodel import Session, select

from audit_portal.audit import AuditContext
from audit_portal.audit import record as audit_record
from audit_portal.models import QuestionnaireVersion
from audit_portal.questionnaires.load import Catalogue
from audit_portal.questionnaires.model import Definition, version_sort_key
from audit_portal.wording import long_date


class VersionRefused(Exception):
    """A questionnaire version cannot be used; the message says why and what to do."""


def lock_version(
    session: Session,
    catalogue: Catalogue,
    key: str,
    version: str,
    used_for: str,
    ctx: AuditContext,
) -> Definition:
    """Return the definition for a live campaign, storing its hash the first time it is used."""
    definition, digest = _published(catalogue, key, version)
    record = _record(session, key, version)
    if record is None:
        session.add(
            QuestionnaireVersion(
                key=key,
                version=version,
                title=definition.title,
                content_hash=digest,
                first_used_for=used_for[:300],
            )
        )
        session.flush()
        audit_record(
            session,
            ctx,
            "questionnaire.lock",
            object_type="questionnaire_version",
            object_id=f"{key}/{version}",
            new={"content_hash": digest, "used_for": used_for},
        )
        return definition
    _refuse_if_changed(record, digest, catalogue, key)
    return definition


# (key, version, content hash) already compared with the stored lock by this process. A stored
# hash never changes, so once a file's hash has matched it, it matches until the file changes.
_verified: set[tuple[str, str, str]] = set()


def verify_version(session: Session, catalogue: Catalogue, key: str, version: str) -> Definition:
    """Return the definition of a version already in use, refusing it if its file changed.

    The database is asked once per process for each version and file content, not on every
    request: the answer cannot change while the file stays the same.
    """
    definition, digest = _published(catalogue, key, version)
    if (key, version, digest) in _verified:
        return definition
    record = _record(session, key, version)
    if record is not None:
        _refuse_if_changed(record, digest, catalogue, key)
        _verified.add((key, version, digest))
    return definition


def _published(catalogue: Catalogue, key: str, version: str) -> tuple[Definition, str]:
    loaded = catalogue.file_for(key, version)
    if loaded is None or loaded.definition is None or loaded.content_hash is None:
        raise VersionRefused(
            f"{key} {version} was not found or is not valid: "
            "run `audit-portal questionnaires check`."
        )
    if loaded.definition.status != "published":
        raise VersionRefused(
            f"{key} {version} is a draft. Set its status to published before a live campaign "
            "uses it; after that it can no longer change."
        )
    return loaded.definition, loaded.content_hash


def _record(session: Session, key: str, version: str) -> QuestionnaireVersion | None:
    query = select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == key, QuestionnaireVersion.version == version
    )
    return session.exec(query).first()


def _refuse_if_changed(
    record: QuestionnaireVersion, digest: str, catalogue: Catalogue, key: str
) -> None:
    if record.content_hash == digest:
        return
    latest = max((d.version for d in catalogue.versions(key)), key=version_sort_key)
    year, _, n = latest.partition(".")
    suggestion = f"{year}.{int(n) + 1}"
    raise VersionRefused(
        f"The file for {key} {record.version} has changed since it was first used "
        f"on {long_date(record.first_used_at)} ({record.first_used_for}). A published version "
        f"cannot change: restore the original file and publish the changes as a new version "
        f"(for example {suggestion}) that supersedes {record.version}."
    )


def locked_versions(session: Session) -> dict[tuple[str, str], QuestionnaireVersion]:
    """Every version a campaign has used, by (key, version): what can no longer change."""
    return {(r.key, r.version): r for r in session.exec(select(QuestionnaireVersion)).all()}
