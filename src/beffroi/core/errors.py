"""Domain errors. Services raise them; the web layer turns them into RFC 9457 problems,
the CLI into a clear message and an exit code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with the input: where (a dotted field path, maybe a row) and why."""

    field: str
    message: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form used in problem documents and import reports."""
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}: {self.message}"


class BeffroiError(Exception):
    """Base of the errors a service raises on purpose."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(BeffroiError):
    """The input breaks a rule; ``errors`` names each bad field."""

    status = 422
    slug = "invalid-input"
    title = "Invalid input"

    def __init__(self, errors: list[FieldError] | FieldError, detail: str | None = None) -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        text = detail or "; ".join(str(e) for e in self.errors[:5])
        if len(self.errors) > 5:
            text += f"; and {len(self.errors) - 5} more"
        super().__init__(text, errors=[e.as_dict() for e in self.errors])


class NotAuthenticated(BeffroiError):
    """No valid credentials were given."""

    status = 401
    slug = "not-authenticated"
    title = "Authentication required"


class PermissionDenied(BeffroiError):
    """The caller is known but may not do this (role or commune scope)."""

    status = 403
    slug = "permission-denied"
    title = "Permission denied"


class NotFound(BeffroiError):
    """The target does not exist, or is outside the caller's scope (indistinguishably)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(BeffroiError):
    """The request conflicts with the current state (duplicate, stale version, transition)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class TooManyRequests(BeffroiError):
    """A client went over its rate limit; ``retry_after`` says in how many seconds to retry."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


def refuse_nulls(given: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Refuse an update that sets to null a field it may only leave out or change.

    A partial update reads an omitted field as "keep"; an explicit null on a required
    column would otherwise reach the database as an integrity error.
    """
    nulls = [name for name in fields if name in given and given[name] is None]
    if nulls:
        raise InvalidInput([FieldError(name, "cannot be null") for name in nulls])
