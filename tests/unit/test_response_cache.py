"""The cache of rendered responses: bounded in bytes, least recently used out first."""

from __future__ import annotations

from beffroi.http.cache import Cached, ResponseCache


def test_the_least_recently_used_bodies_make_room() -> None:
    cache = ResponseCache(max_bytes=10)
    cache.put("a", Cached(b"aaaa"))
    cache.put("b", Cached(b"bbbb", "next"))
    assert cache.get("a") == Cached(b"aaaa"), "a is now the most recently used"
    cache.put("c", Cached(b"cccc"))
    assert cache.get("b") is None
    assert cache.get("a") == Cached(b"aaaa")
    assert cache.get("c") == Cached(b"cccc")


def test_a_body_larger_than_the_cache_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=10)
    cache.put("a", Cached(b"aaaa"))
    cache.put("big", Cached(b"x" * 11))
    assert cache.get("big") is None
    assert cache.get("a") == Cached(b"aaaa"), "nothing was evicted for it"


def test_an_entry_put_again_is_counted_once() -> None:
    cache = ResponseCache(max_bytes=10)
    for _ in range(5):
        cache.put("a", Cached(b"aaaa"))
    cache.put("b", Cached(b"bbbb"))
    assert cache.get("a") is not None
    assert cache.get("b") is not None
