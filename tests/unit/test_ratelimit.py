"""The public side's rate limiter: counts per bucket and client, tells when to retry."""

from __future__ import annotations

import pytest

from beffroi.config import ConfigError, load_settings
from beffroi.core.errors import TooManyRequests
from beffroi.http.ratelimit import RateLimiter


async def test_a_client_over_its_rate_is_refused_with_a_delay() -> None:
    limiter = RateLimiter("memory://")
    try:
        await limiter.check("opendata", "10.0.0.1", "2/minute")
        await limiter.check("opendata", "10.0.0.1", "2/minute")
        with pytest.raises(TooManyRequests) as refused:
            await limiter.check("opendata", "10.0.0.1", "2/minute")
        assert 1 <= refused.value.retry_after <= 60
        assert "2/minute" in refused.value.detail
        # Another client, and the same client in another bucket, count apart.
        await limiter.check("opendata", "10.0.0.2", "2/minute")
        await limiter.check("reports", "10.0.0.1", "2/minute")
    finally:
        await limiter.close()


def test_an_unknown_storage_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="BEFFROI_RATE_LIMIT_STORAGE"):
        load_settings(rate_limit_storage="ftp://nowhere")
