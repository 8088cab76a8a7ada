"""The authorization table (application/authorization.py), row by row: every action
driven through the JSON API and, where the page offers it, through the billing page's
forms (real session cookie and CSRF token), by every kind of caller. Allowed: the
action's success status. Refused: 403 ``billing_permission_required``, 404 across
accounts or 401 for the wrong kind of token, and not one row of the database changed.
"""

from __future__ import annotations

import httpx
import pytest

from application.authorization import TABLE, Action
from starter.api.app import create_app
from starter.web import routes as page_routes
from store.models import User
from tests.authorization_probes import NOT_SERVED_YET, PROBES, Call
from tests.authorization_support import (
    ACCOUNT_MEMBERS,
    ADDON,
    REFUSED_CODE,
    REFUSED_STATUS,
    Member,
    Outcome,
    PageUser,
    World,
    open_world,
    promised,
    quiet_rows,
    sign_in,
    token_of,
)
from tests.purchase_support import open_shop

MEMBERS = [*ACCOUNT_MEMBERS, Member.OTHER_ACCOUNT, Member.ADMIN_TOKEN]


def refused_first(action: Action) -> list[Member]:
    """The refused callers first: nothing an allowed one started is still writing."""
    return sorted(MEMBERS, key=lambda m: promised(TABLE[action].who, m) is Outcome.ALLOWED)


async def api_attempt(world: World, action: Action, call: Call, member: Member) -> None:
    probe = PROBES[action]
    ids = await probe.before(world) if probe.before else {}
    expected = promised(TABLE[action].who, member)
    headers = dict(world.headers[member])
    if call.key:
        headers["Idempotency-Key"] = world.unique("key")
    path = call.path.format(account_id=world.account_id, **ids)
    body = None if call.body is None else call.body(world)
    rows = None if expected is Outcome.ALLOWED else await quiet_rows(world.shop.sessions)
    response = await world.shop.api.request(call.method, path, json=body, headers=headers)
    said = f"{member} {call.method} {path}: {response.status_code} {response.text}"
    if expected is Outcome.ALLOWED:
        assert response.status_code == call.success, said
        return
    assert response.status_code == REFUSED_STATUS[expected], said
    assert response.json()["error"]["code"] == REFUSED_CODE[expected], said
    assert await quiet_rows(world.shop.sessions) == rows, f"{said}: the database changed"


async def page_attempt(
    world: World, action: Action, call: Call, member: Member, page: PageUser
) -> None:
    probe = PROBES[action]
    ids = await probe.before(world) if probe.before else {}
    expected = promised(TABLE[action].who, member)
    path = call.path.format(**ids)
    rows = await quiet_rows(world.shop.sessions)
    if call.method == "GET":
        response = await page.get(path)
    else:
        response = await page.post(path, {} if call.body is None else call.body(world))
    said = f"{member} {call.method} {path}: {response.status_code}"
    if expected is Outcome.ALLOWED:
        assert response.status_code == call.success, f"{said} {response.text}"
        assert call.lands in response.headers.get("location", ""), said
        return
    if member is Member.OTHER_ACCOUNT and call.method == "GET":
        # Their own page, or not found: nothing of this account, nor of its resources.
        assert response.status_code == call.elsewhere, said
        shown = [world.account_id, *ids.values()]
        assert not any(value in response.text for value in shown), said
    else:  # back to the page, which says why; nothing about the purchase is told
        location = response.headers.get("location", "")
        assert response.status_code == 303, said
        assert location == f"/billing?notice={REFUSED_CODE[expected]}", (said, location)
    assert await quiet_rows(world.shop.sessions) == rows, f"{said}: the database changed"


def addresses_a_resource(call: Call) -> bool:
    return "{" in call.path


@pytest.mark.parametrize("action", sorted(set(Action) - set(NOT_SERVED_YET)))
async def test_every_caller_gets_what_the_table_says(
    action: Action, time_skipping_env, sessions, database_url
):
    probe = PROBES[action]
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        world = await open_world(shop)
        if probe.setup is not None:
            await probe.setup(world)
        for member in refused_first(action):
            for call in probe.api:
                await api_attempt(world, action, call, member)
        for member in refused_first(action):
            if not probe.page:
                break
            if member is Member.ADMIN_TOKEN:  # not a user's token: the page takes none
                refused = await sign_in(shop.api, token_of(world, member))
                assert isinstance(refused, httpx.Response) and refused.status_code == 401
                continue
            page = await sign_in(shop.api, token_of(world, member))
            assert isinstance(page, PageUser)
            for call in probe.page:
                # The page acts only on its user's own account: another account's user
                # can address this one only through a resource's id.
                if member is Member.OTHER_ACCOUNT and not addresses_a_resource(call):
                    continue
                await page_attempt(world, action, call, member, page)


def test_every_action_is_probed_and_every_probe_is_in_the_table():
    assert set(PROBES) | set(NOT_SERVED_YET) == set(Action) == set(TABLE)
    served = create_app().openapi()["paths"]
    for action, path in NOT_SERVED_YET.items():
        assert path not in served, f"{action} is served now: add its calls to PROBES"


def test_the_page_never_addresses_an_account():
    """Every page form acts on the signed-in user's own account."""
    paths = [getattr(route, "path", "") for route in page_routes.router.routes]
    assert paths and not any("account" in path for path in paths)


async def test_a_replayed_key_never_answers_a_caller_who_may_not(
    time_skipping_env, sessions, database_url
):
    """The same Idempotency-Key as an allowed caller's request: refused, not replayed."""
    async with open_shop(time_skipping_env, sessions, database_url) as shop:
        quote = await shop.buy(ADDON, key="k-1")
        assert quote.status_code == 201, quote.text
        replay = await shop.buy(ADDON, who=shop.plain, key="k-1")
        assert (replay.status_code, refusal(replay)) == (403, "billing_permission_required")
        assert "purchase" not in replay.json()["error"]
        purchase_id = quote.json()["purchase_id"]
        confirm = f"/v1/accounts/{shop.account_id}/sms/purchases/{purchase_id}/confirm"
        done = await shop.api.post(confirm, headers={**shop.admin, "Idempotency-Key": "c-1"})
        assert done.status_code == 200, done.text
        again = await shop.api.post(confirm, headers={**shop.plain, "Idempotency-Key": "c-1"})
        assert (again.status_code, refusal(again)) == (403, "billing_permission_required")
        assert "completed" not in again.text


async def test_the_workflow_checks_the_permission_as_stored_now(
    time_skipping_env, sqlite_sessions, sqlite_url
):
    """A permission revoked while the API still remembers the token: the purchase's own
    check reads the user as stored now and rejects it."""
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        page = await shop.api.get(f"/v1/accounts/{shop.account_id}/sms", headers=shop.biller)
        assert page.status_code == 200  # the token's caller is remembered for a few seconds
        with shop.sessions.begin() as session:
            user = session.get(User, (shop.account_id, "bill"))
            assert user is not None
            user.billing_permission = False
        refused = await shop.buy(ADDON, who=shop.biller)
        assert (refused.status_code, refusal(refused)) == (403, "billing_permission_required")
        rejected_id = refused.json()["error"]["purchase"]["purchase_id"]
        got = await shop.api.get(
            f"/v1/accounts/{shop.account_id}/sms/purchases/{rejected_id}", headers=shop.admin
        )
        assert (got.json()["status"], got.json()["failure"]["code"]) == (
            "rejected",
            "billing_permission_required",
        )
        assert shop.counts() == (0, 0)


def refusal(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])
