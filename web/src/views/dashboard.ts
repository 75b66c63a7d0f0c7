// The dashboard: how the metropolis's equipment is doing, in four figures a supervisor reads
// at a glance. Refreshed every 30 s and, at most every few seconds, when events arrive.
import type { App, Mount, Severity } from "../app";
import { communeNames } from "./communes";
import { errorText, h, throttle } from "./dom";
import type { Schema } from "../schemas";
import { energyTile, fetchLightingEnergy } from "./energy";
import { SEVERITIES, severityBadge } from "./severity";
import "./views.css";

type MapRows = Schema<"MapOut">;
type Summary = Schema<"Summary">;
type KpiFigures = Schema<"KpiFigures">;
type KpiReport = Schema<"KpiReport">;

interface Tally {
  total: number;
  available: number;
  byState: Record<string, number>;
}

const REFRESH_MS = 30_000;
const SLA_DAYS = 30;
// Working as it should; "unknown" (never heard from yet) counts in neither share.
const AVAILABLE = new Set(["ok", "commanded"]);
const UNAVAILABLE = ["alarm", "offline", "maintenance"];

export const mount: Mount = (root, app) => {
  const cards = {
    byType: card("dashboard-availability-type", app.t("dashboard.byType"), true),
    byCommune: card("dashboard-availability-commune", app.t("dashboard.byCommune"), true),
    alarms: card("dashboard-alarms", app.t("dashboard.alarms")),
    sla: card("dashboard-sla", app.t("dashboard.sla", { days: SLA_DAYS })),
    energy: card("dashboard-energy", app.t("dashboard.energy")),
  };
  const updated = h("p", { class: "v-muted", role: "status", "data-testid": "dashboard-updated" });
  root.replaceChildren(
    h(
      "section",
      { class: "v-view" },
      h("header", { class: "v-head" }, h("h1", {}, app.t("dashboard.title")), updated),
      h(
        "div",
        { class: "v-dashboard", "data-testid": "dashboard" },
        cards.alarms.box,
        cards.sla.box,
        cards.energy.box,
        cards.byType.box,
        cards.byCommune.box,
      ),
    ),
  );

  let names = new Map<string, string>();
  let alive = true;

  /** Runs one panel's refresh; a failing source leaves its own panel with the error. */
  async function panel(targets: { body: HTMLElement }[], fill: () => Promise<void>): Promise<void> {
    try {
      await fill();
    } catch (error) {
      if (!alive) return;
      for (const t of targets) t.body.replaceChildren(h("p", { class: "v-error" }, errorText(app, error)));
    }
  }

  async function availability(): Promise<void> {
    const map = await app.api.get<MapRows>("/map");
    if (!alive) return;
    const col = (name: string) => map.columns.indexOf(name);
    const [iType, iCommune, iState] = [col("type"), col("commune"), col("state")];
    const byType = new Map<string, Tally>();
    const byCommune = new Map<string, Tally>();
    for (const row of map.rows) {
      const state = String(row[iState]);
      count(byType, String(row[iType]), state);
      count(byCommune, String(row[iCommune]), state);
    }
    cards.byType.body.replaceChildren(tallyTable(app, byType, (k) => app.catalogue.typeLabel(k), app.t("dashboard.type")));
    cards.byCommune.body.replaceChildren(tallyTable(app, byCommune, (k) => names.get(k) ?? k, app.t("dashboard.commune")));
  }

  async function alarms(): Promise<void> {
    const s = await app.api.get<Summary>("/alarms/summary");
    if (!alive) return;
    const max = Math.max(1, ...SEVERITIES.map((sev) => s.by_severity[sev] ?? 0));
    cards.alarms.body.replaceChildren(
      h(
        "ul",
        { class: "v-bars" },
        ...SEVERITIES.map((sev: Severity) => {
          const n = s.by_severity[sev] ?? 0;
          return h(
            "li",
            { "data-testid": `dashboard-alarms-${sev}`, "data-count": n },
            severityBadge(app, sev),
            bar(n / max, `v-bar-${sev}`),
            h("strong", {}, String(n)),
          );
        }),
      ),
      h("p", { class: "v-muted" }, app.t("dashboard.unack", { n: s.unacknowledged })),
      h("button", { type: "button", class: "v-link", onclick: () => app.navigate("alarms") }, app.t("dashboard.toAlarms")),
    );
  }

  async function sla(): Promise<void> {
    const to = new Date();
    const from = new Date(to.getTime() - SLA_DAYS * 86_400_000);
    const report = await app.api.get<KpiReport>("/kpis", { from: from.toISOString(), to: to.toISOString(), by: "category" });
    if (!alive) return;
    const share = (f: KpiFigures) => (f.sla_compliance === null ? "—" : percent(app, f.sla_compliance));
    cards.sla.body.replaceChildren(
      h("p", { class: "v-big", "data-testid": "dashboard-sla-total" }, share(report.total)),
      h("p", { class: "v-muted" }, app.t("dashboard.slaDetail", { met: report.total.sla_met, due: report.total.sla_due, overdue: report.total.open_overdue })),
      h(
        "table",
        { class: "v-table v-compact" },
        h("thead", {}, h("tr", {}, ...[app.t("dashboard.category"), app.t("dashboard.withinSla"), app.t("dashboard.openOverdue")].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          ...report.groups
            .filter((g) => g.sla_due > 0 || g.open_overdue > 0)
            .map((g) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, app.t(`interventions.category.${g.key ?? ""}`)),
                h("td", {}, `${share(g)} (${g.sla_met}/${g.sla_due})`),
                h("td", {}, String(g.open_overdue)),
              ),
            ),
        ),
      ),
    );
  }

  async function energy(): Promise<void> {
    const report = await fetchLightingEnergy(app);
    if (!alive) return;
    cards.energy.body.replaceChildren(...energyTile(app, report));
  }

  function refreshAll(): void {
    void Promise.all([
      panel([cards.byType, cards.byCommune], availability),
      panel([cards.alarms], alarms),
      panel([cards.sla], sla),
      panel([cards.energy], energy),
    ]).then(() => {
      if (alive) updated.textContent = app.t("dashboard.updated", { time: app.formatTime(new Date().toISOString()) });
    });
  }

  const onAlarm = throttle(() => void panel([cards.alarms], alarms), 5000);
  const onIntervention = throttle(() => void panel([cards.sla], sla), 10_000);
  const onAsset = throttle(() => void panel([cards.byType, cards.byCommune], availability), 15_000);
  const unsubscribe = app.onEvents((events) => {
    for (const e of events) {
      if (e.kind === "resync") refreshAll();
      else if (e.kind === "alarm") onAlarm.call();
      else if (e.kind === "intervention") onIntervention.call();
      else if (e.kind === "asset") onAsset.call();
    }
  });
  const timer = window.setInterval(refreshAll, REFRESH_MS);

  void communeNames(app).then((communeMap) => {
    names = communeMap;
    if (alive) refreshAll();
  });

  return () => {
    alive = false;
    unsubscribe();
    window.clearInterval(timer);
    onAlarm.cancel();
    onIntervention.cancel();
    onAsset.cancel();
  };
};

function card(testid: string, title: string, wide = false): { box: HTMLElement; body: HTMLElement } {
  const body = h("div", { class: "v-panel-body" }, "…");
  const box = h("section", { class: `v-card v-panel${wide ? " v-wide" : ""}`, "data-testid": testid }, h("h2", {}, title), body);
  return { box, body };
}

function count(tallies: Map<string, Tally>, key: string, state: string): void {
  let t = tallies.get(key);
  if (!t) tallies.set(key, (t = { total: 0, available: 0, byState: {} }));
  t.byState[state] = (t.byState[state] ?? 0) + 1;
  if (state !== "unknown") t.total++;
  if (AVAILABLE.has(state)) t.available++;
}

function tallyTable(app: App, tallies: Map<string, Tally>, label: (key: string) => string, keyTitle: string): HTMLElement {
  const rows = [...tallies.entries()].sort((a, b) => label(a[0]).localeCompare(label(b[0]), "fr"));
  const heads = [keyTitle, app.t("dashboard.availability"), ...UNAVAILABLE.map((s) => app.t(`dashboard.state.${s}`)), app.t("dashboard.total")];
  return h(
    "table",
    { class: "v-table v-compact" },
    h("thead", {}, h("tr", {}, ...heads.map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      ...rows.map(([key, t]) => {
        const share = t.total ? t.available / t.total : null;
        return h(
          "tr",
          { "data-key": key },
          h("th", { scope: "row" }, label(key)),
          h("td", { class: "v-share" }, share === null ? "—" : percent(app, share), share === null ? null : bar(share, share < 0.95 ? "v-bar-low" : "v-bar-ok")),
          ...UNAVAILABLE.map((s) => h("td", {}, String(t.byState[s] ?? 0))),
          h("td", {}, String(t.total)),
        );
      }),
    ),
  );
}

function bar(fraction: number, kind: string): HTMLElement {
  const fill = h("span", { class: `v-bar-fill ${kind}` });
  fill.style.width = `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
  return h("span", { class: "v-bar", "aria-hidden": "true" }, fill);
}

function percent(app: App, fraction: number): string {
  // Rounded down, so 99.99 % never reads as everything available.
  return (Math.floor(fraction * 1000) / 1000).toLocaleString(app.lang, { style: "percent", maximumFractionDigits: 1 });
}
