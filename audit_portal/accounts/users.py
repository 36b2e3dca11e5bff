"""Creating, inviting and authenticating people. Every change writes its audit event."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from audit_portal.accounts import totp
from audit_portal.accounts.passwords import hash_password, password_problem
from audit_portal.accounts.tokens import Purpose, make_link_token
from audit_portal.audit import AuditContext, record, security_event
from audit_portal.config import Settings
from audit_portal.errors import NotFound
from audit_portal.mail import send_email
from audit_portal.models import Membership, Organisation, OutboxEmail, Role, User, saved_id


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for people."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(User.email == normalise_email(email))).first()


def new_stamp() -> str:
    return secrets.token_hex(16)


def create_user(
    db: Session,
    ctx: AuditContext,
    *,
    email: str,
    full_name: str,
    role: Role,
    organisation_id: int | None,
) -> User:
    """A new account with one membership, and no password until the invitation is accepted."""
    email = normalise_email(email)
    check_role_place(db, role, organisation_id)
    if find_user(db, email) is not None:
        raise AccountError(f"An account for {email} already exists")
    user = User(email=email, full_name=full_name.strip(), security_stamp=new_stamp())
    db.add(user)
    db.flush()
    record(
        db,
        ctx,
        "user.create",
        object_type="user",
        object_id=user.id,
        new={"email": email, "full_name": user.full_name},
    )
    add_membership(db, ctx, user, role, organisation_id)
    return user


def check_role_place(db: Session, role: Role, organisation_id: int | None) -> None:
    """Partnership-wide roles belong to no organisation; the others to one that exists."""
    if role.partnership_wide and organisation_id is not None:
        raise AccountError(
            f"{role.label} is a partnership-wide role: do not choose an organisation"
        )
    if not role.partnership_wide and organisation_id is None:
        raise AccountError(f"Choose the organisation this {role.value} belongs to")
    if organisation_id is not None and db.get(Organisation, organisation_id) is None:
        raise AccountError("Choose an organisation from the list")


def add_membership(
    db: Session, ctx: AuditContext, user: User, role: Role, organisation_id: int | None
) -> Membership:
    """Give ``user`` a role, checking where it may be held; a repeat is refused."""
    check_role_place(db, role, organisation_id)
    existing = db.exec(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.role == role.value,
            Membership.organisation_id == organisation_id,
        )
    ).first()
    if existing is not None:
        raise AccountError(f"{user.email} already has that role")
    membership = Membership(
        user_id=saved_id(user), organisation_id=organisation_id, role=role.value
    )
    db.add(membership)
    db.flush()
    record(
        db,
        ctx,
        "membership.create",
        object_type="membership",
        object_id=membership.id,
        organisation_id=organisation_id,
        new={"user": user.email, "role": role.value, "organisation_id": organisation_id},
    )
    return membership


def remove_membership(db: Session, ctx: AuditContext, membership: Membership) -> None:
    user = db.get(User, membership.user_id)
    record(
        db,
        ctx,
        "membership.delete",
        object_type="membership",
        object_id=membership.id,
        organisation_id=membership.organisation_id,
        old={
            "user": user.email if user else membership.user_id,
            "role": membership.role,
            "organisation_id": membership.organisation_id,
        },
    )
    db.delete(membership)


def invitation_email(
    db: Session, settings: Settings, user: User, *, invited_by: str
) -> OutboxEmail:
    link = f"{settings.base_url}/invitation/{make_link_token(settings, user, Purpose.INVITATION)}"
    body = (
        f"Dear {user.full_name},\n\n"
        f"{invited_by} has invited you to the Safeguarding Audit Portal of "
        f"{settings.partnership_name}.\n\n"
        f"Set your password using this link (it works once and expires in 7 days):\n{link}\n\n"
        "If you were not expecting this email, you can ignore it.\n"
    )
    return send_email(
        db, settings, user.email, "Your invitation to the Safeguarding Audit Portal", body
    )


def reset_email(db: Session, settings: Settings, user: User) -> OutboxEmail:
    link = f"{settings.base_url}/reset-password/{make_link_token(settings, user, Purpose.RESET)}"
    body = (
        f"Dear {user.full_name},\n\n"
        "Someone asked to reset the password for your account on the Safeguarding Audit Portal.\n\n"
        f"Reset it using this link (it works once and expires in 2 hours):\n{link}\n\n"
        "If you did not ask for this, you can ignore this email: your password has not changed.\n"
    )
    return send_email(
        db, settings, user.email, "Reset your Safeguarding Audit Portal password", body
    )


def set_password(
    db: Session, settings: Settings, ctx: AuditContext, user: User, password: str, *, reason: str
) -> None:
    problem = password_problem(password, user.email)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(settings, password)
    user.security_stamp = new_stamp()  # every earlier invitation or reset link stops working
    db.add(user)
    record(
        db,
        ctx,
        f"user.{reason}",
        object_type="user",
        object_id=user.id,
        new={"password": "changed"},
    )


class SecondFactor(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    REUSED = "reused"


def verify_second_factor(
    db: Session, ctx: AuditContext, user: User, code: str, now: datetime
) -> SecondFactor:
    """An authenticator code (once per time step) or an unused recovery code (spent here)."""
    check = totp.check_code(user.totp_secret, code, now, user.totp_last_step)
    if check.ok:
        user.totp_last_step = check.step
        db.add(user)
        return SecondFactor.OK
    if check.reused:
        return SecondFactor.REUSED
    remaining = totp.use_recovery_code(list(user.recovery_codes), code)
    if remaining is None:
        return SecondFactor.WRONG
    user.recovery_codes = remaining
    db.add(user)
    security_event(db, ctx, "recovery_code_used", remaining=len(remaining))
    return SecondFactor.OK


def enable_two_factor(
    db: Session, ctx: AuditContext, user: User, secret: str, step: int
) -> list[str]:
    """Start using ``secret`` (confirmed by a code of time step ``step``); new recovery codes."""
    codes = totp.new_recovery_codes()
    replacing = user.totp_enabled
    user.totp_secret, user.totp_enabled, user.totp_last_step = secret, True, step
    user.recovery_codes = [totp.hash_recovery_code(c) for c in codes]
    db.add(user)
    action = "user.two_factor_replaced" if replacing else "user.two_factor_enabled"
    record(db, ctx, action, object_type="user", object_id=user.id)
    return codes


def disable_two_factor(db: Session, ctx: AuditContext, user: User) -> None:
    user.totp_secret, user.totp_enabled, user.recovery_codes = None, False, []
    user.totp_last_step = None
    db.add(user)
    record(db, ctx, "user.two_factor_disabled", object_type="user", object_id=user.id)


def set_active(db: Session, ctx: AuditContext, user: User, active: bool) -> None:
    if user.is_active == active:
        return
    record(
        db,
        ctx,
        "user.enable" if active else "user.disable",
        object_type="user",
        object_id=user.id,
        old={"is_active": user.is_active},
        new={"is_active": active},
    )
    user.is_active = active
    user.security_stamp = new_stamp()
    db.add(user)


# --- the People pages ------------------------------------------------------------------------


class PersonNotFound(NotFound):
    """No account, or no such role on that account."""


def get_person(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise PersonNotFound(user_id)
    return user


def list_people(db: Session, search: str, limit: int = 500) -> list[tuple[User, list[Role]]]:
    """People whose name or email contains ``search``, with the roles each holds."""
    query = select(User).order_by(User.full_name)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(
            func.lower(User.email).like(like) | func.lower(User.full_name).like(like)
        )
    users = list(db.exec(query.limit(limit)).all())
    roles: dict[int, list[Role]] = {}
    ids = [saved_id(u) for u in users]
    if ids:
        for m in db.exec(select(Membership).where(col(Membership.user_id).in_(ids))).all():
            roles.setdefault(m.user_id, []).append(Role(m.role))
    return [(u, sorted(roles.get(saved_id(u), []))) for u in users]


def active_organisations(db: Session) -> list[tuple[int, str]]:
    """(id, name) of every active organisation, for choosing where a role is held."""
    return list(
        db.exec(
            select(Organisation.id, Organisation.name)
            .where(Organisation.status == "active")
            .order_by(Organisation.name)
        ).all()  # type: ignore[arg-type]  # SQLModel types the stored ids as optional
    )


def memberships_of(db: Session, user_id: int) -> list[tuple[Membership, Organisation | None]]:
    return list(
        db.exec(
            select(Membership, Organisation)
            .outerjoin(Organisation, col(Organisation.id) == Membership.organisation_id)
            .where(Membership.user_id == user_id)
        ).all()
    )


def invite_person(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    *,
    email: str,
    full_name: str,
    role: Role,
    organisation_id: int | None,
    invited_by: str,
) -> tuple[User, OutboxEmail]:
    user = create_user(
        db, ctx, email=email, full_name=full_name, role=role, organisation_id=organisation_id
    )
    return user, invitation_email(db, settings, user, invited_by=invited_by)


def resend_invitation(
    db: Session, settings: Settings, user_id: int, invited_by: str
) -> OutboxEmail:
    user = get_person(db, user_id)
    if user.password_hash:
        raise AccountError(
            "This person has already set a password: they can reset it from the sign-in page."
        )
    return invitation_email(db, settings, user, invited_by=invited_by)


def add_role(
    db: Session, ctx: AuditContext, user_id: int, role: Role, organisation_id: int | None
) -> Membership:
    return add_membership(db, ctx, get_person(db, user_id), role, organisation_id)


def remove_role(db: Session, ctx: AuditContext, user_id: int, membership_id: int) -> None:
    membership = db.get(Membership, membership_id)
    if membership is None or membership.user_id != user_id:
        raise PersonNotFound(membership_id)
    remove_membership(db, ctx, membership)


def set_account_active(
    db: Session, ctx: AuditContext, user_id: int, active: bool, *, acting_user_id: int | None
) -> None:
    """Enable or disable an account; a disabled one is signed out everywhere at once.

    Nobody can disable their own account: a partnership could otherwise lock itself out.
    """
    from audit_portal.accounts.sessions import end_all_for_user

    if not active and user_id == acting_user_id:
        raise AccountError("You cannot disable your own account.")
    user = get_person(db, user_id)
    set_active(db, ctx, user, active)
    if not active:
        end_all_for_user(db, user_id)


def people_at(db: Session, organisation_id: int, roles: tuple[Role, ...]) -> list[User]:
    """Active people holding any of ``roles`` at an organisation, each once, by name."""
    holders = select(Membership.user_id).where(
        Membership.organisation_id == organisation_id,
        col(Membership.role).in_([r.value for r in roles]),
    )
    return list(
        db.exec(
            select(User)
            .where(col(User.id).in_(holders), col(User.is_active).is_(True))
            .order_by(User.full_name)
        ).all()
    )
