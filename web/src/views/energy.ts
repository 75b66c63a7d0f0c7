// The dashboard's lighting energy tile: what the lighting cabinets metered today so far,
// beside the same weekday a year earlier and beside every light at full power while it was
// dark (the unmanaged baseline that dimming and switching save against).
import type { App } from "../app";
import { locale } from "../format";
import { h } from "./dom";
import type { Schema } from "../schemas";

/** GET /api/v1/energy/lighting */
export type LightingEnergy = Schema<"LightingEnergy">;

export function fetchLightingEnergy(app: App): Promise<LightingEnergy> {
  return app.api.get<LightingEnergy>("/energy/lighting");
}

/** The tile's content. */
export function energyTile(app: App, e: LightingEnergy): Node[] {
  const today = e.measured_wh;
  const nodes: Node[] = [
    h("p", { class: "v-big", "data-testid": "dashboard-energy-today", "data-wh": today ?? "" }, kwh(app, today)),
    h("p", { class: "v-muted" }, app.t("dashboard.energy.detail", {
      time: clock(app, e.until), reporting: count(app, e.cabinets_reporting), cabinets: count(app, e.cabinets),
    })),
    h("ul", { class: "v-energy" }, lastYear(app, e), fullPower(app, e)),
  ];
  // The full-power baseline counts every light, while the meters may not all have reported.
  if (today !== null && e.cabinets_reporting < e.cabinets) {
    nodes.push(h("p", { class: "v-note" }, app.t("dashboard.energy.partial", { reporting: count(app, e.cabinets_reporting), cabinets: count(app, e.cabinets) })));
  }
  return nodes;
}

/** The same weekday 364 days earlier, over the same hours: a change in %, up or down. */
function lastYear(app: App, e: LightingEnergy): HTMLElement {
  const then = e.last_year.wh;
  const change = e.measured_wh !== null && then ? e.measured_wh / then - 1 : null;
  const day = longDay(app, e.last_year.day);
  const detail = then === null
    ? app.t("dashboard.energy.lastYearDetail", { day })
    : app.t("dashboard.energy.lastYearMeters", { day, n: count(app, e.last_year.cabinets_reporting) });
  return comparison(
    { "data-testid": "dashboard-energy-last-year", "data-wh": then ?? "" },
    app.t("dashboard.energy.lastYear"),
    then === null ? `${app.t("dashboard.na")} (${app.t("dashboard.energy.noHistory")})` : kwh(app, then),
    then === null ? null : change === null ? app.t("dashboard.na") : signedPercent(app, change),
    detail,
  );
}

/** Every light of the scope at its rated power for the dark hours so far: the share saved. */
function fullPower(app: App, e: LightingEnergy): HTMLElement {
  const full = e.full_power_wh;
  const saved = e.measured_wh !== null && full > 0 ? 1 - e.measured_wh / full : null;
  const share = saved === null
    ? app.t("dashboard.na")
    : app.t(saved >= 0 ? "dashboard.energy.saved" : "dashboard.energy.over", { pct: percentDown(app, Math.abs(saved)) });
  return comparison(
    { "data-testid": "dashboard-energy-full-power", "data-wh": full },
    app.t("dashboard.energy.fullPower"),
    kwh(app, full),
    share,
    app.t("dashboard.energy.fullPowerDetail", { lights: count(app, e.lights), hours: decimal(app, e.lit_hours) }),
  );
}

/** One reference: its name and figures on a line, what it stands for below. */
function comparison(attrs: Record<string, string | number>, label: string, energy: string, difference: string | null, detail: string): HTMLElement {
  return h(
    "li",
    attrs,
    h("span", { class: "v-energy-label" }, label),
    h("span", { class: "v-energy-figures" }, h("strong", {}, energy), difference === null ? null : ` · ${difference}`),
    h("span", { class: "v-energy-sub" }, detail),
  );
}

/** Watt-hours as kilowatt-hours, fewer decimals as the figure grows; "n/a" for null. */
function kwh(app: App, wh: number | null): string {
  if (wh === null) return app.t("dashboard.na");
  const k = wh / 1000;
  const digits = Math.abs(k) < 10 ? 2 : Math.abs(k) < 1000 ? 1 : 0;
  return `${k.toLocaleString(locale(app.lang), { maximumFractionDigits: digits })} kWh`;
}

/** Rounded down, so a saving never reads as 100 % unless nothing was used. */
function percentDown(app: App, fraction: number): string {
  return (Math.floor(fraction * 1000) / 1000).toLocaleString(locale(app.lang), { style: "percent", maximumFractionDigits: 1 });
}

function signedPercent(app: App, fraction: number): string {
  return fraction.toLocaleString(locale(app.lang), { style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" });
}

function decimal(app: App, value: number): string {
  return value.toLocaleString(locale(app.lang), { maximumFractionDigits: 1 });
}

function count(app: App, value: number): string {
  return value.toLocaleString(locale(app.lang));
}

/** A calendar day (YYYY-MM-DD) with its weekday: the comparison is weekday to weekday. */
function longDay(app: App, day: string): string {
  // Midnight UTC of that date, formatted in UTC: the date as written, whatever the browser's zone.
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(locale(app.lang), {
    timeZone: "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric",
  });
}

/** Hours and minutes where the city is. */
function clock(app: App, iso: string): string {
  return new Date(iso).toLocaleTimeString(locale(app.lang), { timeZone: app.timeZone, hour: "2-digit", minute: "2-digit" });
}
