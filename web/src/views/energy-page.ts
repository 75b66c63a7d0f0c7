// The energy page: the lighting's consumption per commune and period against the
// pre-renovation baseline (GET /energy/report), the savings against the target with their
// monthly trend, cost and CO₂; the same rows as CSV (report.csv, same filters); and the
// maintenance planning (lamps due for replacement, failures per model). The server scopes
// every figure to the user's communes.
import type { Mount, App } from "../app";
import { locale } from "../format";
import type { Schema } from "../schemas";
import { errorText, h, labelled, selectOf } from "./dom";
import { barChart, trendChart } from "./energy-charts";
import { maintenanceSection } from "./energy-maintenance";
import "./views.css";

type Report = Schema<"EnergyReport">;
type Row = Schema<"EnergyRow">;
type Granularity = "day" | "month" | "year";

/** Today's date where the city is (YYYY-MM-DD). */
function cityToday(app: App): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: app.timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** The default period of a granularity, ending today: 31 days, 12 months or 5 years. */
export function defaultSince(today: string, granularity: Granularity): string {
  const d = new Date(`${today}T00:00:00Z`);
  if (granularity === "day") d.setUTCDate(d.getUTCDate() - 30);
  else if (granularity === "month") d.setUTCMonth(d.getUTCMonth() - 11, 1);
  else d.setUTCFullYear(d.getUTCFullYear() - 4, 0, 1);
  return d.toISOString().slice(0, 10);
}

/** Every period's first day from since to until: a bar for each, metered or not. */
export function periods(since: string, until: string, granularity: Granularity): string[] {
  const d = new Date(`${since}T00:00:00Z`);
  if (granularity !== "day") d.setUTCDate(1);
  if (granularity === "year") d.setUTCMonth(0);
  const out: string[] = [];
  while (d.toISOString().slice(0, 10) <= until && out.length < 400) {
    out.push(d.toISOString().slice(0, 10));
    if (granularity === "day") d.setUTCDate(d.getUTCDate() + 1);
    else if (granularity === "month") d.setUTCMonth(d.getUTCMonth() + 1);
    else d.setUTCFullYear(d.getUTCFullYear() + 1);
  }
  return out;
}

export const mount: Mount = (root, app) => {
  const t = app.t;
  const loc = locale(app.lang);
  const kwh = (wh: number) => `${(wh / 1000).toLocaleString(loc, { maximumFractionDigits: wh < 10_000 ? 2 : 0 })} kWh`;
  const pct = (share: number) => share.toLocaleString(loc, { style: "percent", maximumFractionDigits: 1 });
  const eur = (v: number) => v.toLocaleString(loc, { style: "currency", currency: "EUR" });
  const price = (v: number) => v.toLocaleString(loc, { maximumFractionDigits: 4 });
  const kg = (v: number) => `${v.toLocaleString(loc, { maximumFractionDigits: 1 })} kg`;
  const mine = app.me.user.communes;
  const communes = app.catalogue.allCommunes().filter((c) => mine === null || mine.includes(c.code));
  const commune = selectOf({ id: "energy-commune", "data-testid": "energy-commune" }, t("energy.allCommunes"), communes.map((c) => [c.code, c.name]));
  const granularity = selectOf({ id: "energy-granularity", "data-testid": "energy-granularity" }, null,
    (["day", "month", "year"] as const).map((g) => [g, t(`energy.granularity.${g}`)]));
  granularity.value = "month";
  const today = cityToday(app);
  const since = h("input", { id: "energy-since", type: "date", "data-testid": "energy-since", value: defaultSince(today, "month"), max: today });
  const until = h("input", { id: "energy-until", type: "date", "data-testid": "energy-until", value: today, max: today });
  const csv = h("a", { class: "e-csv", "data-testid": "energy-csv", download: "" }, t("energy.csv"));
  const status = h("p", { class: "v-muted", role: "status", "data-testid": "energy-status" });
  const figures = h("div", { class: "e-figures", "data-testid": "energy-figures" });
  const charts = h("div", { class: "e-charts" });
  const byCommune = h("div", {});
  const table = h("div", { class: "v-scroll" });

  granularity.addEventListener("change", () => {
    since.value = defaultSince(until.value || today, granularity.value as Granularity);
    void load();
  });
  for (const control of [commune, since, until]) control.addEventListener("change", () => void load());

  root.replaceChildren(h("section", { class: "v-view e-view" },
    h("header", { class: "v-head" }, h("h1", {}, t("energy.title"))),
    h("div", { class: "v-filters" },
      labelled("energy-commune", t("energy.commune"), commune),
      labelled("energy-granularity", t("energy.granularity"), granularity),
      labelled("energy-since", t("energy.since"), since),
      labelled("energy-until", t("energy.until"), until),
      csv),
    status, figures, charts, byCommune, table,
    maintenanceSection(app)));

  function params(level: string): URLSearchParams {
    const p = new URLSearchParams({ level, granularity: granularity.value });
    if (since.value) p.set("since", since.value);
    if (until.value) p.set("until", until.value);
    if (commune.value) p.set("commune", commune.value);
    return p;
  }

  function periodLabel(period: string): string {
    const d = new Date(`${period}T00:00:00Z`);
    const g = granularity.value;
    const opts: Intl.DateTimeFormatOptions = g === "day" ? { day: "numeric", month: "short" } : g === "month" ? { month: "short", year: "2-digit" } : { year: "numeric" };
    return d.toLocaleDateString(loc, { timeZone: "UTC", ...opts });
  }

  function figure(name: string, value: string, detail: string | null = null, attrs: Record<string, string | number> = {}): HTMLElement {
    return h("div", { class: "v-card e-figure", "data-testid": `energy-${name}`, ...attrs },
      h("h3", {}, t(`energy.figure.${name}`)), h("p", { class: "v-big" }, value), detail ? h("p", { class: "v-card-meta" }, detail) : null);
  }

  function showFigures(r: Report): void {
    const total = r.total;
    const savings = total.savings;
    const verdict = r.meets_target === null ? t("energy.noBaseline") : t(r.meets_target ? "energy.meets" : "energy.misses", { target: pct(r.target) });
    figures.replaceChildren(
      figure("energy", kwh(total.energy_wh), t("energy.lightDays", { n: total.light_days.toLocaleString(loc) }), { "data-wh": total.energy_wh }),
      figure("baseline", kwh(total.baseline_wh), t("energy.compared", { wh: kwh(total.compared_wh) }), { "data-wh": total.baseline_wh }),
      figure("savings", savings === null ? "—" : pct(savings), verdict,
        { "data-savings": savings ?? "", "data-meets": String(r.meets_target), class: `v-card e-figure ${r.meets_target ? "e-met" : r.meets_target === false ? "e-missed" : ""}` }),
      figure("cost", eur(total.cost_eur), t("energy.tariff", { peak: price(r.tariff.peak_eur_per_kwh), offpeak: price(r.tariff.offpeak_eur_per_kwh), hours: r.tariff.offpeak_hours })),
      figure("co2", kg(total.co2_kg), total.avoided_co2_kg === null ? null : t("energy.avoided", { kg: kg(total.avoided_co2_kg) })),
    );
  }

  function showCharts(r: Report): void {
    const byPeriod = new Map(r.rows.map((row) => [row.period, row]));
    charts.replaceChildren(
      h("div", { class: "v-card" }, h("h3", {}, t("energy.chart.bars")),
        barChart(periods(r.since, r.until, r.granularity).map((p) => {
          const row = byPeriod.get(p);
          return { label: periodLabel(p), value: row?.energy_wh ?? 0, baseline: row?.baseline_wh ?? 0 };
        }),
          t("energy.chart.bars"), (wh) => kwh(wh), [t("energy.legend.energy"), t("energy.legend.baseline")])),
      h("div", { class: "v-card" }, h("h3", {}, t("energy.chart.trend", { target: pct(r.target) })),
        trendChart(r.trend.map((p) => ({ label: new Date(`${p.month}T00:00:00Z`).toLocaleDateString(loc, { timeZone: "UTC", month: "short" }), savings: p.savings ?? null })),
          r.target, t("energy.chart.trend", { target: pct(r.target) }), pct)),
    );
  }

  function rowsTable(rows: Row[], first: string, key: (row: Row) => string, testid: string): HTMLElement {
    const cols = ["energy", "baseline", "savings", "cost", "co2"];
    return h("table", { class: "v-table v-compact", "data-testid": testid },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, first), cols.map((c) => h("th", { scope: "col" }, t(`energy.figure.${c}`))))),
      h("tbody", {}, rows.map((row) => h("tr", { "data-key": key(row) },
        h("td", {}, key(row)), h("td", {}, kwh(row.energy_wh)), h("td", {}, kwh(row.baseline_wh)),
        h("td", {}, row.savings === null ? "—" : pct(row.savings)), h("td", {}, eur(row.cost_eur)), h("td", {}, kg(row.co2_kg))))));
  }

  /** The period's rows of each commune, summed: one line per commune. */
  function perCommune(rows: Row[]): Row[] {
    const sums = new Map<string, Row>();
    for (const row of rows) {
      const k = row.key ?? "";
      const s = sums.get(k);
      if (!s) {
        sums.set(k, { ...row });
        continue;
      }
      for (const f of ["light_days", "energy_wh", "peak_wh", "offpeak_wh", "baseline_wh", "compared_wh", "cost_eur", "co2_kg", "burning_h"] as const) s[f] += row[f];
      s.avoided_co2_kg = s.avoided_co2_kg === null && row.avoided_co2_kg === null ? null : (s.avoided_co2_kg ?? 0) + (row.avoided_co2_kg ?? 0);
    }
    for (const s of sums.values()) s.savings = s.baseline_wh > 0 ? 1 - s.compared_wh / s.baseline_wh : null;
    return [...sums.values()].sort((a, b) => b.energy_wh - a.energy_wh);
  }

  let asked = 0;
  async function load(): Promise<void> {
    const mine = ++asked;
    const level = commune.value ? "commune" : "metropolis";
    csv.href = `/api/v1/energy/report.csv?${params(level)}`;
    status.textContent = t("energy.loading");
    try {
      const [report, communesReport] = await Promise.all([
        app.api.get<Report>(`/energy/report?${params(level)}`),
        commune.value ? Promise.resolve(null) : app.api.get<Report>(`/energy/report?${params("commune")}`),
      ]);
      if (mine !== asked) return;
      status.textContent = t("energy.period", { since: report.since, until: report.until, scope: report.commune ? app.catalogue.communeName(report.commune) : t("lighting.metropolis") });
      showFigures(report);
      showCharts(report);
      byCommune.replaceChildren(...(communesReport
        ? [h("h2", {}, t("energy.byCommune")), rowsTable(perCommune(communesReport.rows), t("energy.commune"), (r) => app.catalogue.communeName(r.key ?? ""), "energy-communes")]
        : []));
      table.replaceChildren(h("h2", {}, t("energy.byPeriod")), rowsTable(report.rows, t("energy.period.col"), (r) => periodLabel(r.period), "energy-rows"));
    } catch (error) {
      if (mine === asked) status.textContent = errorText(app, error);
    }
  }

  void load();
  return () => undefined;
};
