"""The billing page's sign-in and forms over HTTP: its headers (a strict CSP, no
framing, no caching) and cookie flags (HttpOnly, SameSite=Strict, Secure over HTTPS),
CSRF, what is stored, sign-out, permission before anything about a purchase; and its
catalogues (every string translated)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from application.security import hash_token
from starter.web.i18n import LOCALES_DIR
from store.caller_models import BillingPageSession
from store.models import Purchase
from tests.purchase_support import open_shop
from tests.support import settings_for

ADDON = {"type": "addon", "tier": "sms-1000"}
PACK = {"type": "credit_pack", "pack": "pack-500"}
API_MD_PT_BR = [
    "Token da API", "Entrar", "Faturamento e Upgrade", "Editar", "Adicionais",
    "Adicionar ao plano", "Revisar compra", "Confirmar compra", "Continuar",
]  # fmt: skip


@pytest.fixture
async def shop(time_skipping_env, sqlite_sessions, sqlite_url):
    async with open_shop(time_skipping_env, sqlite_sessions, sqlite_url) as shop:
        yield shop


def csrf_of(response: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1)


def set_cookie(response: httpx.Response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers
    return headers[0]


async def test_sign_in_session_csrf_and_sign_out(shop):
    api = shop.api
    token = shop.admin["Authorization"].removeprefix("Bearer ")
    assert (await api.get("/billing")).headers["location"] == "/billing/sign-in"

    form = await api.get("/billing/sign-in")
    assert "default-src 'self'" in form.headers["content-security-policy"]
    flags = set_cookie(form, "sms_billing_sign_in").lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/billing" in flags
    # Without the form's CSRF token, or with an unknown API token, nobody is signed in.
    refused = await api.post("/billing/sign-in", data={"api_token": token})
    assert refused.status_code == 403
    unknown = await api.post(
        "/billing/sign-in", data={"api_token": "sms_nope", "csrf_token": csrf_of(form)}
    )
    assert unknown.status_code == 401 and "not recognised" in unknown.text

    form = await api.get("/billing/sign-in")
    signed = await api.post(
        "/billing/sign-in", data={"api_token": token, "csrf_token": csrf_of(form)}
    )
    assert (signed.status_code, signed.headers["location"]) == (303, "/billing")
    cookie = set_cookie(signed, "sms_billing_session")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    session_id = cookie.split(";")[0].split("=", 1)[1]
    assert token not in cookie
    with shop.sessions() as session:
        rows = session.scalars(select(BillingPageSession)).all()
    # Only digests are kept: of the session id and of the API token.
    assert [(r.session_hash, r.token_hash) for r in rows] == [
        (hash_token(session_id), hash_token(token))
    ]

    page = await api.get("/billing")
    assert page.status_code == 200 and "0 SMS credits" in page.text
    assert token not in page.text
    # A form without the session's CSRF token does nothing.
    forged = await api.post("/billing/purchases", data={"tier": "sms-1000"})
    assert forged.status_code == 403
    with shop.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Purchase)) == 0

    out = await api.post("/billing/sign-out", data={"csrf_token": csrf_of(page)})
    assert out.headers["location"].startswith("/billing/sign-in")
    with shop.sessions() as session:
        assert session.scalar(select(func.count()).select_from(BillingPageSession)) == 0
    # The old cookie, replayed, no longer signs anyone in.
    replay = await api.get("/billing", headers={"Cookie": f"sms_billing_session={session_id}"})
    assert replay.headers["location"] == "/billing/sign-in"


# The page's headers (starter/web/rendering.py), directive by directive: everything
# from the service itself, no inline script or style, no framing, no <base>.
CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
}
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in policy.split(";") if d.strip())}


def assert_strict_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html"), response.status_code
    assert directives(response.headers["content-security-policy"]) == CSP
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    # The policy forbids inline code, so the page has none that it would block.
    assert not INLINE.search(response.text), INLINE.search(response.text)


PAGE_COOKIE = {"httponly": "", "path": "/billing", "samesite": "strict"}


def attributes(cookie: str) -> dict[str, str]:
    """A Set-Cookie header's attributes, names lower-cased (``httponly`` → "")."""
    _, *parts = (part.strip() for part in cookie.split(";"))
    return {name.lower(): value for name, _, value in (p.partition("=") for p in parts)}


async def test_every_page_keeps_the_strict_headers(shop):
    api = shop.api
    token = shop.admin["Authorization"].removeprefix("Bearer ")
    form = await api.get("/billing/sign-in")
    unknown = await api.post(
        "/billing/sign-in", data={"api_token": "sms_nope", "csrf_token": csrf_of(form)}
    )
    expired = await api.post("/billing/sign-in", data={"api_token": token})
    page = await signed_in(api, shop.admin)
    forged = await api.post("/billing/purchases", data={"tier": "sms-1000"})
    answers = [form, unknown, expired, page, forged]
    assert [a.status_code for a in answers] == [200, 401, 403, 200, 403]
    for answer in answers:
        assert_strict_headers(answer)


async def test_cookies_are_http_only_same_site_strict_and_kept_to_the_page(shop, sqlite_url):
    api = shop.api
    token = shop.admin["Authorization"].removeprefix("Bearer ")
    form = await api.get("/billing/sign-in")
    # The sign-in form's CSRF cookie lasts only as long as the browser's session.
    assert attributes(set_cookie(form, "sms_billing_sign_in")) == PAGE_COOKIE

    signed = await api.post(
        "/billing/sign-in", data={"api_token": token, "csrf_token": csrf_of(form)}
    )
    lifetime = str(int(settings_for(sqlite_url).sms_billing_session_hours * 3600))
    session = attributes(set_cookie(signed, "sms_billing_session"))
    assert session == {**PAGE_COOKIE, "max-age": lifetime}
    # Signing in ends the form's cookie, and signing out the session's, each with the
    # attributes it was set with (a browser keeps a cookie cleared with others).
    page = await api.get("/billing")
    out = await api.post("/billing/sign-out", data={"csrf_token": csrf_of(page)})
    for answer, name in ((signed, "sms_billing_sign_in"), (out, "sms_billing_session")):
        cleared = attributes(set_cookie(answer, name))
        assert cleared["max-age"] == "0" and PAGE_COOKIE.items() <= cleared.items(), cleared


async def test_over_https_the_cookies_are_secure(shop):
    token = shop.admin["Authorization"].removeprefix("Bearer ")
    form = await shop.api.get("https://test/billing/sign-in")
    assert "secure" in attributes(set_cookie(form, "sms_billing_sign_in"))
    signed = await shop.api.post(
        "https://test/billing/sign-in", data={"api_token": token, "csrf_token": csrf_of(form)}
    )
    assert "secure" in attributes(set_cookie(signed, "sms_billing_session"))
    # Over plain HTTP (development) a Secure cookie would never come back.
    plain = await shop.api.get("http://test/billing/sign-in")
    assert "secure" not in attributes(set_cookie(plain, "sms_billing_sign_in"))


async def signed_in(api: httpx.AsyncClient, who: dict[str, str]) -> httpx.Response:
    """Sign ``who`` in to the page; the page."""
    form = await api.get("/billing/sign-in")
    token = who["Authorization"].removeprefix("Bearer ")
    signed = await api.post(
        "/billing/sign-in", data={"api_token": token, "csrf_token": csrf_of(form)}
    )
    assert signed.status_code == 303, signed.text
    return await api.get("/billing")


async def test_without_the_billing_permission_nothing_about_a_purchase_is_told(shop):
    """Permission comes first: her confirm or cancel is refused for the permission
    whatever the purchase's state, and changes nothing."""
    done = await shop.bought(ADDON)
    awaiting = (await shop.buy(PACK)).json()["purchase_id"]
    csrf = csrf_of(await signed_in(shop.api, shop.plain))
    for purchase_id in (done["purchase_id"], awaiting):
        for decision in ("confirm", "cancel"):
            answer = await shop.api.post(
                f"/billing/purchases/{purchase_id}/{decision}", data={"csrf_token": csrf}
            )
            assert answer.status_code == 303
            query = parse_qs(urlsplit(answer.headers["location"]).query)
            assert query["notice"] == ["billing_permission_required"], (purchase_id, decision)
    still = await shop.api.get(
        f"/v1/accounts/{shop.account_id}/sms/purchases/{awaiting}", headers=shop.admin
    )
    assert still.json()["status"] == "awaiting_confirmation"
    assert shop.counts() == (1, 1)


async def test_the_language_follows_accept_language(shop):
    page = await shop.api.get("/billing/sign-in", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    assert page.headers["content-language"] == "pt-BR"
    assert '<html lang="pt-BR">' in page.text
    assert "Token da API" in page.text and "Entrar" in page.text
    english = await shop.api.get("/billing/sign-in", headers={"Accept-Language": "fr, en;q=0.5"})
    assert "API token" in english.text and "Sign in" in english.text


def test_every_string_has_its_translation():
    """The catalogues hold every message of the templates and the page's code, and
    the Portuguese one translates each (with API.md's own labels)."""
    root = LOCALES_DIR.parent
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(root, method_map, keywords=keywords)
    }
    catalogues = {}
    for locale in ("en", "pt_BR"):
        with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalogues[locale] = read_po(po)
    for locale, catalogue in catalogues.items():
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
        assert extracted == ids, (locale, extracted ^ ids)
    portuguese = catalogues["pt_BR"]
    untranslated = [m.id for m in portuguese if m.id and not all(m.string or [""])]
    assert not untranslated
    translated = {m.string for m in portuguese if m.id and isinstance(m.string, str)}
    assert set(API_MD_PT_BR) <= translated
