"""The console page's Content-Security-Policy and the tile server it lets in."""

from __future__ import annotations

import pytest

from beffroi.config import ConfigError, load_settings
from beffroi.console.static import content_security_policy, portal_html


def test_the_page_trusts_this_server_and_the_tile_server_only() -> None:
    plain = content_security_policy(load_settings())
    assert "script-src 'self';" in plain
    assert "img-src 'self' data: blob:;" in plain
    tiles = load_settings(console_tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: https://*.tile.example.org;" in content_security_policy(
        tiles
    )


@pytest.mark.parametrize(
    "url",
    ["https://x.org/; script-src 'unsafe-inline'", "javascript:alert(1)", "https://a b.org/"],
)
def test_a_tile_url_that_could_bend_the_policy_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="BEFFROI_CONSOLE_TILE_URL"):
        load_settings(console_tile_url=url)


def test_the_portal_page_is_given_the_tile_server_escaped_and_nothing_else() -> None:
    page = "<html><head><title>x</title></head><body></body></html>"
    assert portal_html(page, load_settings()) == page
    tiles = load_settings(console_tile_url="https://tiles.example/{z}/{x}/{y}.png?a=1&b=2")
    given = portal_html(page, tiles)
    assert (
        '<meta name="beffroi-tiles" content="https://tiles.example/{z}/{x}/{y}.png?a=1&amp;b=2" />'
        in given
    )
    assert given.index("beffroi-tiles") < given.index("</head>")
    assert "<script" not in given
