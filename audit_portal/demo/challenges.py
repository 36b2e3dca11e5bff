"""The demo's dip samples and evidence challenges, made by the portal's own code.

Bulk rows suit thousands of returns (``seed.py``); a dozen sampled returns and their evidence
go through the very functions the pages call (``confirm_sample``, ``issue_challenge``,
``add_files``, ``save_explanations``, ``submit_evidence``, ``record_outcome``), with the
portal's clock moved to the day each step would have happened. So the audit trail, the emails,
the stored files and their hashes are exactly what a real cycle leaves behind. The QA demo
account chooses, issues and reviews; an organisation answers through its own demo account
where it has one, else as its contact (named in the audit trail; contacts have no account).

Last year's schools campaign: a risk-weighted sample of twelve, five challenged, all answered
with small PDFs and explanations, and reviewed (one item not substantiated, with a required
action). This year's: a sample of twelve, four challenged: evidence submitted and awaiting
review, evidence being gathered, nothing done yet, and past its due date.
"""

from __future__ import annotations

import io
import tempfile
import textwrap
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlmodel import Session, col, select

from audit_portal import clock
from audit_portal.accounts.sessions import build_actor
from audit_portal.audit import AuditContext
from audit_portal.challenges.files import evidence_storage
from audit_portal.challenges.issuing import (
    candidates,
    challenged_items,
    issue_challenge,
    load_challenge,
    offered_items,
)
from audit_portal.challenges.responding import (
    add_files,
    delete_stored,
    inspect_upload,
    save_explanations,
    submit_evidence,
)
from audit_portal.challenges.review import parse_review, record_outcome
from audit_portal.config import Settings
from audit_portal.dipsamples import confirm_sample, organisation_key
from audit_portal.evidence import Storage
from audit_portal.followups.rules import FollowUpStage
from audit_portal.models import (
    Campaign,
    ChallengedItem,
    EvidenceChallenge,
    FollowUp,
    Organisation,
    Outcome,
    Return,
    SampledReturn,
    User,
    saved_id,
)
from audit_portal.policy import Actor
from audit_portal.questionnaires import Catalogue
from audit_portal.questionnaires.model import Definition
from audit_portal.returns.answers import field_prefix
from audit_portal.sampling import SampleSpec
from audit_portal.wording import long_date

SAMPLE_SIZE = 12
ITEMS_PER_CHALLENGE = 3
LAST_YEAR_SEED, THIS_YEAR_SEED = 482_025, 482_026  # fixed: the demo is the same every time
# Intelligence makes a return likelier to be drawn; an inadequate judgement most of all.
RISK_WEIGHTS = {
    "ofsted-judgement": 10,
    "ofsted-judgement=Inadequate": 30,
    "safeguarding-concern": 20,
    "lado-referral": 20,
}
S, P, N = Outcome.SUBSTANTIATED, Outcome.PARTLY, Outcome.NOT
# Last year's outcomes, item by item, for each challenge reviewed: the first goes to the demo
# school when it was sampled; the third has the item not substantiated, with its action.
LAST_YEAR_OUTCOMES: tuple[tuple[Outcome, ...], ...] = (
    (S, P, S),
    (S, S, S),
    (N, S, P),
    (P, S, S),
    (S, S, S),
)
COMMENTS = {
    S: "The evidence shows this is in place and up to date.",
    P: "In place, but the evidence does not show that every member of staff has been told.",
    N: "The document provided is a draft that was never agreed, so this is not yet in place.",
}
REQUIRED_ACTION = "Agree the policy at the next governing board meeting and brief all staff"
# This year's challenges: (due, relative to today; how many items the school has answered,
# None for all; whether it submitted). Past due, submitted, being gathered, not started.
THIS_YEAR_PLANS: tuple[tuple[int, int | None, bool], ...] = (
    (-2, 0, False),
    (14, None, True),
    (14, 1, False),
    (21, 0, False),
)
# What a school would send for an item of each standard: a title and what the page records.
DOCUMENTS: Mapping[str, tuple[str, str]] = {
    "1": ("Minutes of the full governing board", "Safeguarding report received and minuted"),
    "2": ("Designated safeguarding lead role and training", "DSL training certificate issued"),
    "3": ("Child protection and safeguarding policy", "Safeguarding policy, approved by governors"),
    "4": ("Staff safeguarding training register", "Whole-staff safeguarding training held"),
    "5": ("Safeguarding concerns audit of records", "A sample of concern records audited"),
    "6": ("Early help and referrals log", "Referrals to children's social care reviewed"),
    "7": ("Children with a social worker register", "Register reviewed with the virtual school"),
    "8": ("Staff briefing on specific safeguarding issues", "Briefing given to all staff"),
    "9": ("Child-on-child abuse procedure", "Procedure agreed by the senior leadership team"),
    "10": ("Filtering and monitoring review", "Filtering and monitoring reviewed by the DSL"),
    "11": ("Relationships and health education map", "Curriculum map agreed by governors"),
    "12": ("Single central record spot check", "Single central record checked by a governor"),
    "13": ("Allegations against staff procedure", "Procedure approved by governors"),
    "14": ("Visitors and lettings safeguarding checklist", "Checklist reviewed by the DSL"),
}
DEFAULT_DOCUMENT = ("Safeguarding policy", "Safeguarding policy, approved by governors")


@dataclass
class Step:
    """Everything the domain functions need, and the files written (removed on failure)."""

    db: Session
    settings: Settings
    catalogue: Catalogue
    storage: Storage
    qa: Actor
    respondents: Mapping[int, User]  # organisations' own demo accounts, by organisation id
    written: list[str] = field(default_factory=list)

    @property
    def qa_context(self) -> AuditContext:
        return AuditContext(self.qa.user_id, self.qa.email)

    def organisation_context(self, org: Organisation) -> AuditContext:
        user = self.respondents.get(saved_id(org))
        if user is not None:
            return AuditContext(user.id, user.email)
        return AuditContext(None, org.contact_email or org.name)

    def definition(self, campaign: Campaign) -> Definition:
        found = self.catalogue.get(campaign.questionnaire_key, campaign.questionnaire_version)
        assert found is not None, campaign.questionnaire_version
        return found


def seed_challenges(
    db: Session,
    settings: Settings,
    catalogue: Catalogue,
    campaign_ids: tuple[int, int],
    qa: User,
    respondents: Mapping[int, User],
    today: date,
) -> int:
    """Last year's and this year's schools samples and challenges; how many were issued.

    ``campaign_ids``: last year's schools campaign, then this year's.
    """
    actor = build_actor(db, qa.id)
    assert actor is not None
    step = Step(db, settings, catalogue, evidence_storage(settings), actor, respondents)
    try:
        issued = _last_year(step, campaign_ids[0])
        issued += _this_year(step, campaign_ids[1], today)
    except BaseException:
        delete_stored(step.storage, step.written)
        raise
    return issued


@contextmanager
def _on(day: date) -> Iterator[None]:
    """Stand on ``day``: every timestamp the domain writes is that day's."""
    with clock.travel(day):
        yield


def _campaign(step: Step, campaign_id: int) -> Campaign:
    found = step.db.get(Campaign, campaign_id)
    assert found is not None
    return found


def _sample(
    step: Step, campaign_id: int, seed: int, include: Collection[int] = ()
) -> list[EvidenceChallenge]:
    """A confirmed risk-weighted sample; its draft challenges in the sample's key order."""
    spec = SampleSpec("risk", size=SAMPLE_SIZE, weights=RISK_WEIGHTS)
    sample = confirm_sample(
        step.db, step.qa_context, campaign_id, spec, seed, step.qa, include_ids=include
    )
    step.db.flush()
    rows = step.db.exec(
        select(EvidenceChallenge, Organisation)
        .join(SampledReturn, col(SampledReturn.id) == EvidenceChallenge.sampled_return_id)
        .join(Organisation, col(Organisation.id) == EvidenceChallenge.organisation_id)
        .where(SampledReturn.dip_sample_id == saved_id(sample))
    ).all()
    return [c for c, _ in sorted(rows, key=lambda row: organisation_key(row[1]))]


def _issue(step: Step, definition: Definition, challenge: EvidenceChallenge, due: date) -> None:
    """QA issues the challenge on three items of the return, chosen as the page offers them."""
    challenge_id = saved_id(challenge)
    found = load_challenge(step.db, challenge_id)
    offered = candidates(definition, found.submission)
    items = offered_items(found, offered, mode="random", count=ITEMS_PER_CHALLENGE)
    issue_challenge(
        step.db, step.settings, step.qa_context, challenge_id, definition, items, due,
        clock.today(),
    )  # fmt: skip


def _answer(
    step: Step, definition: Definition, challenge_id: int, count: int | None, *, submit: bool
) -> None:
    """The organisation uploads a PDF and writes an explanation for ``count`` items (None:
    all of them), and submits its evidence if ``submit``."""
    found = load_challenge(step.db, challenge_id)
    items = challenged_items(step.db, challenge_id)[:count]
    ctx, today = step.organisation_context(found.organisation), clock.today()
    explanations, versions = {}, {}
    with tempfile.TemporaryDirectory() as directory:
        for number, item in enumerate(items):
            title, line = _document(item.item_id)
            in_force = today - timedelta(days=40 + 61 * number)
            path = Path(directory) / f"evidence-{number}.pdf"
            path.write_bytes(_evidence_pdf(found.organisation.name, definition, item, in_force))
            name = title.lower().replace(" ", "-") + ".pdf"
            inspected = inspect_upload(path, name, name)
            add_files(
                step.db, ctx, step.storage, challenge_id, item.item_id, [inspected], in_force,
                today, step.written,
            )  # fmt: skip
            explanations[item.item_id] = (
                f"Our evidence is the attached ‘{title}’. {line} on {long_date(in_force)}; "
                "it is shared with all staff through the staff handbook."
            )
            versions[item.item_id] = item.version
    save_explanations(step.db, ctx, challenge_id, explanations, versions, today)
    if submit:
        submit_evidence(step.db, step.settings, ctx, challenge_id, today)


def _document(item_id: str) -> tuple[str, str]:
    parts = item_id.split(".")
    return DOCUMENTS.get(parts[1] if len(parts) > 2 else "", DEFAULT_DOCUMENT)


def _evidence_pdf(
    organisation: str, definition: Definition, item: ChallengedItem, on: date
) -> bytes:
    """A one-page PDF with real text: what a school would upload, in a few lines."""
    title, line = _document(item.item_id)
    question = definition.item(item.item_id)
    lines = [
        organisation,
        "",
        f"{line} on {long_date(on)}.",
        f"Next review due by {long_date(on + timedelta(days=365))}.",
        "",
        "Evidence for the safeguarding audit, item:",
        *textwrap.wrap(question.prompt if question else item.item_id, 90),
    ]
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page.setTitle(title)
    page.setFont("Helvetica-Bold", 14)
    page.drawString(72, 770, title)
    page.setFont("Helvetica", 10)
    for number, text in enumerate(lines):
        page.drawString(72, 740 - 15 * number, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _review(
    step: Step, definition: Definition, challenge_id: int, outcomes: Sequence[Outcome]
) -> None:
    """QA records an outcome and a moderated rating for each item, as the review form sends
    them; a not-substantiated item gets a required action, which joins the follow-up."""
    today = clock.today()
    target = today + timedelta(days=90)
    for number, item in enumerate(challenged_items(step.db, challenge_id)):
        outcome = outcomes[number % len(outcomes)]
        claimed = int(item.self_rating) if item.self_rating.isdigit() else 3
        prefix = field_prefix(item.item_id)
        form = {
            f"{prefix}-outcome": outcome.value,
            f"{prefix}-rating": str({S: claimed, P: min(claimed, 2), N: 1}[outcome]),
            f"{prefix}-comment": COMMENTS[outcome],
        }
        if outcome is N:
            form |= {
                f"{prefix}-add-action": "yes",
                f"{prefix}-action-what": REQUIRED_ACTION,
                f"{prefix}-action-owner": "Headteacher",
                f"{prefix}-action-target-day": str(target.day),
                f"{prefix}-action-target-month": str(target.month),
                f"{prefix}-action-target-year": str(target.year),
            }
        draft, errors = parse_review(form, item.item_id, definition.rating_scale, today)
        assert not errors, errors
        record_outcome(
            step.db, step.settings, step.qa_context, challenge_id, definition, item.item_id, draft
        )


def _last_year(step: Step, campaign_id: int) -> int:
    """Sampled two weeks after the campaign closed, answered within three weeks, reviewed."""
    campaign = _campaign(step, campaign_id)
    definition = step.definition(campaign)
    sampled_on = campaign.closes_on + timedelta(days=14)
    demo_schools = _submitted_in(step.db, campaign_id, step.respondents.keys())
    with _on(sampled_on):
        drafts = _sample(step, campaign_id, LAST_YEAR_SEED, demo_schools)
        chosen = _last_year_order(step.db, drafts, demo_schools)[: len(LAST_YEAR_OUTCOMES)]
        for challenge in chosen:
            _issue(step, definition, challenge, sampled_on + timedelta(days=28))
    with _on(sampled_on + timedelta(days=21)):
        for challenge in chosen:
            _answer(step, definition, saved_id(challenge), None, submit=True)
    with _on(sampled_on + timedelta(days=35)):
        for challenge, outcomes in zip(chosen, LAST_YEAR_OUTCOMES, strict=False):
            _review(step, definition, saved_id(challenge), outcomes)
    return len(chosen)


def _submitted_in(db: Session, campaign_id: int, organisation_ids: Collection[int]) -> list[int]:
    """Which of these organisations submitted a return in the campaign (so can be sampled)."""
    if not organisation_ids:
        return []
    return list(
        db.exec(
            select(Return.organisation_id).where(
                Return.campaign_id == campaign_id,
                col(Return.organisation_id).in_(list(organisation_ids)),
                col(Return.submitted_at).is_not(None),
            )
        ).all()
    )


def _last_year_order(
    db: Session, drafts: Sequence[EvidenceChallenge], demo_schools: Collection[int]
) -> list[EvidenceChallenge]:
    """The demo school first; third, a return whose follow-up has not been submitted yet, so
    the required action its review adds joins that follow-up believably."""
    first = [c for c in drafts if c.organisation_id in demo_schools]
    rest = [c for c in drafts if c.organisation_id not in demo_schools]
    stages = dict(
        db.exec(
            select(FollowUp.return_id, FollowUp.stage).where(
                col(FollowUp.return_id).in_([c.return_id for c in rest])
            )
        ).all()
    )
    not_yet = {FollowUpStage.OPEN.value, FollowUpStage.DRAFT.value, None}
    fitting = next((c for c in rest if stages.get(c.return_id) in not_yet), None)
    ordered = first + [c for c in rest if c is not fitting]
    if fitting is not None:
        ordered.insert(min(2, len(ordered)), fitting)
    return ordered


def _this_year(step: Step, campaign_id: int, today: date) -> int:
    """Sampled sixteen days ago; four challenged among the returns submitted by then; the
    organisations' work done three days ago."""
    definition = step.definition(_campaign(step, campaign_id))
    sampled_on = today - timedelta(days=16)
    with _on(sampled_on):
        drafts = _sample(step, campaign_id, THIS_YEAR_SEED)
        ready = _submitted_before(step.db, drafts, sampled_on)[: len(THIS_YEAR_PLANS)]
        for challenge, (due, _, _) in zip(ready, THIS_YEAR_PLANS, strict=False):
            _issue(step, definition, challenge, today + timedelta(days=due))
    with _on(today - timedelta(days=3)):
        for challenge, (_, count, submit) in zip(ready, THIS_YEAR_PLANS, strict=False):
            if count != 0:
                _answer(step, definition, saved_id(challenge), count, submit=submit)
    return len(ready)


def _submitted_before(
    db: Session, drafts: Sequence[EvidenceChallenge], day: date
) -> list[EvidenceChallenge]:
    """Drafts whose return was submitted before ``day`` (the rest came in after the draw)."""
    submitted = dict(
        db.exec(
            select(col(Return.id), Return.submitted_at).where(
                col(Return.id).in_([c.return_id for c in drafts])
            )
        ).all()
    )
    return [c for c in drafts if (at := submitted.get(c.return_id)) and at.date() < day]
