"""The one Settings object, read from environment variables and nowhere else.

Every setting is documented in the README's configuration table (a test checks that). A bad
value raises ConfigError with a one-line message naming the variable, which the CLI prints
instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")
MOST_ACTIVE_REQUESTS = 18  # db.REQUEST_CONNECTIONS: a request let in never waits for a connection
DEFAULT_ACTIVE_REQUESTS = 8


class ConfigError(ValueError):
    """A setting is missing or has a value the portal cannot use."""


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    secret_key: str
    upload_dir: Path
    base_url: str
    partnership_name: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    mail_from: str
    session_idle_minutes: int
    session_absolute_hours: int
    var_dir: Path
    questionnaires_dir: Path
    embedded_worker: bool
    evidence_max_file_mb: int = 20
    evidence_max_request_mb: int = 100
    evidence_stale_years: int = 3
    evidence_scrutineer_download: bool = False
    report_suppression_threshold: int = 5
    # Overload: at most this many requests are served at once (never more than the database
    # pool's request connections, db.REQUEST_CONNECTIONS), at most max_waiting_requests wait
    # for a turn, and none waits longer than max_wait_ms; the rest get a fast 503 with
    # Retry-After. Eight, not eighteen: one process runs Python on one core, so more requests
    # at once only share it more thinly; measured with 50 people autosaving on PostgreSQL,
    # 8 at once served about a tenth more saves a second than 18 (bench/RESULTS.md).
    max_active_requests: int = DEFAULT_ACTIVE_REQUESTS
    max_waiting_requests: int = 300
    max_wait_ms: int = 10_000
    max_waiting_packs: int = 20  # PDF packs waiting their turn (made one at a time); more: 503
    log_format: str = "text"
    # Retention (UK GDPR storage limitation): how long records are kept; see retention.rules.
    retention_campaign_years: int = 6
    retention_account_years: int = 2
    retention_sign_in_days: int = 90
    retention_email_days: int = 365

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Reader(os.environ if environ is None else environ)
        environment = env.choice("AUDIT_PORTAL_ENV", ENVIRONMENTS, "development")
        var_dir = env.path("AUDIT_PORTAL_VAR_DIR", PROJECT_ROOT / "var")
        database_url = env.database_url("DATABASE_URL", var_dir)
        return cls(
            environment=environment,
            database_url=database_url,
            secret_key=env.secret_key("SECRET_KEY", environment, var_dir),
            upload_dir=env.path("UPLOAD_DIR", var_dir / "uploads"),
            base_url=env.url("BASE_URL", "http://127.0.0.1:8000"),
            partnership_name=env.text("PARTNERSHIP_NAME", "Demo Safeguarding Children Partnership"),
            smtp_host=env.text("SMTP_HOST", ""),
            smtp_port=env.integer("SMTP_PORT", 587, low=1, high=65535),
            smtp_username=env.text("SMTP_USERNAME", ""),
            smtp_password=env.text("SMTP_PASSWORD", ""),
            smtp_starttls=env.boolean("SMTP_STARTTLS", True),
            mail_from=env.email("MAIL_FROM", "audit-portal@localhost"),
            session_idle_minutes=env.integer("SESSION_IDLE_MINUTES", 60, low=5, high=24 * 60),
            session_absolute_hours=env.integer("SESSION_ABSOLUTE_HOURS", 12, low=1, high=24 * 14),
            var_dir=var_dir,
            questionnaires_dir=env.path("QUESTIONNAIRES_DIR", PROJECT_ROOT / "questionnaires"),
            # The embedded default (SQLite, one machine) sends email from inside the web app;
            # with PostgreSQL the worker is its own process (`audit-portal worker`).
            embedded_worker=env.boolean("EMBEDDED_WORKER", database_url.startswith("sqlite")),
            evidence_max_file_mb=env.integer("EVIDENCE_MAX_FILE_MB", 20, low=1, high=1024),
            evidence_max_request_mb=env.integer("EVIDENCE_MAX_REQUEST_MB", 100, low=1, high=4096),
            evidence_stale_years=env.integer("EVIDENCE_STALE_YEARS", 3, low=1, high=50),
            evidence_scrutineer_download=env.boolean("EVIDENCE_SCRUTINEER_DOWNLOAD", False),
            report_suppression_threshold=env.integer(
                "REPORT_SUPPRESSION_THRESHOLD", 5, low=1, high=1000
            ),
            max_active_requests=env.integer(
                "MAX_ACTIVE_REQUESTS", DEFAULT_ACTIVE_REQUESTS, low=1, high=MOST_ACTIVE_REQUESTS
            ),
            max_waiting_requests=env.integer("MAX_WAITING_REQUESTS", 300, low=0, high=100_000),
            max_wait_ms=env.integer("MAX_WAIT_MS", 10_000, low=1, high=120_000),
            max_waiting_packs=env.integer("MAX_WAITING_PACKS", 20, low=0, high=1000),
            # Production ships its logs, one JSON object a line; people read plain text.
            log_format=env.choice(
                "LOG_FORMAT", ("json", "text"), "json" if environment == "production" else "text"
            ),
            retention_campaign_years=env.integer("RETENTION_CAMPAIGN_YEARS", 6, low=1, high=100),
            retention_account_years=env.integer("RETENTION_ACCOUNT_YEARS", 2, low=1, high=100),
            # At least 15 days: no session outlives SESSION_ABSOLUTE_HOURS (14 days at most).
            retention_sign_in_days=env.integer("RETENTION_SIGN_IN_DAYS", 90, low=15, high=3650),
            retention_email_days=env.integer("RETENTION_EMAIL_DAYS", 365, low=1, high=3650),
        )


class _Reader:
    """Tiny typed readers: each raises ConfigError naming the variable it read."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return value.strip() if value is not None and value.strip() != "" else None

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.raw(name) or default
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)} (got {value!r}).")
        return value

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number (got {value!r}).") from None
        if not low <= number <= high:
            raise ConfigError(f"{name} must be between {low} and {high} (got {number}).")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false (got {value!r}).")

    def path(self, name: str, default: Path) -> Path:
        value = self.raw(name)
        return Path(value).expanduser().resolve() if value else default

    def url(self, name: str, default: str) -> str:
        value = (self.raw(name) or default).rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(f"{name} must be an http:// or https:// address (got {value!r}).")
        return value

    def email(self, name: str, default: str) -> str:
        value = self.raw(name) or default
        if "@" not in value or " " in value:
            raise ConfigError(f"{name} must be an email address (got {value!r}).")
        return value

    def database_url(self, name: str, var_dir: Path) -> str:
        value = self.raw(name)
        if value is None:
            return f"sqlite:///{var_dir / 'audit-portal.sqlite3'}"
        if value.startswith("sqlite:///"):
            return value
        if value.startswith(("postgresql+psycopg://", "postgresql://", "postgres://")):
            # One driver for PostgreSQL: psycopg 3.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        raise ConfigError(
            f"{name} must start with sqlite:/// or postgresql+psycopg:// (got {_redact(value)!r})."
        )

    def secret_key(self, name: str, environment: str, var_dir: Path) -> str:
        value = self.raw(name)
        if value is not None:
            if len(value) < 32:
                raise ConfigError(f"{name} must be at least 32 characters long.")
            return value
        if environment == "production":
            raise ConfigError(
                f"{name} is required when AUDIT_PORTAL_ENV=production "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        return _development_secret(var_dir)


def _development_secret(var_dir: Path) -> str:
    """Generate a key once and keep it, so development sessions survive restarts."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    log.warning("SECRET_KEY is not set: generated a development key in %s", path)
    return key


def _redact(url: str) -> str:
    """Hide a password in a database URL before it appears in an error message."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
