"""Settings come only from the environment, and a bad value names its variable."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from audit_portal import cli
from audit_portal.config import PROJECT_ROOT, ConfigError, Settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"AUDIT_PORTAL_VAR_DIR": str(tmp_path), **values}


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    assert settings.environment == "development"
    assert settings.database_url == f"sqlite:///{tmp_path / 'audit-portal.sqlite3'}"
    assert settings.upload_dir == tmp_path / "uploads"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.smtp_port == 587 and settings.smtp_starttls is True
    assert not settings.secure_cookies


def test_development_secret_is_generated_once_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = Settings.from_env(env(tmp_path)).secret_key
    assert "SECRET_KEY is not set" in caplog.text
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Settings.from_env(env(tmp_path)).secret_key == first
    assert len(first) >= 32


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^SECRET_KEY is required when AUDIT_PORTAL_ENV=production"
    ):
        Settings.from_env(env(tmp_path, AUDIT_PORTAL_ENV="production"))
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SMTP_PORT", "twenty-five", "SMTP_PORT must be a whole number"),
        ("SMTP_PORT", "70000", "SMTP_PORT must be between 1 and 65535"),
        ("SMTP_STARTTLS", "maybe", "SMTP_STARTTLS must be true or false"),
        ("BASE_URL", "portal.example", "BASE_URL must be an http:// or https:// address"),
        ("AUDIT_PORTAL_ENV", "staging", "AUDIT_PORTAL_ENV must be one of"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 32 characters"),
        ("MAIL_FROM", "nobody", "MAIL_FROM must be an email address"),
        ("DATABASE_URL", "mysql://u:hunter2@db/x", "DATABASE_URL must start with sqlite:///"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env(tmp_path, **{name: value}))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, DATABASE_URL="postgresql://app@db:5432/portal"))
    assert settings.database_url == "postgresql+psycopg://app@db:5432/portal"
    assert not settings.is_sqlite


def test_https_base_url_makes_cookies_secure(tmp_path: Path) -> None:
    assert Settings.from_env(env(tmp_path, BASE_URL="https://audit.example.org/")).secure_cookies


def test_cli_prints_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("AUDIT_PORTAL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SMTP_PORT", "abc")
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err == "audit-portal: SMTP_PORT must be a whole number (got 'abc').\n"


class RecordingEnv(Mapping[str, str]):
    """Remembers every variable the settings asked for."""

    def __init__(self, base: Mapping[str, str]) -> None:
        self.base, self.asked = base, set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.base[key]

    def get(self, key: str, default=None):  # type: ignore[no-untyped-def, override]
        self.asked.add(key)
        return self.base.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.base)

    def __len__(self) -> int:
        return len(self.base)


def test_every_setting_is_documented_in_the_readme(tmp_path: Path) -> None:
    recording = RecordingEnv(env(tmp_path))
    Settings.from_env(recording)
    readme = (PROJECT_ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    assert recording.asked, "the settings read no variables"
    assert recording.asked <= documented, f"undocumented: {sorted(recording.asked - documented)}"
    assert documented <= recording.asked, (
        f"documented but unused: {sorted(documented - recording.asked)}"
    )
