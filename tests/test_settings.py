"""Settings come from the environment; bad values stop the process naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

import worker
from config.settings import DATA_DIR, Settings


def settings_from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_defaults_are_the_embedded_stack(monkeypatch):
    for name in ("DATABASE_URL", "SMS_DUNNING_RETRY_DAYS", "API_PORT", "SMS_QUOTE_TTL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = settings_from_env(monkeypatch)
    assert settings.database_url == f"sqlite:///{DATA_DIR / 'sms-addon.db'}"
    assert settings.sms_dunning_retry_days == [1, 3, 7]
    assert settings.quote_ttl.total_seconds() == 30 * 60
    assert (settings.api_port, settings.sms_dev_temporal_port) == (8000, 7233)
    assert settings.sms_dev_temporal_ui_port == 8233


@pytest.mark.parametrize(("raw", "days"), [("1,3,7", [1, 3, 7]), ("2 5", [2, 5]), ("4", [4])])
def test_dunning_days_parse(monkeypatch, raw, days):
    assert settings_from_env(monkeypatch, SMS_DUNNING_RETRY_DAYS=raw).sms_dunning_retry_days == days


@pytest.mark.parametrize("raw", ["3,1", "0,2", "1,1,2", "", "one,two", "-1"])
def test_bad_dunning_days_are_refused(monkeypatch, raw):
    with pytest.raises(ValidationError, match="sms_dunning_retry_days"):
        settings_from_env(monkeypatch, SMS_DUNNING_RETRY_DAYS=raw)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("SMS_QUOTE_TTL_SECONDS", "0"),
        ("API_PORT", "70000"),
        ("SMS_DEV_TEMPORAL_PORT", "0"),
        ("SMS_DEV_TEMPORAL_UI_PORT", "http"),
    ],
)
def test_bad_numbers_are_refused(monkeypatch, name, raw):
    with pytest.raises(ValidationError, match=name.lower()):
        settings_from_env(monkeypatch, **{name: raw})


def test_values_come_from_the_environment(monkeypatch, tmp_path: Path):
    settings = settings_from_env(
        monkeypatch,
        DATABASE_URL="postgresql+psycopg://db/sms",
        SMS_TASK_QUEUE="q",
        SMS_ADMIN_TOKEN="tok-123",
        SMS_CATALOGUE_PATH=str(tmp_path / "c.toml"),
        SMS_QUOTE_TTL_SECONDS="300",
        API_PORT="9000",
    )
    assert settings.database_url == "postgresql+psycopg://db/sms"
    assert settings.sms_task_queue == "q"
    assert settings.sms_admin_token.get_secret_value() == "tok-123"
    assert "tok-123" not in repr(settings)
    assert settings.sms_catalogue_path == tmp_path / "c.toml"
    assert settings.quote_ttl.total_seconds() == 5 * 60
    assert settings.api_port == 9000


def test_the_worker_capacity_defaults_are_the_settings(monkeypatch):
    """One truth for the slots: a worker built without settings (tests, benches) takes
    the same capacity as `sms-addon worker` with none set, which the docs describe."""
    for name in ("ACTIVITY_SLOTS", "LOCAL_ACTIVITY_SLOTS", "CACHED_WORKFLOWS"):
        monkeypatch.delenv(f"SMS_WORKER_{name}", raising=False)
    settings = settings_from_env(monkeypatch)
    assert worker.Capacity() == worker.Capacity(
        activities=settings.sms_worker_activity_slots,
        local_activities=settings.sms_worker_local_activity_slots,
        cached_workflows=settings.sms_worker_cached_workflows,
    )
    assert (worker.Capacity().activities, worker.Capacity().local_activities) == (16, 8)
