"""Data for backup and retention tests: generated campaigns with challenges, real evidence files
in the store, and the command line run as an operator runs it (its own engine, from the
environment), with what it printed."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from audit_portal.challenges.files import evidence_storage, storage_key, stored_name
from audit_portal.cli import main
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    Campaign,
    ChallengedItem,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
    Return,
    saved_id,
)
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.reports.campaign_report import CampaignReport, campaign_report
from audit_portal.reports.queries import ReportFilters
from tests.evidence_samples import pdf_with_text
from tests.report_builders import add_generated_challenges
from tests.report_data import Generated, definition, generate

REPORT_DAY = date(2026, 6, 1)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    *args: str,
    **env: str,
) -> Ran:
    """``audit-portal ARGS`` against the install ``settings`` describe (``env`` overrides)."""
    base = {
        "AUDIT_PORTAL_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "AUDIT_PORTAL_VAR_DIR": str(settings.var_dir),
        "UPLOAD_DIR": str(settings.upload_dir),
        "QUESTIONNAIRES_DIR": str(settings.questionnaires_dir),
    }
    for name, value in (base | env).items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = main(list(args))
    printed = capsys.readouterr()
    return Ran(code, printed.out, printed.err)


def generated_campaign(engine: Engine, settings: Settings, seed: int) -> Generated:
    """A closed campaign of 30 submitted-or-not returns with a dip sample and challenges."""
    d = definition(settings)
    g = generate(engine, d, seed=seed)
    add_generated_challenges(engine, g, d, seed=seed)
    return g


def move_closing(engine: Engine, campaign_id: int, closes_on: date) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(Campaign).where(col(Campaign.id) == campaign_id).values(closes_on=closes_on)
        )


def challenged_items(db: Session, campaign_id: int) -> list[ChallengedItem]:
    return list(
        db.exec(
            select(ChallengedItem)
            .join(EvidenceChallenge, col(EvidenceChallenge.id) == ChallengedItem.challenge_id)
            .join(Return, col(Return.id) == EvidenceChallenge.return_id)
            .where(Return.campaign_id == campaign_id)
            .order_by(col(ChallengedItem.id))
        )
    )


def store_evidence(
    db: Session, settings: Settings, items: list[ChallengedItem], text: str
) -> EvidenceFile:
    """A PDF put in the evidence store and offered for each of ``items``."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "upload"
        path.write_bytes(pdf_with_text(text))
        stored = evidence_storage(settings).put(path)
    challenge = db.get(EvidenceChallenge, items[0].challenge_id)
    assert challenge is not None
    file = EvidenceFile(
        organisation_id=challenge.organisation_id,
        storage_key=stored_name(stored.key),
        sha256=stored.sha256,
        size=stored.size,
        kind="pdf",
        content_type="application/pdf",
        display_name=f"{text}.pdf",
    )
    db.add(file)
    db.flush()
    for item in items:
        db.add(EvidencePiece(challenged_item_id=saved_id(item), evidence_file_id=saved_id(file)))
    db.flush()
    return file


def stored_bytes(settings: Settings, file: EvidenceFile) -> bytes:
    with evidence_storage(settings).open(storage_key(file.storage_key)) as handle:
        return handle.read()


def report_of(engine: Engine, settings: Settings, campaign_id: int) -> CampaignReport:
    """Every figure of a campaign's report, nothing hidden (threshold 1), on a fixed day."""
    catalogue = load_catalogue(settings.questionnaires_dir)
    with session_scope(engine, write=False) as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign_report(db, catalogue, campaign, ReportFilters(), REPORT_DAY, threshold=1)
