"""A fictional county's organisations, invented from a seed: the same seed, the same county.

Names are made from invented place names, so no real school or agency is named; identifiers
look like the real schemes (six-digit URNs, ``EY`` Ofsted numbers, ODS codes, charity numbers)
but sit in ranges chosen for the demo, contact emails use the reserved ``.example`` domain and
telephone numbers Ofcom's range for drama (01632 960000 to 960999).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

DISTRICTS = ("Ashvale", "Brackenridge", "Coldwater", "Dunmore", "Eastmarsh", "Fernhill")
LOCAL_AUTHORITY = "Demoshire"
_STARTS = (
    "Ash", "Oak", "Elm", "Brook", "Hazel", "Willow", "Thorn", "Bram", "Kings", "Queens",
    "North", "South", "East", "West", "Long", "High", "Little", "Great", "Church", "Mill",
    "Stone", "Fern", "Holly", "Rose", "Heath", "Marsh", "Fair", "Green", "Red", "Bright",
)  # fmt: skip
_ENDS = (
    "field", "ford", "bury", "ton", "ley", "wood", "combe", "stead", "well", "dale",
    "bridge", "worth", "ham", "by", "cote", "hurst", "mere", "gate", "brook", "moor",
)  # fmt: skip
_SAINTS = ("Mary", "Peter", "Andrew", "John", "Anne", "Michael", "Luke", "Joseph", "Paul")
_FIRST = (
    "Amy", "Ben", "Chloe", "Dan", "Ella", "Faye", "Gita", "Hana", "Isla", "Jo", "Kim", "Lena",
    "Mo", "Nia", "Owen", "Priya", "Rosa", "Sam", "Tess", "Uma", "Vic", "Will", "Yasmin", "Zoe",
)  # fmt: skip
_LAST = (
    "Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fisher", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Quinn", "Reid", "Shaw",
    "Taylor", "Walsh", "Young",
)  # fmt: skip
AGENCIES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    # name, sector, identifier scheme, identifier, features
    ("Demoshire Constabulary", "police", "", "", ("direct-services-to-children",)),
    ("British Transport Police, Demoshire area", "police", "", "", ()),
    ("Demoshire County Council Children's Services", "local-authority", "", "",
     ("direct-services-to-children", "commissions-services", "prevent-specified-authority")),
    ("Demoshire County Council Adult Social Care", "local-authority", "", "", ()),
    ("Demoshire County Council Education and Inclusion", "local-authority", "", "",
     ("commissions-services",)),
    ("Demoshire Integrated Care Board", "health", "ods", "QX9", ("commissions-services",)),
    ("Demoshire Hospitals NHS Foundation Trust", "health", "ods", "RX91",
     ("direct-services-to-children",)),
    ("Demoshire Community Health NHS Trust", "health", "ods", "RX92",
     ("direct-services-to-children",)),
    ("Demoshire Mental Health Partnership NHS Trust", "health", "ods", "RX93",
     ("direct-services-to-children",)),
    ("Western Counties Ambulance Service NHS Trust", "health", "ods", "RX94", ()),
    ("Demoshire Public Health", "health", "", "", ("commissions-services",)),
    ("Probation Service, Demoshire delivery unit", "probation", "", "", ()),
    ("Demoshire Youth Justice Service", "youth-justice", "", "",
     ("direct-services-to-children",)),
    ("Cafcass, Demoshire team", "cafcass", "", "", ("direct-services-to-children",)),
    ("Hollowmere Secure Children's Home", "secure-setting", "", "",
     ("direct-services-to-children", "overnight-care")),
    ("Office of the Demoshire Police and Crime Commissioner", "other", "", "",
     ("commissions-services",)),
    ("Demoshire Fire and Rescue Service", "other", "", "", ()),
    ("Demoshire Housing Partnership", "other", "", "", ()),
)  # fmt: skip
_VOLUNTARY = (
    "Young Carers", "Family Support", "Youth Clubs", "Domestic Abuse Service", "Mentoring",
    "Sports Trust", "Scouts and Guides Council", "Children's Centre Trust", "Counselling Service",
    "Food Bank", "Refugee Welcome", "Play Association", "Parent Carer Forum", "Arts for Children",
    "Faith Forum", "Homestart", "Befriending Scheme", "Sexual Health Outreach",
    "Bereavement Support", "Holiday Activities",
)  # fmt: skip
_DISTRICT_COUNCILS = ("Ashvale", "Brackenridge")


@dataclass(frozen=True)
class Flag:
    flag: str
    value: str
    source: str
    noted_on: date
    note: str


@dataclass(frozen=True)
class Contact:
    contact_name: str
    contact_email: str
    contact_phone: str


@dataclass(frozen=True)
class DemoOrganisation:
    """One organisation as ``Organisation`` stores it, with its intelligence flags."""

    name: str
    duty_type: str
    kind: str
    identifier_scheme: str
    identifier: str
    district: str
    sector: str | None = None
    phase: str | None = None
    features: tuple[str, ...] = ()
    establishment_type: str = ""
    contact: Contact | None = None
    flags: tuple[Flag, ...] = field(default=())

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


@dataclass(frozen=True)
class Sizes:
    agencies: int = 40
    schools: int = 350
    early_years: int = 1100


class _Names:
    """Unique place names, drawn in a seeded order."""

    def __init__(self, rng: random.Random) -> None:
        places = [s + e for s in _STARTS for e in _ENDS]
        rng.shuffle(places)
        self._places = places
        self._used: dict[str, int] = {}
        self._rng = rng

    def place(self) -> str:
        return self._rng.choice(self._places)

    def unique(self, name: str) -> str:
        """The name, or the name with its district's village added when it is taken."""
        count = self._used.get(name, 0)
        self._used[name] = count + 1
        return name if count == 0 else f"{name} ({self.place()})"

    def person(self) -> str:
        return f"{self._rng.choice(_FIRST)} {self._rng.choice(_LAST)}"


def county(seed: int = 2026, sizes: Sizes = Sizes()) -> list[DemoOrganisation]:
    """Every organisation of the demo county, the same for the same seed and sizes."""
    rng = random.Random(seed)  # noqa: S311 (invented data, not a secret)
    names = _Names(rng)
    made = _agencies(rng, names, sizes.agencies)
    made += _schools(rng, names, sizes.schools)
    made += _early_years(rng, names, sizes.early_years)
    return made


def _contact(rng: random.Random, names: _Names, name: str) -> Contact:
    person = names.person()
    domain = "".join(c for c in name.lower() if c.isalnum())[:24] or "setting"
    return Contact(
        person,
        f"{person.split()[0].lower()}@{domain}.example",
        f"01632 960{rng.randrange(1000):03d}",
    )


def _agencies(rng: random.Random, names: _Names, count: int) -> list[DemoOrganisation]:
    specs: list[tuple[str, str, str, str, tuple[str, ...]]] = list(AGENCIES)
    for district in _DISTRICT_COUNCILS:
        specs.append((f"{district} District Council", "district-council", "", "", ()))
    charity = 1_190_000
    for what in _VOLUNTARY:
        charity += rng.randrange(7, 400)
        helps: tuple[str, ...] = ("direct-services-to-children",)
        specs.append((f"Demoshire {what}", "voluntary", "charity", str(charity), helps))
    made = []
    for name, sector, scheme, identifier, features in specs[:count]:
        made.append(
            DemoOrganisation(
                name=name,
                duty_type="section-11-agency",
                kind="agency",
                sector=sector,
                identifier_scheme=scheme,
                identifier=identifier,
                district="",
                features=features,
                contact=_contact(rng, names, name),
            )
        )
    return made


# phase, share of schools, name patterns, features
_SCHOOL_MIX: tuple[tuple[str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("primary", 0.74, ("{p} Primary School", "{p} CofE Primary School",
                       "St {s}'s Catholic Primary School", "{p} Infant School",
                       "{p} Junior School", "{p} Primary Academy"), ()),
    ("secondary", 0.15, ("{p} High School", "{p} Academy", "{p} School"), ("sixth-form",)),
    ("all-through", 0.03, ("{p} All-through School",), ("sixth-form",)),
    ("primary", 0.03, ("{p} Special School",), ("special-school",)),
    ("secondary", 0.02, ("{p} Pupil Referral Unit",), ("alternative-provision",)),
    ("sixteen-plus", 0.015, ("{p} College",), ()),
    ("secondary", 0.015, ("{p} Independent School",), ("boarding",)),
)  # fmt: skip


def _schools(rng: random.Random, names: _Names, count: int) -> list[DemoOrganisation]:
    made = []
    maintained_urn, academy_urn = 110_000, 140_000
    for i in range(count):
        phase, _, patterns, features = rng.choices(_SCHOOL_MIX, [m[1] for m in _SCHOOL_MIX])[0]
        pattern = rng.choice(patterns)
        name = names.unique(pattern.format(p=names.place(), s=rng.choice(_SAINTS)))
        academy = "Academy" in name or "Independent" in name or rng.random() < 0.35
        if academy:
            academy_urn += rng.randrange(1, 90)
            urn, duty = academy_urn, "section-157-school"
        else:
            maintained_urn += rng.randrange(1, 90)
            urn, duty = maintained_urn, "section-175-school"
        extra = ("sixth-form",) if phase == "secondary" and rng.random() < 0.4 else ()
        made.append(
            DemoOrganisation(
                name=name,
                duty_type=duty,
                kind="school",
                identifier_scheme="urn",
                identifier=str(urn),
                district=DISTRICTS[i % len(DISTRICTS)],
                phase=phase,
                features=tuple(sorted(set(features) | set(extra))),
                establishment_type="Academy converter" if academy else "Community school",
                flags=_flags(rng, school=True),
                contact=_contact(rng, names, name),
            )
        )
    return made


def _early_years(rng: random.Random, names: _Names, count: int) -> list[DemoOrganisation]:
    made = []
    ofsted = 500_000
    for i in range(count):
        ofsted += rng.randrange(1, 60)
        childminder = rng.random() < 0.55
        if childminder:
            person = names.person()
            name = names.unique(f"{person}, childminder in {names.place()}")
            duty = "childminder"
        else:
            style = rng.choice(("{p} Pre-school", "{p} Day Nursery", "Little Acorns {p}",
                                "{p} Playgroup", "Rainbow Nursery {p}"))  # fmt: skip
            name = names.unique(style.format(p=names.place()))
            duty = "early-years-group"
        made.append(
            DemoOrganisation(
                name=name,
                duty_type=duty,
                kind="early-years",
                identifier_scheme="ofsted-urn",
                identifier=f"EY{ofsted}",
                district=DISTRICTS[i % len(DISTRICTS)],
                phase="nursery",
                flags=_flags(rng, school=False),
                contact=_contact(rng, names, name),
            )
        )
    return made


def _flags(rng: random.Random, *, school: bool) -> tuple[Flag, ...]:
    """About one in ten has a flag: a poor inspection, a known concern or a LADO referral."""
    roll = rng.random()
    if roll < 0.06:
        judgement = rng.choice(("Requires improvement", "Requires improvement", "Inadequate"))
        noted = date(2025, rng.randrange(1, 13), rng.randrange(1, 28))
        return (Flag("ofsted-judgement", judgement, "Ofsted inspection report", noted, ""),)
    if roll < 0.09:
        noted = date(2025, rng.randrange(1, 13), rng.randrange(1, 28))
        note = "Concern raised by the local authority designated officer (demo)"
        return (Flag("lado-referral", "", "LADO", noted, note),)
    if roll < 0.11 and school:
        noted = date(2026, rng.randrange(1, 10), rng.randrange(1, 28))
        note = "Repeated concerns about attendance and children missing education (demo)"
        return (Flag("safeguarding-concern", "", "Education welfare service", noted, note),)
    return ()
