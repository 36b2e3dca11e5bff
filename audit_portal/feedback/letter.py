"""The feedback letter's first draft, written from plain facts about one submitted return.

Schools' commonest complaint about these audits is that they never hear back. The letter tells
an organisation, in plain English, what its own return showed (by standard and overall), how
that compares with the other organisations of its kind in the same campaign, what the evidence
challenge found, and when its six-month update is due. QA edits the draft before it is sent,
so this is a starting point, never the record: the record is the text as sent.

Comparisons follow the report's small-number rule. If fewer organisations of the same kind
than the threshold have submitted, no comparison is given at all; and a standard that fewer
than the threshold of them rated is left out of it, because a figure from so few could be used
to identify them. Every percentage states its numerator and denominator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from audit_portal.followups.rules import FollowUpStatus
from audit_portal.reports.figures import Share
from audit_portal.reports.organisation_summary import OutcomeLine
from audit_portal.wording import long_date

KIND_PLURALS = {
    "school": "schools and colleges",
    "early-years": "early years settings",
    "agency": "partner agencies",
}
KIND_SINGULARS = {
    "school": "school or college",
    "early-years": "early years setting",
    "agency": "partner agency",
}
LESS_EFFECTIVE_RAGS = frozenset({"amber", "red"})


def kind_plural(kind: str) -> str:
    """How the letter names an organisation's peers: "schools and colleges"."""
    return KIND_PLURALS.get(kind, "organisations of the same kind")


@dataclass(frozen=True)
class ItemToWorkOn:
    """An item the organisation rated less than effective, with the rating it chose."""

    item_id: str
    prompt: str
    rating: str  # the scale's label, e.g. "Partly in place"


@dataclass(frozen=True)
class StandardResult:
    """One standard of the organisation's frozen submission, beside its peers' figures.

    ``own`` is the share of the organisation's rated answers in the standard that were rated
    effective; ``others`` the same share over every rated answer of the other organisations of
    its kind, and ``others_organisations`` how many of them (at least) rated the standard.
    """

    section_id: str
    title: str
    rag: str | None  # the standard's rating in the frozen submission
    own: Share
    others: Share
    others_organisations: int
    to_work_on: tuple[ItemToWorkOn, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """The other organisations of the same kind with a submitted return in the campaign."""

    kind: str  # the organisation's kind: school, early-years, agency
    organisations: int
    threshold: int

    @property
    def shown(self) -> bool:
        return self.organisations >= self.threshold

    @property
    def peers(self) -> str:
        return kind_plural(self.kind)

    @property
    def counted(self) -> str:
        """ "12 other schools and colleges have", "1 other partner agency has"."""
        if self.organisations == 1:
            one = KIND_SINGULARS.get(self.kind, "organisation of the same kind")
            return f"1 other {one} has"
        return f"{self.organisations} other {self.peers} have"


@dataclass(frozen=True)
class FollowUpFacts:
    due_on: date
    status: FollowUpStatus


ChallengeState = str  # "none" (nothing asked yet), "waiting" (asked, not reviewed), "reviewed"


@dataclass(frozen=True)
class LetterFacts:
    organisation: str
    partnership: str
    campaign: str
    signed_by: str  # "Hal Head, Headteacher"
    signed_on: date
    overall: str | None
    standards: tuple[StandardResult, ...]
    comparison: Comparison
    challenge: ChallengeState = "none"
    outcomes: tuple[OutcomeLine, ...] = ()
    follow_up: FollowUpFacts | None = None


def draft_letter(facts: LetterFacts) -> str:
    """The whole letter as plain text: paragraphs separated by blank lines, lists with "- "."""
    parts = [
        f"Dear colleagues at {facts.organisation},",
        _opening(facts),
        _overall(facts.overall),
        *_went_well(facts.standards),
        *_to_work_on(facts.standards),
        *_comparison(facts.comparison, facts.standards),
        *_evidence(facts.challenge, facts.outcomes),
        *_follow_up(facts.follow_up),
        "If anything in this letter is unclear, or you think something in it is wrong, please "
        "reply to this email or contact the partnership's business office.",
        f"Yours sincerely,\n\nThe quality assurance group\n{facts.partnership}",
    ]
    return "\n\n".join(parts) + "\n"


def _opening(facts: LetterFacts) -> str:
    return (
        f"Thank you for your safeguarding self-assessment for {facts.campaign}, signed by "
        f"{facts.signed_by}, on {long_date(facts.signed_on)}. The quality assurance group of "
        f"{facts.partnership} has read it. This letter sets out what your return shows, how "
        f"it compares with other {facts.comparison.peers}, and what happens next."
    )


def _overall(rag: str | None) -> str:
    if rag is None:
        return "Your return did not have an overall rating."
    return f"Your overall rating was {rag.capitalize()}."


def _sentence(text: str) -> str:
    """Text people typed, ending as a sentence does, so the next one reads on from it."""
    text = " ".join(text.split())
    return text if not text or text.endswith((".", "?", "!")) else f"{text}."


def _share(share: Share) -> str:
    return share.text if share.denominator else "no rated answers"


def _own_line(standard: StandardResult) -> str:
    rag = f"rated {standard.rag.capitalize()}" if standard.rag else "not rated"
    return (
        f"- {standard.title}: {rag}; {_share(standard.own)} of your ratings were effective."
        if standard.own.denominator
        else f"- {standard.title}: {rag}; every item was marked not applicable."
    )


def _went_well(standards: Sequence[StandardResult]) -> list[str]:
    good = [s for s in standards if s.rag == "green"]
    if not good:
        return [
            "What went well\n\nNo standard was rated Green this time. The actions you have "
            "planned are the way to get there, and the partnership can help."
        ]
    lines = "\n".join(_own_line(s) for s in good)
    return [f"What went well\n\nThese standards were rated Green:\n{lines}"]


def _to_work_on(standards: Sequence[StandardResult]) -> list[str]:
    weaker = [s for s in standards if s.rag in LESS_EFFECTIVE_RAGS]
    if not weaker:
        return [
            "What to work on\n\nNo standard was rated Amber or Red. Keep your arrangements "
            "under review so that they stay effective."
        ]
    lines = []
    for standard in weaker:
        lines.append(_own_line(standard))
        lines += [
            f"  - {item.item_id} {_sentence(item.prompt)} You rated it {item.rating}."
            for item in standard.to_work_on
        ]
    return [
        "What to work on\n\nThese standards were rated Amber or Red, with the items you rated "
        "less than effective:\n" + "\n".join(lines)
    ]


def _comparison(comparison: Comparison, standards: Sequence[StandardResult]) -> list[str]:
    heading = f"How you compare with other {comparison.peers}"
    if comparison.organisations == 0:
        return [
            f"{heading}\n\nNo other {comparison.peers} have submitted a return in this "
            "campaign yet, so there is nothing to compare yours with."
        ]
    if not comparison.shown:
        return [
            f"{heading}\n\nFewer than {comparison.threshold} other {comparison.peers} have "
            "submitted a return in this campaign, so we do not compare your ratings with "
            "theirs: figures from so few organisations could identify them."
        ]
    lines = [_compared_line(s, comparison) for s in standards]
    return [
        f"{heading}\n\n{comparison.counted} submitted a return in this campaign. For each "
        "standard, the share of ratings that were effective, yours and theirs (answers marked "
        "not applicable are left out):\n" + "\n".join(lines)
    ]


def _compared_line(standard: StandardResult, comparison: Comparison) -> str:
    yours = f"yours {_share(standard.own)}"
    if standard.others_organisations < comparison.threshold:
        return (
            f"- {standard.title}: {yours}; fewer than {comparison.threshold} other "
            f"{comparison.peers} rated this standard, so their figure is not given."
        )
    return f"- {standard.title}: {yours}; other {comparison.peers} {_share(standard.others)}."


def _evidence(challenge: ChallengeState, outcomes: Sequence[OutcomeLine]) -> list[str]:
    heading = "Evidence"
    if challenge == "waiting":
        return [
            f"{heading}\n\nWe have asked you for evidence on some items of your return. We "
            "will write to you again once the quality assurance group has reviewed it."
        ]
    if challenge != "reviewed" or not outcomes:
        return [f"{heading}\n\nWe did not ask you for evidence on any item of this return."]
    lines = []
    for line in outcomes:
        text = (
            f"- {line.item_id} {_sentence(line.prompt)} {line.outcome}. You rated it "
            f"{line.self_rating}; "
            f"the moderated rating is {line.moderated_rating}."
        )
        if line.comment:
            text += f" {_sentence(line.comment)}"
        if line.action:
            text += f" Required action: {_sentence(line.action)}"
        lines.append(text)
    count = len(outcomes)
    items = "1 item" if count == 1 else f"{count} items"
    return [
        f"{heading}\n\nWe asked you for evidence on {items}. Thank you for providing it. "
        "The quality assurance group found:\n" + "\n".join(lines)
    ]


def _follow_up(follow_up: FollowUpFacts | None) -> list[str]:
    heading = "Your six-month follow-up"
    if follow_up is None:
        return [
            f"{heading}\n\nYou have no improvement actions to report on, so no six-month "
            "update is needed."
        ]
    due = long_date(follow_up.due_on)
    text = {
        FollowUpStatus.ACCEPTED: "Thank you for your six-month update on your actions, which "
        "the partnership has accepted.",
        FollowUpStatus.SUBMITTED: "Thank you for your six-month update on your actions. The "
        "quality assurance group is reviewing it.",
        FollowUpStatus.MORE_INFORMATION_REQUESTED: "Thank you for your six-month update on "
        "your actions. We have asked you for more information about it: please send it as "
        "soon as you can.",
        FollowUpStatus.OVERDUE: f"Your six-month update on your actions was due on {due} and "
        "we have not received it yet. Please send it as soon as you can.",
    }.get(
        follow_up.status,
        f"Please send your six-month update on your actions by {due}. We will remind you "
        "before then.",
    )
    return [f"{heading}\n\n{text}"]
