"""Who may do what: the one module that answers every (user, action, resource) question.

Every route declares one Permission. Partnership-wide permissions depend only on the actor's
roles; organisation permissions also need the organisation the resource belongs to, and a
denial there is answered 404 so the resource's existence does not leak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from audit_portal.models import Role


class Permission(StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed-in"  # any signed-in person (their own account and dashboard)
    ORGANISATION_VIEW = "organisation.view"  # scoped: members of the organisation, QA, admin
    ORGANISATIONS_LIST = "organisations.list"
    ORGANISATIONS_MANAGE = "organisations.manage"
    INTELLIGENCE_VIEW = "intelligence.view"
    INTELLIGENCE_MANAGE = "intelligence.manage"
    USERS_MANAGE = "users.manage"
    AUDIT_VIEW = "audit.view"
    OUTBOX_VIEW = "outbox.view"
    QUESTIONNAIRES_VIEW = "questionnaires.view"
    CAMPAIGNS_VIEW = "campaigns.view"
    CAMPAIGNS_MANAGE = "campaigns.manage"
    RETURN_VIEW = "return.view"  # scoped: the return's organisation
    RETURN_EDIT = "return.edit"  # scoped
    RETURN_SUBMIT = "return.submit"  # scoped: signatories sign the declaration
    RETURN_REVIEW = "return.review"  # return for amendment, accept
    FOLLOW_UP_REVIEW = "follow_up.review"  # accept a follow-up or ask for more; add actions
    FOLLOW_UPS_VIEW = "follow_ups.view"  # a campaign's follow-up dashboard (read-only)
    DIP_SAMPLES_MANAGE = "dip_samples.manage"  # select, confirm and change dip samples
    DIP_SAMPLES_VIEW = "dip_samples.view"  # read a confirmed sample and how it was made
    CHALLENGES_MANAGE = "challenges.manage"  # issue challenges, review evidence, record outcomes
    CHALLENGE_RESPOND = "challenge.respond"  # scoped: upload evidence, explain, submit
    CHALLENGE_VIEW = "challenge.view"  # scoped: see a challenge, its outcomes; download evidence
    # scoped: download an evidence file; the scrutineer only where EVIDENCE_SCRUTINEER_DOWNLOAD
    # is on (the download route checks the setting: challenges.files.may_download)
    EVIDENCE_DOWNLOAD = "evidence.download"
    REPORTS_VIEW = "reports.view"  # a campaign's aggregate report (read-only; no answer level)
    # every organisation's answers to a campaign, named: stays with QA and administrators
    REPORTS_ANSWERS = "reports.answers"
    FEEDBACK_LETTERS_MANAGE = "feedback_letters.manage"  # draft, edit and send feedback letters
    FEEDBACK_LETTER_VIEW = "feedback_letter.view"  # scoped: read the letter sent (never a draft)


@dataclass(frozen=True)
class Rule:
    partnership_roles: frozenset[Role] = frozenset()
    organisation_roles: frozenset[Role] = frozenset()  # roles held AT the resource's organisation
    anyone: bool = False
    any_signed_in: bool = False

    @property
    def scoped(self) -> bool:
        return bool(self.organisation_roles)


ADMIN = frozenset({Role.ADMIN})
ADMIN_QA = frozenset({Role.ADMIN, Role.QA})
MEMBERS = frozenset({Role.RESPONDENT, Role.SIGNATORY})
OVERSIGHT = frozenset({Role.ADMIN, Role.QA, Role.SCRUTINEER})  # reads figures, changes nothing

RULES: Mapping[Permission, Rule] = {
    Permission.PUBLIC: Rule(anyone=True),
    Permission.SIGNED_IN: Rule(any_signed_in=True),
    Permission.ORGANISATION_VIEW: Rule(partnership_roles=ADMIN_QA, organisation_roles=MEMBERS),
    Permission.ORGANISATIONS_LIST: Rule(partnership_roles=ADMIN_QA),
    Permission.ORGANISATIONS_MANAGE: Rule(partnership_roles=ADMIN),
    Permission.INTELLIGENCE_VIEW: Rule(partnership_roles=ADMIN_QA),
    Permission.INTELLIGENCE_MANAGE: Rule(partnership_roles=ADMIN),
    Permission.USERS_MANAGE: Rule(partnership_roles=ADMIN),
    Permission.AUDIT_VIEW: Rule(partnership_roles=ADMIN),
    Permission.OUTBOX_VIEW: Rule(partnership_roles=ADMIN),
    Permission.QUESTIONNAIRES_VIEW: Rule(partnership_roles=ADMIN_QA),
    Permission.CAMPAIGNS_VIEW: Rule(partnership_roles=ADMIN_QA),
    Permission.CAMPAIGNS_MANAGE: Rule(partnership_roles=ADMIN),
    Permission.RETURN_VIEW: Rule(partnership_roles=ADMIN_QA, organisation_roles=MEMBERS),
    Permission.RETURN_EDIT: Rule(organisation_roles=MEMBERS),
    Permission.RETURN_SUBMIT: Rule(organisation_roles=frozenset({Role.SIGNATORY})),
    Permission.RETURN_REVIEW: Rule(partnership_roles=ADMIN_QA),
    Permission.FOLLOW_UP_REVIEW: Rule(partnership_roles=ADMIN_QA),
    Permission.FOLLOW_UPS_VIEW: Rule(partnership_roles=OVERSIGHT),
    Permission.DIP_SAMPLES_MANAGE: Rule(partnership_roles=ADMIN_QA),
    Permission.DIP_SAMPLES_VIEW: Rule(partnership_roles=OVERSIGHT),
    Permission.CHALLENGES_MANAGE: Rule(partnership_roles=ADMIN_QA),
    Permission.CHALLENGE_RESPOND: Rule(organisation_roles=MEMBERS),
    Permission.CHALLENGE_VIEW: Rule(partnership_roles=ADMIN_QA, organisation_roles=MEMBERS),
    Permission.EVIDENCE_DOWNLOAD: Rule(partnership_roles=OVERSIGHT, organisation_roles=MEMBERS),
    Permission.REPORTS_VIEW: Rule(partnership_roles=OVERSIGHT),
    Permission.REPORTS_ANSWERS: Rule(partnership_roles=ADMIN_QA),
    Permission.FEEDBACK_LETTERS_MANAGE: Rule(partnership_roles=ADMIN_QA),
    Permission.FEEDBACK_LETTER_VIEW: Rule(partnership_roles=ADMIN_QA, organisation_roles=MEMBERS),
}


@dataclass(frozen=True)
class Actor:
    """A signed-in person and every role they hold right now (read afresh on each request)."""

    user_id: int
    email: str
    full_name: str
    partnership_roles: frozenset[Role] = frozenset()
    organisation_roles: Mapping[int, frozenset[Role]] = field(default_factory=dict)
    has_authenticator: bool = False  # then no session counts until a code has been given

    @property
    def needs_second_factor(self) -> bool:
        return bool(self.partnership_roles)

    def roles_at(self, organisation_id: int) -> frozenset[Role]:
        return self.organisation_roles.get(organisation_id, frozenset())

    def has(self, role: Role) -> bool:
        return role in self.partnership_roles


def allows(actor: Actor | None, permission: Permission, organisation_id: int | None = None) -> bool:
    rule = RULES[permission]
    if rule.anyone:
        return True
    if actor is None:
        return False
    if rule.any_signed_in or actor.partnership_roles & rule.partnership_roles:
        return True
    if rule.scoped and organisation_id is not None:
        return bool(actor.roles_at(organisation_id) & rule.organisation_roles)
    return False


def is_scoped(permission: Permission) -> bool:
    return RULES[permission].scoped
