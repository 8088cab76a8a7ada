"""The shipped catalogue is valid; a bad one fails naming the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.catalogue import DEFAULT_CATALOGUE_PATH, CatalogueError, load_catalogue
from domain.enums import Plan

SHIPPED = DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8")


def test_shipped_catalogue_is_complete():
    catalogue = load_catalogue()
    assert set(catalogue.plans) == set(Plan)
    assert not catalogue.plan_eligible(Plan.STARTER)
    assert all(catalogue.plan_eligible(p) for p in (Plan.PLUS, Plan.PROFESSIONAL, Plan.ENTERPRISE))
    assert len(catalogue.addon_tiers) >= 4
    assert len(catalogue.credit_packs) >= 3
    assert len(catalogue.countries) >= 25
    us = catalogue.country("us")
    assert us is not None and us.registration == "a2p_10dlc"
    assert "SAMPLE DATA" in SHIPPED


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped catalogue with one edit, so each case breaks exactly one thing."""
    assert old in SHIPPED, old
    path = tmp_path / "catalogue.toml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    return path


ENTERPRISE = '[plans.enterprise]\nname = "Enterprise"\nsms_addon_eligible = true\n'


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        (ENTERPRISE, "", "(top level)", "plans missing: enterprise"),
        ('id = "sms-500"', 'id = "sms-1000"', "(top level)", "addon_tiers: duplicate ids sms-1000"),
        ('id = "pack-250"', 'id = "pack-500"', "(top level)", "credit_packs: duplicate ids"),
        (
            "monthly_price_minor = 1000\n",
            "monthly_price_minor = -1000\n",
            "addon_tiers.0.monthly_price_minor",
            "greater than 0",
        ),
        ('code = "BR"', 'code = "Brazil"', "countries.3.code", "should match pattern"),
        ('code = "CA"', 'code = "US"', "(top level)", "countries: duplicate ids US"),
        ('currency = "USD"', 'currency = "dollars"', "currency", "should match pattern"),
        ("credits_per_message = 4", 'credits_per_message = "four"', "credits_per_message", "int"),
        ('[plans.starter]\nname = "Starter"', '[plans.gold]\nname = "G"', "plans.gold", "'plus'"),
        ("sms_addon_eligible = false", "eligible = false", "plans.starter", "Field required"),
    ],
)
def test_bad_catalogue_names_file_field_and_reason(tmp_path, old, new, field, reason):
    path = write_variant(tmp_path, old, new)
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert field in message
    assert reason in message


def test_toml_syntax_error_names_the_file(tmp_path):
    path = write_variant(tmp_path, 'currency = "USD"', "currency = = USD")
    with pytest.raises(CatalogueError, match=r"catalogue\.toml: \(syntax\): .*line 9"):
        load_catalogue(path)


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(CatalogueError, match=r"nowhere\.toml: \(file\): not found"):
        load_catalogue(path)
