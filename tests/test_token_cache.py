"""The token cache forgets entries after its TTL and stays bounded."""

from __future__ import annotations

from application import token_cache
from application.token_cache import TtlCache


def test_entries_expire_after_the_ttl():
    now = [100.0]
    cache = TtlCache[str](5.0, clock=lambda: now[0])
    cache.put("digest", "ana")
    assert cache.get("digest") == "ana"
    now[0] += 5.0
    assert cache.get("digest") is None


def test_a_zero_ttl_caches_nothing():
    cache = TtlCache[str](0.0)
    cache.put("digest", "ana")
    assert cache.get("digest") is None


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(token_cache, "MAX_ENTRIES", 3)
    cache = TtlCache[int](60.0)
    for n in range(10):
        cache.put(str(n), n)
    assert len(cache._entries) <= 3
    assert cache.get("9") == 9
