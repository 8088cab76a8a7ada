"""The README stays true: the walkthrough `make run` prints, the A2P 10DLC example
(also the OpenAPI example, accepted by the real API) and every workflow message
an operator can send."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from temporalio.workflow import _Definition

import worker
from config.settings import Settings
from devstack.demo import walkthrough
from domain.registration import RegistrationDetails
from domain.registration_example import EXAMPLE_REGISTRATION
from starter.api.app import create_app
from tests.registration_support import stack

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_the_readme_shows_the_walkthrough_make_run_prints():
    assert f"Then walk through the flow:\n{walkthrough()}\n```" in README


def test_the_a2p_example_is_complete_and_is_the_openapi_example():
    shown = re.search(r"## US sending.*?```json\n(.*?)```", README, re.DOTALL)
    assert shown is not None
    assert json.loads(shown.group(1)) == EXAMPLE_REGISTRATION
    details = RegistrationDetails.model_validate(EXAMPLE_REGISTRATION)
    assert details.model_dump(mode="json", exclude_unset=True) == EXAMPLE_REGISTRATION
    # Every field, the optional ones too, so no one has to assemble it from the schema.
    assert details.model_fields_set == set(RegistrationDetails.model_fields)
    assert details.brand.model_fields_set == set(type(details.brand).model_fields)
    assert details.campaign.model_fields_set == set(type(details.campaign).model_fields)
    schema = create_app(Settings()).openapi()["components"]["schemas"]["RegistrationDetails"]
    assert schema["examples"] == [EXAMPLE_REGISTRATION]


async def test_the_real_api_accepts_the_example(time_skipping_env, sqlite_sessions, sqlite_url):
    async with stack(time_skipping_env, sqlite_sessions, sqlite_url) as s:
        submitted = await s.submit(EXAMPLE_REGISTRATION)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["status"] == "brand_pending"


@pytest.mark.parametrize("workflow", worker.WORKFLOWS, ids=lambda cls: cls.__name__)
def test_the_operator_table_lists_every_message(workflow: type):
    definition = _Definition.must_from_class(workflow)
    row = next(
        line
        for line in README.splitlines()
        if line.startswith("| ") and f"(`{definition.name}`)" in line
    )
    handlers = [*definition.signals, *definition.queries, *definition.updates]
    missing = [name for name in handlers if name is not None and f"`{name}`" not in row]
    assert missing == [], f"README's operator table omits {missing} of {definition.name}"
