"""The policy answers (user, action, resource) questions from roles alone."""

from __future__ import annotations

from audit_portal.models import Role
from audit_portal.policy import RULES, Actor, Permission, allows, is_scoped

RESPONDENT_A = Actor(1, "r@a", "R", organisation_roles={10: frozenset({Role.RESPONDENT})})
ADMIN = Actor(2, "a@p", "A", partnership_roles=frozenset({Role.ADMIN}))
SCRUTINEER = Actor(3, "s@p", "S", partnership_roles=frozenset({Role.SCRUTINEER}))


def test_every_permission_has_a_rule() -> None:
    assert set(RULES) == set(Permission)


def test_organisation_scope() -> None:
    assert allows(RESPONDENT_A, Permission.ORGANISATION_VIEW, 10)
    assert not allows(RESPONDENT_A, Permission.ORGANISATION_VIEW, 11)
    assert not allows(RESPONDENT_A, Permission.ORGANISATION_VIEW, None)
    assert allows(ADMIN, Permission.ORGANISATION_VIEW, 11)
    assert not allows(SCRUTINEER, Permission.ORGANISATION_VIEW, 10)
    assert is_scoped(Permission.ORGANISATION_VIEW) and not is_scoped(Permission.USERS_MANAGE)


def test_anonymous_and_signed_in() -> None:
    assert allows(None, Permission.PUBLIC)
    assert not allows(None, Permission.SIGNED_IN)
    assert allows(RESPONDENT_A, Permission.SIGNED_IN)
    assert not allows(RESPONDENT_A, Permission.USERS_MANAGE)
    assert allows(ADMIN, Permission.USERS_MANAGE)
    assert not allows(SCRUTINEER, Permission.AUDIT_VIEW)


def test_second_factor_is_required_for_partnership_roles_only() -> None:
    assert ADMIN.needs_second_factor and SCRUTINEER.needs_second_factor
    assert not RESPONDENT_A.needs_second_factor
