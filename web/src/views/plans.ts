// Crisis plans: the plans of the user's communes (start one at a level), and their runs:
// waiting for a second person (who approves or refuses here), then step by step, live
// (the stream's plan_run events), with the checklists ticked here, a run's assets shown
// on the map, its report as CSV.
import type { Mount, StreamEvent } from "../app";
import { fill } from "../dom";
import type { Schema } from "../schemas";
import { askForm } from "./dialog";
import { attempt, errorText, h, throttle } from "./dom";
import "./views.css";

type Plan = Schema<"CrisisPlanOut">;
type Run = Schema<"RunOut">;
type Step = Schema<"RunStepOut">;
type CommandPage = Schema<"CommandPage">;

const LEVELS = ["1", "2", "3"];

export const mount: Mount = (root, app) => {
  const t = app.t;
  const status = h("p", { class: "v-muted", role: "status" });
  const plans = h("div", { "data-testid": "plans-list" });
  const runs = h("div", { "data-testid": "plan-runs", "aria-live": "polite" });
  root.replaceChildren(h("section", { class: "v-view" },
    h("header", { class: "v-head" }, h("h1", {}, t("plans.title"))),
    status, h("h2", {}, t("plans.plans")), plans, h("h2", {}, t("plans.runs")), runs));

  async function load(): Promise<void> {
    try {
      const [p, r] = await Promise.all([app.api.get<Plan[]>("/plans"), app.api.get<Run[]>("/plans/runs")]);
      status.textContent = "";
      renderPlans(p);
      renderRuns(r);
    } catch (error) {
      status.textContent = errorText(app, error);
    }
  }
  const reload = throttle(() => void load(), 300);

  function renderPlans(list: Plan[]): void {
    fill(plans, list.length ? h("table", { class: "v-table v-compact" },
      h("tbody", {}, ...list.map((p) => h("tr", { "data-testid": "plan-row", "data-id": p.id },
        h("td", {}, h("strong", {}, p.name)),
        h("td", {}, t(`plans.kind.${p.kind}`)),
        h("td", {}, (p.communes ?? []).map((c) => app.catalogue.communeName(c)).join(", ") || t("plans.metropolis")),
        h("td", {}, t("plans.steps", { n: p.steps.length })),
        h("td", {}, app.can("plan:run")
          ? h("button", { type: "button", "data-testid": "plan-start", onclick: () => void start(p) }, t("plans.start"))
          : null))))) : h("p", { class: "v-muted" }, t("plans.none")));
  }

  function renderRuns(list: Run[]): void {
    fill(runs, ...list.map(runCard));
    if (!list.length) fill(runs, h("p", { class: "v-muted" }, t("plans.noRuns")));
  }

  function runCard(r: Run): HTMLElement {
    const open = r.state === "running" || r.state === "finished";
    const waiting = r.state === "awaiting_approval" && app.can("command:approve");
    return h("article", { class: "v-card", "data-testid": "plan-run", "data-id": r.id, "data-state": r.state },
      h("header", {},
        h("strong", {}, `${r.plan_name} — ${t("plans.level", { n: r.level })}`), " ",
        h("span", { "data-testid": "run-state" }, t(`plans.state.${r.state}`)), " ",
        h("span", { class: "v-muted" }, `${r.started_by}, ${app.formatTime(r.started_at)}`,
          r.decided_by ? ` · ${t("plans.decidedBy", { who: r.decided_by })}` : "")),
      h("p", {}, r.reason),
      h("ol", { class: "plan-steps" }, ...r.steps.map((s) => stepLine(r, s))),
      h("footer", {},
        waiting ? button("approve", () => void decide(r, "approve")) : null,
        waiting ? button("refuse", () => void decide(r, "refuse")) : null,
        open ? button("map", () => void showMap(r)) : null,
        open && app.can("plan:run") ? button("close", () => void decide(r, "close")) : null,
        h("a", { href: `/api/v1/plans/runs/${r.id}/report.csv`, download: "", "data-testid": "run-report" }, t("plans.report"))));
  }

  function stepLine(r: Run, s: Step): HTMLElement {
    const items = s.items.map((item, i) => h("li", { "data-testid": "step-item" },
      item.done_by
        ? `✔ ${item.text} (${item.done_by}, ${app.formatTime(item.done_at)})`
        : [item.text, " ", s.state === "running" && app.can("plan:run")
          ? h("button", { type: "button", "data-testid": "item-tick", onclick: () => void tick(r, s, i) }, t("plans.tick"))
          : null]));
    return h("li", { "data-testid": "run-step", "data-state": s.state },
      h("span", { class: `plan-step plan-step-${s.state}` }, t(`plans.stepState.${s.state}`)), " ",
      h("strong", {}, s.title), ` (${t(`plans.stepKind.${s.kind}`)})`,
      s.outcome ? h("span", { class: "v-muted", "data-testid": "step-outcome" }, ` — ${s.outcome}`) : null,
      items.length ? h("ul", {}, ...items) : null);
  }

  function button(action: string, onclick: () => void): HTMLElement {
    return h("button", { type: "button", "data-testid": `run-${action}`, onclick }, t(`plans.action.${action}`));
  }

  async function start(p: Plan): Promise<void> {
    const asked = await askForm(app, t("plans.startTitle", { name: p.name }), [
      { name: "level", label: t("plans.levelField"), kind: "select", options: LEVELS.map((l) => [l, t(`plans.levelName.${l}`)]), required: true },
      { name: "reason", label: t("plans.reason"), kind: "textarea", required: true },
    ], t("plans.start"));
    if (!asked) return;
    if (await attempt(app, () => app.api.post(`/plans/${p.id}/runs`, { level: Number(asked.level), reason: asked.reason }))) {
      app.toast(t("plans.started"));
      await load();
    }
  }

  async function decide(r: Run, action: "approve" | "refuse" | "close"): Promise<void> {
    let body: { reason?: string } = {};
    if (action !== "approve") {
      const asked = await askForm(app, t(`plans.confirm.${action}`, { name: r.plan_name }),
        [{ name: "reason", label: t("plans.reason"), kind: "textarea", required: action === "refuse" }], t(`plans.action.${action}`));
      if (!asked) return;
      body = asked.reason ? { reason: asked.reason } : {};
    }
    if (await attempt(app, () => app.api.post(`/plans/runs/${r.id}/${action}`, body))) await load();
  }

  async function tick(r: Run, s: Step, item: number): Promise<void> {
    if (await attempt(app, () => app.api.post(`/plans/runs/${r.id}/steps/${s.position}/items/${item}`))) await load();
  }

  async function showMap(r: Run): Promise<void> {
    const batches = r.steps.map((s) => s.batch_id).filter((b): b is string => !!b);
    const pages = await Promise.all(batches.map((b) => app.api.get<CommandPage>("/commands", { batch_id: b, limit: 1000 })));
    const ids = [...new Set(pages.flatMap((p) => p.items.map((c) => c.asset_id)))];
    if (!ids.length) {
      app.toast(t("plans.noAssets"));
      return;
    }
    app.showOnMap(ids);
  }

  function onEvents(events: StreamEvent[]): void {
    if (events.some((e) => e.kind === "plan_run" || e.kind === "resync")) reload.call();
  }

  const unsubscribe = app.onEvents(onEvents);
  void load();
  return () => {
    unsubscribe();
    reload.cancel();
  };
};
