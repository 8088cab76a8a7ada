"""The shipped catalogue is valid; a bad one fails naming the file, the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.catalogue import DEFAULT_CATALOGUE_PATH, CatalogueError, load_catalogue
from domain.enums import BillingCycle, Currency, Plan

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
            "prices.USD = { monthly_minor = 1000 }",
            "prices.USD = { monthly_minor = -1000 }",
            "addon_tiers.0.prices.USD.monthly_minor",
            "greater than 0",
        ),
        (
            "prices.BRL = { monthly_minor = 5490, annual_minor = 65990 }\n",
            "",
            "addon_tiers.0",
            "prices missing for BRL",
        ),
        ("prices.BRL = {", "prices.EUR = {", "addon_tiers.0.prices.EUR.[key]", "'USD' or 'BRL'"),
        ('code = "BR"', 'code = "Brazil"', "countries.3.code", "should match pattern"),
        ('code = "CA"', 'code = "US"', "(top level)", "countries: duplicate ids US"),
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
    path = write_variant(tmp_path, 'name = "Starter"', "name = = Starter")
    with pytest.raises(CatalogueError, match=r"catalogue\.toml: \(syntax\): .*line 17"):
        load_catalogue(path)


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(CatalogueError, match=r"nowhere\.toml: \(file\): not found"):
        load_catalogue(path)


def test_every_item_has_a_reviewed_price_in_every_currency():
    """The BRL book is written as prices by the rule the file states: the USD price ×
    5.5, rounded half up to whole reais, less 10 centavos; annual from the USD annual."""
    catalogue = load_catalogue()
    for item in [*catalogue.addon_tiers, *catalogue.credit_packs]:
        assert set(item.prices) == set(Currency)
        usd, brl = item.priced(Currency.USD), item.priced(Currency.BRL)
        for cycle in BillingCycle:
            dollars, reais = usd.price_minor(cycle), brl.price_minor(cycle)
            assert reais % 100 == 90, (item.id, cycle, reais)
            assert reais + 10 == (dollars * 55 + 500) // 1000 * 100, (item.id, cycle)
