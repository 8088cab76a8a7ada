"""The billing page over HTTP, without a browser: signed in as a shop's primary admin,
its forms submitted as a browser would (CSRF token, request key), its HTML read."""

from __future__ import annotations

import re
import uuid
from html import unescape

import httpx

from tests.purchase_support import Shop


def text_of(html: str, element_id: str) -> str | None:
    """The text inside the element with ``element_id``, its tags stripped; None if absent."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:dd|td|p|span)>', html, re.S)
    return None if found is None else unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


class PageVisit:
    """The billing page over HTTP, signed in as the shop's primary admin."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.client: httpx.AsyncClient = shop.api

    async def sign_in(self) -> None:
        form = await self.client.get("/billing/sign-in")
        token = self.shop.admin["Authorization"].removeprefix("Bearer ")
        signed = await self.client.post(
            "/billing/sign-in", data={"api_token": token, "csrf_token": self.csrf(form.text)}
        )
        assert signed.status_code == 303, signed.text

    @staticmethod
    def csrf(html: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found is not None
        return found.group(1)

    async def html(self, query: str = "") -> str:
        page = await self.client.get(f"/billing{query}")
        assert page.status_code == 200, page.text
        return page.text

    async def post(self, path: str, **fields: str) -> str:
        """Submit one of the page's forms; answers where the page sent the browser."""
        data = {"csrf_token": self.csrf(await self.html()), **fields}
        answer = await self.client.post(f"/billing{path}", data=data)
        assert answer.status_code == 303, answer.text
        return str(answer.headers["location"]).removeprefix("/billing")

    async def review(self, **item: str) -> tuple[str, str]:
        """Add to plan / Continue: the purchase's id and its Review purchase dialog."""
        where = await self.post("/purchases", request_key=uuid.uuid4().hex, **item)
        found = re.search(r"purchase=(pur_\w+)", where)
        assert found is not None and "notice" not in where, where
        return found.group(1), await self.html(where)

    async def confirm(self, purchase_id: str) -> None:
        where = await self.post(f"/purchases/{purchase_id}/confirm")
        assert "notice=purchase_completed" in where, where
