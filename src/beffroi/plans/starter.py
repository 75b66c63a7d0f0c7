"""The demo's winter plan, and a snow night played with it (``beffroi plans snow-night``).

The winter service's levels: 1 watch (people told, stocks checked), 2 salting (the
message signs warn drivers; the salting routes themselves are the winter service's
vehicles'), 3 heavy snow (every light at full power for the ploughs and pedestrians)."""

from __future__ import annotations

from beffroi.core.context import Context
from beffroi.core.principal import ActorKind, Principal, Role
from beffroi.core.vocabulary import Domain
from beffroi.plans import runs, templates
from beffroi.plans.lifecycle import AlertLevel
from beffroi.plans.schemas import (
    CrisisPlanCreate,
    NotifyListCreate,
    RunDecision,
    RunOut,
    RunStart,
)

WINTER_PLAN = "Plan neige (viabilité hivernale)"
WINTER_LIST = "Astreintes viabilité hivernale"
SIGN_TEXT = "NEIGE - VERGLAS | PRUDENCE"


async def seed_winter_plan(ctx: Context) -> int:
    """The metropolis's winter plan and its notification list, once; the plan's id."""
    plans = {p.name: p.id for p in await templates.list_plans(ctx)}
    if WINTER_PLAN in plans:
        return plans[WINTER_PLAN]
    lists = {n.name: n.id for n in await templates.list_lists(ctx)}
    list_id = lists.get(WINTER_LIST)
    if list_id is None:
        made = await templates.create_list(
            ctx,
            NotifyListCreate.model_validate(
                {
                    "name": WINTER_LIST,
                    "recipients": [
                        {
                            "name": "Chef d'astreinte",
                            "channel": "email",
                            "target": "astreinte-hiver@example.org",
                        }
                    ],
                }
            ),
        )
        list_id = made.id
    every = {"kind": "filter"}
    body = {
        "name": WINTER_PLAN,
        "kind": "snow",
        "description": "Veille, salage, neige forte: les niveaux du service hivernal.",
        "steps": [
            {
                "kind": "checklist",
                "title": "Veille",
                "items": [
                    "Bulletin Météo-France lu",
                    "Équipes de salage en astreinte",
                    "Stocks de sel vérifiés",
                ],
            },
            {
                "kind": "notify",
                "title": "Prévenir les astreintes",
                "list_id": list_id,
                "message": "Plan neige déclenché: rejoignez vos postes.",
            },
            {
                "kind": "command",
                "title": "Panneaux: neige et verglas",
                "min_level": int(AlertLevel.SALTING),
                "type": "message_sign",
                "name": "display",
                "params": {"text": SIGN_TEXT},
                "target": every,
            },
            {
                "kind": "command",
                "title": "Éclairage plein feu",
                "min_level": int(AlertLevel.HEAVY_SNOW),
                "type": "streetlight",
                "name": "dim",
                "params": {"level_pct": 100},
                "target": every,
            },
            {
                "kind": "checklist",
                "title": "Fin d'épisode",
                "items": ["Routes dégagées", "Panneaux rendus à la voirie"],
            },
        ],
    }
    return (await templates.create_plan(ctx, CrisisPlanCreate.model_validate(body))).id


def _person(name: str) -> Principal:
    # Two named duty roles of the demo: the four-eyes rule holds between them.
    return Principal(
        name=name,
        kind=ActorKind.SYSTEM,
        roles=frozenset({Role.SUPERVISOR}),
        domains=frozenset(Domain),
        communes=None,
        via="demo",
    )


async def snow_night(ctx: Context, level: AlertLevel) -> RunOut:
    """Start the winter plan at ``level`` as the demo's dispatcher, approve it as its duty
    officer, and tick the watch checklist: the signs are switched next."""
    plan_id = await seed_winter_plan(ctx)
    starter = ctx.runtime.context(_person("demo:dispatcher"))
    officer = ctx.runtime.context(_person("demo:duty-officer"))
    run = await runs.start(starter, plan_id, RunStart(level=level, reason="Nuit de neige (démo)"))
    run = await runs.approve(officer, run.id, RunDecision(reason="Bulletin orange neige"))
    for index, _item in enumerate(run.steps[0].items):
        run = await runs.tick(starter, run.id, 0, index)
    return run
