"""The words organisations are described by, shared by questionnaires, organisations and reports.

Questionnaire `audience` and item `applies_to` may name only these values; the duty type also
decides which questionnaire an organisation is invited to and is the denominator for response
rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DUTY_TYPES: Mapping[str, str] = {
    "section-11-agency": "Section 11 partner agency",
    "section-175-school": "Section 175 maintained school or further education college",
    "section-157-school": "Section 157 independent school or academy",
    "early-years-group": "Early years group setting",
    "childminder": "Childminder",
}

SECTORS: Mapping[str, str] = {
    "police": "Police",
    "health": "Health",
    "local-authority": "Local authority",
    "district-council": "District council",
    "probation": "Probation",
    "youth-justice": "Youth justice",
    "cafcass": "CAFCASS",
    "secure-setting": "Secure setting",
    "voluntary": "Voluntary or commissioned provider",
    "other": "Other",
}

PHASES: Mapping[str, str] = {
    "nursery": "Nursery",
    "primary": "Primary",
    "middle": "Middle",
    "secondary": "Secondary",
    "all-through": "All-through",
    "sixteen-plus": "16 plus",
}

FEATURES: Mapping[str, str] = {
    "boarding": "Has boarding pupils",
    "sixth-form": "Has a sixth form",
    "special-school": "Special school",
    "alternative-provision": "Alternative provision or pupil referral unit",
    "early-years-provision": "Runs early years provision",
    "direct-services-to-children": "Provides services directly to children",
    "commissions-services": "Commissions or funds services for children",
    "prevent-specified-authority": "Specified authority under the Prevent duty",
    "overnight-care": "Provides overnight care",
}

DIMENSIONS: Mapping[str, Mapping[str, str]] = {
    "duty_types": DUTY_TYPES,
    "sectors": SECTORS,
    "phases": PHASES,
    "features": FEATURES,
}

# Questionnaire keys and the prefix every section and item id in them starts with.
QUESTIONNAIRE_PREFIXES: Mapping[str, str] = {
    "section-11": "s11",
    "section-175-schools": "s175",
    "section-175-early-years": "ey",
}


@dataclass(frozen=True)
class OrganisationProfile:
    """What applicability needs to know about an organisation (plain data, no database)."""

    duty_type: str
    sector: str | None = None
    phase: str | None = None
    features: frozenset[str] = field(default_factory=frozenset)

    def values(self, dimension: str) -> set[str]:
        if dimension == "duty_types":
            return {self.duty_type}
        if dimension == "sectors":
            return {self.sector} if self.sector else set()
        if dimension == "phases":
            return {self.phase} if self.phase else set()
        if dimension == "features":
            return set(self.features)
        raise KeyError(dimension)


def matches(conditions: Mapping[str, Iterable[str]], profile: OrganisationProfile | None) -> bool:
    """True when each dimension given matches one of its values (no profile: all apply)."""
    if profile is None:
        return True
    for dimension, wanted in conditions.items():
        wanted_set = set(wanted)
        if wanted_set and not wanted_set & profile.values(dimension):
            return False
    return True
