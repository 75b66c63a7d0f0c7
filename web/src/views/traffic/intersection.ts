// The intersections tab: the controllers in scope, and one intersection's live state
// (control state, plan and its source, cycle and offset, signal groups, detectors), its
// plans with an editor that shows the validator's errors, and its timetable with its
// editor and delivery state.
import type { App } from "../../app";
import { h } from "../dom";
import { canPlan, daysText, problemItems, value, type Config, type Controller, type Plan, type PlanCheck, type State, type Timetable } from "./common";

// How often the intersection shown reads its controller's state again.
const LIVE_MS = 5_000;

export function intersectionsTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const list = h("tbody", {});
  const detail = h("div", { "data-testid": "traffic-detail" });
  const status = h("p", { class: "v-muted", role: "status" });
  root.replaceChildren(status, h("div", { class: "v-scroll" }, h("table", { class: "v-table v-compact", "data-testid": "traffic-controllers" },
    h("thead", {}, h("tr", {}, ["controller", "plans", "timetable", "manual"].map((c) => h("th", { scope: "col" }, t(`traffic.col.${c}`))))),
    list)), detail);

  async function load(): Promise<void> {
    try {
      const controllers = await app.api.get<Controller[]>("/traffic/controllers");
      status.textContent = controllers.length ? "" : t("traffic.none");
      list.replaceChildren(...controllers.map((c) => {
        const open = h("button", { type: "button", class: "v-link", "data-testid": `traffic-open-${c.controller_id}` }, `${c.controller_id} · ${c.name}`);
        open.addEventListener("click", () => void show(c.controller_id));
        const table = c.timetable_version === null ? "—" : `v${c.timetable_version}${c.behind ? ` (${t("traffic.behind")})` : ""}`;
        return h("tr", {}, h("td", {}, open), h("td", {}, c.plans.join(", ") || "—"), h("td", {}, table), h("td", {}, c.manual_plan === null ? "" : String(c.manual_plan)));
      }));
    } catch (error) {
      status.replaceChildren(...problemItems(app, error));
    }
  }

  // The intersection shown, and the part of it that follows the controller's reports.
  let shown: { id: string; config: Config | null; live: HTMLElement } | null = null;

  function liveParts(state: State | null, config: Config | null): HTMLElement[] {
    const groups = (config?.groups ?? []).map((g, i) => {
      const aspect = value(state, `group_${i + 1}_state`);
      return h("li", { class: `v-chip v-aspect-${aspect}`, "data-testid": `traffic-group-${String(g.name)}` }, `${String(g.name)}: ${aspect}`);
    });
    const detectors = (config?.detectors ?? []).map((d, i) => h("li", {}, `${String(d.name)}: ${value(state, `detector_${i + 1}_count`)}`));
    const facts: [string, string][] = [
      ["state", value(state, "control_state")], ["plan", value(state, "plan")], ["source", value(state, "plan_source")],
      ["cycle", value(state, "cycle_s")], ["offset", value(state, "offset_s")], ["second", value(state, "cycle_second")],
      ["stage", value(state, "stage")], ["version", value(state, "timetable_version")],
    ];
    return [
      h("dl", { class: "v-facts" }, ...facts.flatMap(([k, v]) => [h("dt", {}, t(`traffic.fact.${k}`)), h("dd", { "data-testid": `traffic-fact-${k}` }, v)])),
      h("h3", {}, t("traffic.groups")), h("ul", { class: "v-chips" }, groups),
      h("h3", {}, t("traffic.detectors")), h("ul", {}, detectors),
    ];
  }

  async function readState(id: string): Promise<State | null> {
    return app.api.get<State>(`/assets/${encodeURIComponent(id)}/state`).catch(() => null);
  }

  async function show(id: string): Promise<void> {
    const [state, config, plans, timetable] = await Promise.all([
      readState(id),
      app.api.get<Config>(`/traffic/controllers/${encodeURIComponent(id)}/config`).catch(() => null),
      app.api.get<Plan[]>(`/traffic/controllers/${encodeURIComponent(id)}/plans`).catch(() => [] as Plan[]),
      app.api.get<Timetable>(`/traffic/controllers/${encodeURIComponent(id)}/timetable`).catch(() => null),
    ]);
    const live = h("div", { "data-testid": "traffic-live" }, ...liveParts(state, config));
    shown = { id, config, live };
    detail.replaceChildren(h("section", { class: "v-card", "data-testid": `traffic-intersection-${id}` },
      h("h2", {}, id),
      live,
      planSection(app, id, config, plans, () => void show(id)),
      timetableSection(app, id, plans, timetable, () => void show(id))));
  }

  // The live part follows the controller's reports; the editors below are left alone.
  async function follow(): Promise<void> {
    const current = shown;
    if (!current) return;
    const state = await readState(current.id);
    if (shown === current) current.live.replaceChildren(...liveParts(state, current.config));
  }

  void load();
  const timer = window.setInterval(() => void follow(), LIVE_MS);
  return () => window.clearInterval(timer);
}

function planSection(app: App, id: string, config: Config | null, plans: Plan[], reload: () => void): HTMLElement {
  const t = app.t;
  const rows = plans.map((p) => h("tr", { "data-testid": `traffic-plan-${p.number}` }, h("td", {}, String(p.number)), h("td", {}, p.name),
    h("td", {}, `${p.cycle_s} s`), h("td", {}, `${p.offset_s} s`), h("td", {}, p.stages.map((s) => `${String(s.stage)} ${String(s.split_s)} s`).join(" → "))));
  const section = h("section", {}, h("h3", {}, t("traffic.plans")), h("table", { class: "v-table v-compact" }, h("tbody", {}, rows)));
  if (!canPlan(app) || !config) return section;
  const stageNames = config.stages.map((s) => String(s.name));
  const number = h("input", { type: "number", min: "1", max: "255", value: "1", "data-testid": "plan-number" });
  const cycle = h("input", { type: "number", min: "20", max: "300", value: "90", "data-testid": "plan-cycle" });
  const offset = h("input", { type: "number", min: "0", value: "0", "data-testid": "plan-offset" });
  const splits = stageNames.map((name) => h("input", { type: "number", min: "0", value: String(Math.round(90 / stageNames.length)), "data-testid": `plan-split-${name}`, "aria-label": name }));
  const problems = h("ul", { class: "v-errors", "data-testid": "plan-problems", role: "alert" });
  const body = () => {
    const existing = plans.find((p) => p.number === Number(number.value));
    return {
      number: Number(number.value), cycle_s: Number(cycle.value), offset_s: Number(offset.value),
      stages: stageNames.map((stage, i) => ({ stage, split_s: Number(splits[i].value) })).filter((s) => s.split_s > 0),
      ...(existing ? { version: existing.version } : {}),
    };
  };
  const check = h("button", { type: "button", "data-testid": "plan-check" }, t("traffic.check"));
  check.addEventListener("click", async () => {
    try {
      const verdict = await app.api.post<PlanCheck>(`/traffic/controllers/${encodeURIComponent(id)}/plans/check`, body());
      problems.replaceChildren(...(verdict.valid ? [h("li", { class: "v-ok" }, t("traffic.valid"))] : verdict.problems.map((p) => h("li", { "data-field": p.field }, `${p.message} [${p.rule}]`))));
    } catch (error) {
      problems.replaceChildren(...problemItems(app, error));
    }
  });
  const save = h("button", { type: "button", "data-testid": "plan-save" }, t("traffic.save"));
  save.addEventListener("click", async () => {
    try {
      await app.api.put(`/traffic/controllers/${encodeURIComponent(id)}/plans/${Number(number.value)}`, body());
      app.toast(t("traffic.saved"));
      reload();
    } catch (error) {
      problems.replaceChildren(...problemItems(app, error));
    }
  });
  section.append(h("form", { class: "v-form", "data-testid": "plan-editor" },
    h("label", {}, t("traffic.plan.number"), number), h("label", {}, t("traffic.plan.cycle"), cycle), h("label", {}, t("traffic.plan.offset"), offset),
    ...stageNames.map((name, i) => h("label", {}, t("traffic.plan.split", { stage: name }), splits[i])),
    h("p", {}, check, " ", save), problems));
  return section;
}

function timetableSection(app: App, id: string, plans: Plan[], timetable: Timetable | null, reload: () => void): HTMLElement {
  const t = app.t;
  const state = timetable
    ? t("traffic.timetable.state", { version: timetable.version, acked: timetable.acked_version ?? "—", now: timetable.plan_now ?? "—" })
    : t("traffic.timetable.none");
  const entries = (timetable?.entries ?? []).map((e) => h("li", {}, `${daysText(app, e.days as number[])} ${String(e.start)} → ${t("traffic.plan")} ${String(e.plan)}`));
  const section = h("section", {}, h("h3", {}, t("traffic.timetable")), h("p", { "data-testid": "timetable-state" }, state), h("ul", {}, entries));
  if (!canPlan(app) || !plans.length) return section;
  const text = h("textarea", { rows: "6", "data-testid": "timetable-text", "aria-label": t("traffic.timetable.howTo") },
    (timetable?.entries ?? []).map((e) => `${(e.days as number[]).join(",")} ${String(e.start)} ${String(e.plan)}`).join("\n"));
  const problems = h("ul", { class: "v-errors", "data-testid": "timetable-problems", role: "alert" });
  const save = h("button", { type: "button", "data-testid": "timetable-save" }, t("traffic.save"));
  save.addEventListener("click", async () => {
    const lines = text.value.split("\n").map((l) => l.trim()).filter(Boolean);
    const body = { entries: lines.map((l) => { const [days, start, plan] = l.split(/\s+/); return { days: (days ?? "").split(",").map(Number), start, plan: Number(plan) }; }) };
    try {
      await app.api.put(`/traffic/controllers/${encodeURIComponent(id)}/timetable`, body);
      reload();
    } catch (error) {
      problems.replaceChildren(...problemItems(app, error));
    }
  });
  section.append(h("p", { class: "v-note" }, t("traffic.timetable.howTo")), text, h("p", {}, save), problems);
  return section;
}
