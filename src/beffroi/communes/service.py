"""Use cases of communes: list, resolve, create, import."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.models import Commune
from beffroi.communes.schemas import CommuneIn
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.usecase import change

DEFAULT_COMMUNES = "dijon-metropole-communes.csv"


def slugify(name: str) -> str:
    """An ASCII, lower-case, hyphenated code from a commune name ("Chenôve" -> "chenove")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64]


async def list_communes(ctx: Context) -> Sequence[Commune]:
    """The communes in the caller's scope, by name."""
    ctx.principal.require(Permission.ASSET_READ)
    stmt = select(Commune).where(ctx.principal.scope_clause(Commune.code)).order_by(Commune.name)
    async with ctx.db.read() as session:
        return (await session.execute(stmt)).scalars().all()


async def resolve(session: AsyncSession, ref: str, field: str = "commune") -> Commune:
    """The commune named by code or name (case-insensitive), or an error naming ``field``."""
    stmt = select(Commune).where(
        or_(Commune.code == ref.lower(), func.lower(Commune.name) == ref.lower())
    )
    commune = (await session.execute(stmt)).scalar_one_or_none()
    if commune is None:
        raise InvalidInput(FieldError(field, f"unknown commune {ref!r}"))
    return commune


async def resolve_codes(session: AsyncSession, refs: Sequence[str], field: str) -> list[str]:
    """Commune codes for a list of codes or names; each unknown one is named."""
    codes: list[str] = []
    errors: list[FieldError] = []
    for index, ref in enumerate(refs):
        try:
            codes.append((await resolve(session, ref, f"{field}[{index}]")).code)
        except InvalidInput as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return sorted(set(codes))


async def get_commune(ctx: Context, ref: str) -> Commune:
    """One commune by code or name, if in scope."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        try:
            commune = await resolve(session, ref)
        except InvalidInput:
            raise NotFound(f"commune {ref!r} not found") from None
    ctx.principal.require_visible(commune.code, f"commune {ref!r}")
    return commune


def parse_csv(text: str) -> tuple[list[CommuneIn], list[FieldError]]:
    """Parse a communes CSV (name, lat, lon, population[, code]); errors name row and field."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"name", "lat", "lon"} - set(reader.fieldnames or [])
    if missing:
        return [], [FieldError(name, "missing column", row=1) for name in sorted(missing)]
    rows: list[CommuneIn] = []
    errors: list[FieldError] = []
    for line, raw in enumerate(reader, start=2):
        data = {k: v for k, v in raw.items() if k and v not in (None, "")}
        try:
            rows.append(CommuneIn.model_validate(data))
        except ValidationError as exc:
            errors.extend(
                FieldError(".".join(str(p) for p in e["loc"]) or "row", e["msg"], row=line)
                for e in exc.errors()
            )
    return rows, errors


def _check_batch(communes: Sequence[CommuneIn]) -> list[str]:
    """The codes of a batch of communes, sorted; a missing or repeated code or name refuses
    it."""
    seen: set[str] = set()
    names: dict[str, str] = {}
    errors: list[FieldError] = []
    for index, item in enumerate(communes):
        code = item.code or slugify(item.name)
        if not code:
            errors.append(FieldError(f"[{index}].name", "gives an empty code; set code"))
        if code in seen:
            errors.append(FieldError(f"[{index}].code", f"duplicate code {code!r}"))
        if names.setdefault(item.name.lower(), code) != code:
            errors.append(FieldError(f"[{index}].name", f"duplicate name {item.name!r}"))
        seen.add(code)
    if errors:
        raise InvalidInput(errors)
    return sorted(seen)


async def import_communes(ctx: Context, communes: Sequence[CommuneIn]) -> int:
    """Create or update communes by code, all or nothing. Returns how many were written."""
    async with change(
        ctx, "commune.import", target_type="commune", refused_details={"count": len(communes)}
    ) as uc:
        ctx.principal.require(Permission.COMMUNE_WRITE)
        ctx.principal.require_commune(None)
        codes = _check_batch(communes)
        existing = {c.code: c for c in (await uc.session.execute(select(Commune))).scalars()}
        clashes = [
            FieldError(f"[{index}].name", f"{item.name!r} is the name of commune {row.code!r}")
            for index, item in enumerate(communes)
            for row in existing.values()
            if row.name.lower() == item.name.lower()
            and row.code != (item.code or slugify(item.name))
        ]
        if clashes:
            raise InvalidInput(clashes)
        for item in communes:
            code = item.code or slugify(item.name)
            row = existing.get(code)
            if row is None:
                uc.session.add(
                    Commune(
                        code=code,
                        name=item.name,
                        lat=item.lat,
                        lon=item.lon,
                        population=item.population,
                    )
                )
            else:
                row.name, row.lat, row.lon = item.name, item.lat, item.lon
                row.population = item.population
        uc.audit(details={"count": len(communes), "codes": codes[:50]})
    return len(communes)


async def create_commune(ctx: Context, item: CommuneIn) -> Commune:
    """Create one commune; a duplicate code or name is a conflict."""
    code = item.code or slugify(item.name)
    async with change(ctx, "commune.create", target_type="commune", target_id=code) as uc:
        ctx.principal.require(Permission.COMMUNE_WRITE)
        ctx.principal.require_commune(None)
        clash = await uc.session.execute(
            select(Commune.code).where(or_(Commune.code == code, Commune.name == item.name))
        )
        if clash.first() is not None:
            raise Conflict(f"commune {code!r} or {item.name!r} already exists")
        commune = Commune(
            code=code, name=item.name, lat=item.lat, lon=item.lon, population=item.population
        )
        uc.session.add(commune)
        uc.audit()
    return commune


def default_communes_csv(path: Path | None = None) -> str:
    """The communes file loaded into an empty database (Dijon métropole unless configured)."""
    if path is not None:
        return path.read_text(encoding="utf-8")
    return resources.files("beffroi.data").joinpath(DEFAULT_COMMUNES).read_text(encoding="utf-8")


async def ensure_default_communes(ctx: Context) -> int:
    """Load the default communes when there are none yet; returns how many were loaded."""
    async with ctx.db.read() as session:
        count = (await session.execute(select(func.count()).select_from(Commune))).scalar_one()
    if count:
        return 0
    rows, errors = parse_csv(default_communes_csv(ctx.settings.communes_file))
    if errors:
        raise InvalidInput(errors, "the default communes file is invalid")
    return await import_communes(ctx, rows)
