// The energy page's maintenance planning: the lamps that burnt most of their rated life
// (GET /energy/maintenance/due) and the failures per lamp model over the last year
// (GET /energy/maintenance/models), each with its CSV.
import type { App } from "../app";
import { locale } from "../format";
import type { Schema } from "../schemas";
import { fill } from "../dom";
import { errorText, h } from "./dom";

type Lamp = Schema<"LampState">;
type Model = Schema<"ModelRecord">;

// The table shows the most worn; the CSV has them all.
const SHOWN = 50;

export function maintenanceSection(app: App): HTMLElement {
  const t = app.t;
  const loc = locale(app.lang);
  const n = (v: number, digits = 0) => v.toLocaleString(loc, { maximumFractionDigits: digits });
  const pct = (v: number | null) => (v === null ? "—" : v.toLocaleString(loc, { style: "percent", maximumFractionDigits: 0 }));
  const due = h("div", { class: "v-scroll" });
  const models = h("div", { class: "v-scroll" });
  const link = (href: string, testid: string) => h("a", { href, download: "", class: "e-csv", "data-testid": testid }, t("energy.csv"));
  const section = h("section", { class: "e-maintenance", "data-testid": "energy-maintenance" },
    h("h2", {}, t("energy.maintenance")),
    h("h3", {}, t("energy.due"), " ", link("/api/v1/energy/maintenance/due.csv", "energy-due-csv")), due,
    h("h3", {}, t("energy.models"), " ", link("/api/v1/energy/maintenance/models.csv", "energy-models-csv")), models);

  const model = (m: { manufacturer: string | null; model: string | null; lamp_type: string | null }) =>
    [m.manufacturer, m.model].filter(Boolean).join(" ") || m.lamp_type || "—";

  void app.api.get<Lamp[]>("/energy/maintenance/due").then((lamps) => {
    const open = (id: string) => {
      const b = h("button", { type: "button", class: "v-link" }, id);
      b.addEventListener("click", () => app.openAsset(id));
      return b;
    };
    fill(due,
      h("p", { class: "v-muted", "data-testid": "energy-due-count" }, lamps.length > SHOWN ? t("energy.dueSome", { n: lamps.length, shown: SHOWN }) : t("energy.dueCount", { n: lamps.length })),
      lamps.length ? h("table", { class: "v-table v-compact", "data-testid": "energy-due" },
        h("thead", {}, h("tr", {}, ["light", "commune", "model", "burning", "rated", "used"].map((c) => h("th", { scope: "col" }, t(`energy.lamp.${c}`))))),
        h("tbody", {}, lamps.slice(0, SHOWN).map((l) => h("tr", { "data-testid": `energy-due-${l.id}` },
          h("td", {}, open(l.id)), h("td", {}, app.catalogue.communeName(l.commune)), h("td", {}, model(l)),
          h("td", {}, `${n(l.burning_h)} h`), h("td", {}, l.rated_life_h === null ? "—" : `${n(l.rated_life_h)} h`), h("td", {}, pct(l.life_used)))))) : null);
  }).catch((error: unknown) => due.replaceChildren(h("p", { class: "form-error" }, errorText(app, error))));

  void app.api.get<Model[]>("/energy/maintenance/models").then((rows) => {
    models.replaceChildren(rows.length ? h("table", { class: "v-table v-compact", "data-testid": "energy-models" },
      h("thead", {}, h("tr", {}, ["model", "lights", "rated", "mean", "max", "failures", "perLight"].map((c) => h("th", { scope: "col" }, t(`energy.model.${c}`))))),
      h("tbody", {}, rows.map((m) => h("tr", {},
        h("td", {}, model(m)), h("td", {}, n(m.lights)), h("td", {}, m.rated_life_h === null ? "—" : `${n(m.rated_life_h)} h`),
        h("td", {}, `${n(m.mean_burning_h)} h`), h("td", {}, `${n(m.max_burning_h)} h`), h("td", {}, n(m.failures)), h("td", {}, n(m.failures_per_light, 3))))))
      : h("p", { class: "v-muted" }, t("energy.noModels")));
  }).catch((error: unknown) => models.replaceChildren(h("p", { class: "form-error" }, errorText(app, error))));
  return section;
}
