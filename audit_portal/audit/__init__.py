"""Writing the audit trail: one event per change, in the same transaction as the change.

Callers pass the session that makes the change, so the event and the change commit or roll
back together: no change without its event, no event without its change.
"""

from __future__ import annotations

import getpass
import json
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from audit_portal.models import AuditEvent, utcnow

security_log = logging.getLogger("audit_portal.security")


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and from where: a signed-in user, or the command line."""

    actor_id: int | None
    actor_label: str
    request_id: str = ""
    address: str = ""

    def for_user(self, user_id: int | None, email: str) -> AuditContext:
        """The same request, now known to be this person (e.g. just signed in)."""
        return AuditContext(user_id, email, self.request_id, self.address)

    @classmethod
    def command_line(cls) -> AuditContext:
        return cls(actor_id=None, actor_label=f"cli:{getpass.getuser()}@{socket.gethostname()}")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def changes(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, old and new, ready to store as JSON."""
    keys = [k for k in new if _plain(old.get(k)) != _plain(new.get(k))]
    return {k: _plain(old.get(k)) for k in keys}, {k: _plain(new[k]) for k in keys}


_INSERT = AuditEvent.__table__.insert()  # type: ignore[attr-defined]  # built once


def record(
    session: Session,
    ctx: AuditContext,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    organisation_id: int | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> None:
    """Write one event now, in the session's transaction: committed or rolled back with it.

    A plain insert rather than an ORM object: every change in the portal writes one, and the
    event is never read back in the same transaction.
    """
    session.execute(
        _INSERT,
        {
            "occurred_at": utcnow(),
            "actor_id": ctx.actor_id,
            "actor_label": ctx.actor_label[:300],
            "action": action[:60],
            "object_type": object_type[:40],
            "object_id": str(object_id)[:40],
            "organisation_id": organisation_id,
            "old": json.loads(json.dumps({k: _plain(v) for k, v in old.items()})) if old else None,
            "new": json.loads(json.dumps({k: _plain(v) for k, v in new.items()})) if new else None,
            "request_id": ctx.request_id[:40],
            "address": ctx.address[:64],
        },
    )


def security_event(session: Session | None, ctx: AuditContext, action: str, **details: Any) -> None:
    """Log a security event (never with passwords, tokens or answers) and keep it in the trail."""
    safe = {k: v for k, v in details.items() if k not in {"password", "token", "code"}}
    security_log.info("%s actor=%s address=%s %s", action, ctx.actor_label, ctx.address, safe)
    if session is not None:
        record(session, ctx, f"security.{action}", new=safe or None)
