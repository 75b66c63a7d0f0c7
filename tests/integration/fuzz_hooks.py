"""Schemathesis hooks of the API fuzz run (``test_openapi_fuzz.py``): input that outside
clients sent and Beffroi once mishandled, generated on every route, and what each must get.

- Non-finite numbers (``NaN``, ``Infinity``, ``1e999``) in JSON bodies: never accepted.
- Strange header values (non-ASCII, long) in ``X-CSRF-Token``, ``If-None-Match``,
  ``Cookie`` and ``Authorization``: wrong credentials like any other (never a 500); a
  console session with a wrong CSRF token changes nothing; no credentials, no answer.
- Dates far out of range in date and date-time query parameters: refused.
- An unknown value in any query parameter but the free-text ones: refused.
- And no answer carries ``NaN`` or ``Infinity``.

Each is sometimes put in place of what the fuzzer generated (a case keeps its generated
value most of the time, so the rest of the run goes on as before). The test gives what
it seeded in ``BEFFROI_FUZZ_SETUP`` (JSON): the run's bearer token and console session,
plausible command bodies (so that a non-finite number reaches the deep paths), and the
kind of each query parameter of each operation.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, date, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

SETUP: dict[str, Any] = json.loads(os.environ.get("BEFFROI_FUZZ_SETUP", "{}"))
# Says what a case was given on purpose, for the auth below and for the checks (and for
# whoever reads a failure's curl line).
MARK = "X-Beffroi-Fuzz"
SESSION = "session"  # a console session cookie instead of the bearer token
ANONYMOUS = "anonymous"  # no valid credentials at all
UNKNOWN = "zz-no-such-value"
# Query parameters whose values are free text (ids, names, prefixes, cursors): an unknown
# value matches nothing there; every other parameter must refuse one.
FREE_TEXT = frozenset(
    {
        "q",
        "idPattern",  # NGSI-LD: a regular expression over entity ids
        "cursor",
        "asset_id",
        "batch_id",
        "parent",
        "actor",
        "action",
        "target_type",
        "target_id",
        "assigned_to",
        "alarm_type",
        "username",
        "reason",
        # The video register's search: an agent's name and a camera id are searched as
        # written (a camera since removed keeps its entries for three years).
        "agent",
        "camera_id",
        # Open311: tickets are random strings; an unknown one matches nothing.
        "service_request_id",
        # Mobility: a controller id and a transit line id (GTFS route_id), as written.
        "controller_id",
        "line",
    }
)
EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)
EXTREME = {
    "date": ["0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01"],
    "date-time": [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z",
        "2101-01-01T00:00:00Z",
        "1899-12-31T23:59:59+00:00",
    ],
}
# NaN half of the time: it passes minimum and maximum alike, where Infinity fails one.
NON_FINITE = st.one_of(
    st.just("NaN"), st.sampled_from(["Infinity", "-Infinity", "1e999", "-1E400"])
)
PLACEHOLDER = "__beffroi_not_finite__"
# Routes that take no person's credentials: the sign-in, device ingest (whose device
# token the run's configuration sets) and the public side (Open311: anyone may report; the
# open data API, DATEX II).
PUBLIC = (
    "/api/v1/auth/login",
    "/api/v1/devices/",
    "/api/health",
    "/open311/",
    "/api/explore/",
    "/api/datex2/",  # road situations for navigation services (docs/roads.md)
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def _sometimes(strategy: st.SearchStrategy[Any], base: Any, weight: int = 3) -> Any:
    """``base`` ``weight`` times out of ``weight + 1``, else a draw of ``strategy``."""
    return st.one_of(*[st.just(base)] * weight, strategy)


# --- strange header values ----------------------------------------------------------------

# Latin-1 text as the server reads header bytes: é as one byte, é and ☃ as UTF-8 bytes.
_ODD = st.sampled_from(["é", "Ã©", "â\x98\x83", "\xff\xfe", "ü" * 3])
# Header text as requests sends it: Latin-1, no control character, none leading blank.
_LATIN_1 = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f\x85"),
    max_size=40,
)
STRANGE = st.one_of(
    _ODD,
    st.builds(lambda odd, n: "x" * n + odd, _ODD, st.sampled_from([500, 4000, 7000])),
    st.builds(lambda odd, text: odd + text, _ODD, _LATIN_1),
)


def _strange_headers(kind: str, value: str) -> dict[str, str]:
    if kind == "csrf":
        return {"X-CSRF-Token": value, MARK: SESSION}
    if kind == "if-none-match":
        return {"If-None-Match": value}
    if kind == "cookie":
        return {"Cookie": f"beffroi_session={value}", MARK: ANONYMOUS}
    return {"Authorization": f"Bearer {value}", MARK: ANONYMOUS}


@schemathesis.hook
def flatmap_headers(context: Any, headers: dict[str, Any] | None) -> Any:
    """Sometimes a strange value in one of the headers Beffroi reads."""
    base = dict(headers or {})
    strange = st.builds(
        lambda kind, value: {**base, **_strange_headers(kind, value)},
        st.sampled_from(["csrf", "if-none-match", "cookie", "authorization"]),
        STRANGE,
    )
    return _sometimes(strange, base)


@schemathesis.auth()
class Credentials:
    """The run's bearer token; a console session, or nothing, where a case asks for it."""

    def get(self, case: Any, context: Any) -> str:
        return str(SETUP.get("token", ""))

    def set(self, case: Any, data: str, context: Any) -> None:
        headers = case.headers = dict(case.headers or {})
        mark = headers.get(MARK)
        if mark == SESSION:
            headers["Cookie"] = f"beffroi_session={SETUP.get('session', '')}"
        elif mark != ANONYMOUS:
            headers["Authorization"] = f"Bearer {data}"


# --- non-finite numbers in bodies ---------------------------------------------------------


def _numbers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of the numbers in a JSON value (booleans are not numbers)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _numbers(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _numbers(v, (*path, i))]
    return []


def _with_non_finite(body: Any, path: tuple[Any, ...], token: str) -> bytes:
    """``body`` as JSON text with ``token`` written where ``path`` points."""
    copy = json.loads(json.dumps(body))
    if not path:
        copy = PLACEHOLDER
    else:
        parent = copy
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = PLACEHOLDER
    return json.dumps(copy).replace(json.dumps(PLACEHOLDER), token).encode()


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Sometimes a plausible body (a command that would be sent), then sometimes a
    non-finite number in place of one of the body's numbers."""
    plausible = SETUP.get("bodies", {}).get(_label(context.operation), [])
    bodies = (
        st.one_of(st.just(body), st.sampled_from(plausible), st.sampled_from(plausible))
        if plausible
        else st.just(body)
    )

    def spoil(value: Any) -> Any:
        paths = _numbers(value)
        if not paths or isinstance(value, bytes):
            return st.just(value)
        spoiled = st.builds(
            lambda path, token: _with_non_finite(value, path, token),
            st.sampled_from(paths),
            NON_FINITE,
        )
        if value in plausible:  # chosen to carry one
            return st.one_of(st.just(value), spoiled, spoiled)
        return _sometimes(spoiled, value, weight=2)

    return bodies.flatmap(spoil)


# --- dates and unknown values in queries --------------------------------------------------


@schemathesis.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """Sometimes a date far out of range, or an unknown value, in one query parameter."""
    base = dict(query or {})
    kinds: dict[str, str] = SETUP.get("query", {}).get(_label(context.operation), {})
    spoiled = []
    dated = sorted(name for name, kind in kinds.items() if kind in EXTREME)
    if dated:
        spoiled.append(
            st.sampled_from(dated).flatmap(
                lambda name: st.sampled_from(EXTREME[kinds[name]]).map(
                    lambda value: {**base, name: value}
                )
            )
        )
    closed = sorted(name for name in kinds if name not in FREE_TEXT)
    if closed:

        def unknown(name: str, mixed: bool) -> dict[str, Any]:
            given = base.get(name)
            both = mixed and isinstance(given, str) and given
            return {**base, name: f"{given},{UNKNOWN}" if both else UNKNOWN}

        spoiled.append(st.builds(unknown, st.sampled_from(closed), st.booleans()))
    return _sometimes(st.one_of(spoiled), base) if spoiled else st.just(base)


# --- what the answers must be -------------------------------------------------------------


def _accepted(response: Any) -> bool:
    return 200 <= int(response.status_code) < 300


def _must_refuse(response: Any, name: str, value: str) -> None:
    # Refused, whatever for: another parameter of the case may be refused first (which
    # one a 422 names is the regression tests' business).
    if _accepted(response):
        raise AssertionError(
            f"{name}={value[:80]} was answered {response.status_code}: {response.content[:300]!r}"
        )


def _not_finite(value: Any) -> bool:
    if isinstance(value, bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_not_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_not_finite(v) for v in value)
    return False


@schemathesis.check
def non_finite_numbers_are_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """A body holding NaN or Infinity is never accepted."""
    if _not_finite(case.body) and _accepted(response):
        raise AssertionError(
            f"a body with a non-finite number was accepted ({response.status_code})"
        )
    return None


def _out_of_range(kind: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        if kind == "date":
            return not EARLIEST <= date.fromisoformat(value) <= LATEST
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    if moment.tzinfo is None:
        return False  # refused for its missing offset, not its range
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return True
    return not EARLIEST <= utc.date() <= LATEST


@schemathesis.check
def dates_out_of_range_are_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """A date or instant outside 1900-2100 is refused."""
    kinds: dict[str, str] = SETUP.get("query", {}).get(_label(case.operation), {})
    for name, value in (case.query or {}).items():
        if kinds.get(name) in EXTREME and _out_of_range(kinds[name], value):
            _must_refuse(response, name, value)
    return None


@schemathesis.check
def unknown_values_are_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """An unknown value in a query parameter that is not free text is refused."""
    for name, value in (case.query or {}).items():
        if name not in FREE_TEXT and isinstance(value, str) and UNKNOWN in value:
            _must_refuse(response, name, value)
    return None


@schemathesis.check
def strange_credentials_change_nothing(ctx: Any, response: Any, case: Any) -> bool | None:
    """Without valid credentials nothing is answered; a session whose CSRF token is wrong
    changes nothing."""
    path = str(case.operation.path)
    if path.startswith(PUBLIC):
        return None
    mark = (case.headers or {}).get(MARK)
    unsafe = case.operation.method.upper() in UNSAFE
    if (mark == ANONYMOUS or (mark == SESSION and unsafe)) and _accepted(response):
        raise AssertionError(f"{mark} request answered {response.status_code}")
    return None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} in a JSON answer")


@schemathesis.check
def answers_are_strict_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """No JSON answer carries NaN, Infinity or a number too large for a double."""
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type")
    media = (content_type[0] if isinstance(content_type, list) else str(content_type or "")).lower()
    if "json" not in media or not response.content:
        return None

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text} in a JSON answer")
        return value

    try:
        json.loads(response.content, parse_constant=_refuse_constant, parse_float=number)
    except ValueError as exc:
        raise AssertionError(f"not strict JSON: {exc}") from None
    return None
