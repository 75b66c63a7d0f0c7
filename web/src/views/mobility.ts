// The bus priority page: the delay saved per intersection and line (GET
// /mobility/delay-saved), the latest priority requests and their outcomes (GET
// /mobility/requests), and a counter's or controller's traffic per lane as bars of flow
// (GET /mobility/counts, with its CSV twin). The server scopes everything to the user's
// communes.
import type { Mount } from "../app";
import { locale, timeFormatter } from "../format";
import type { Schema } from "../schemas";
import { errorText, h, labelled, selectOf } from "./dom";
import "./views.css";

type Saved = Schema<"DelaySaved">;
type Request = Schema<"PriorityRequestOut">;
type Count = Schema<"CountOut">;

const SHOWN_REQUESTS = 100;

export const mount: Mount = (root, app) => {
  const t = app.t;
  const loc = locale(app.lang);
  const n = (v: number, digits = 0) => v.toLocaleString(loc, { maximumFractionDigits: digits });
  const time = timeFormatter(app.lang, app.timeZone);
  const saved = h("div", { class: "v-scroll", "data-testid": "mobility-saved" });
  const requests = h("div", { class: "v-scroll", "data-testid": "mobility-requests" });
  const asset = h("input", { id: "mobility-asset", type: "text", "data-testid": "mobility-asset", placeholder: "CNT-DIJ-0001", maxlength: 64 });
  const period = selectOf({ id: "mobility-period", "data-testid": "mobility-period" }, null,
    [["60", t("mobility.period.60")], ["6", t("mobility.period.6")]]);
  const csv = h("a", { class: "e-csv", "data-testid": "mobility-csv", download: "" }, t("mobility.csv"));
  const counts = h("div", { class: "v-scroll", "data-testid": "mobility-counts" });

  root.replaceChildren(h("section", { class: "v-view" },
    h("header", { class: "v-head" }, h("h1", {}, t("mobility.title"))),
    h("h2", {}, t("mobility.saved")), h("p", { class: "v-muted" }, t("mobility.estimate")), saved,
    h("h2", {}, t("mobility.requests")), requests,
    h("h2", {}, t("mobility.counts")),
    h("div", { class: "v-filters" },
      labelled("mobility-asset", t("mobility.asset"), asset),
      labelled("mobility-period", t("mobility.period"), period), csv),
    counts));

  const open = (id: string) => {
    const b = h("button", { type: "button", class: "v-link" }, id);
    b.addEventListener("click", () => app.openAsset(id));
    return b;
  };
  const failed = (where: HTMLElement) => (error: unknown) => where.replaceChildren(h("p", { class: "form-error" }, errorText(app, error)));

  void app.api.get<Saved[]>("/mobility/delay-saved").then((rows) => {
    saved.replaceChildren(rows.length ? h("table", { class: "v-table v-compact" },
      h("thead", {}, h("tr", {}, ["controller", "line", "requests", "granted", "notGranted", "open", "delay"].map((c) => h("th", { scope: "col" }, t(`mobility.col.${c}`))))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-testid": `mobility-saved-${r.controller_id}-${r.line}` },
        h("td", {}, open(r.controller_id)), h("td", {}, r.line), h("td", {}, n(r.requests)), h("td", {}, n(r.granted)),
        h("td", {}, n(r.not_granted)), h("td", {}, n(r.open)), h("td", { "data-seconds": r.delay_saved_s }, t("mobility.minutes", { min: n(r.delay_saved_s / 60, 1) }))))))
      : h("p", { class: "v-muted" }, t("mobility.none")));
  }).catch(failed(saved));

  void app.api.get<Request[]>(`/mobility/requests?limit=${SHOWN_REQUESTS}`).then((rows) => {
    requests.replaceChildren(rows.length ? h("table", { class: "v-table v-compact" },
      h("thead", {}, h("tr", {}, ["at", "controller", "line", "vehicle", "direction", "distance", "outcome", "delay"].map((c) => h("th", { scope: "col" }, t(`mobility.col.${c}`))))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-testid": `mobility-request-${r.id}` },
        h("td", {}, time(r.requested_at)), h("td", {}, open(r.controller_id)), h("td", {}, r.line), h("td", {}, r.vehicle_id),
        h("td", {}, r.direction), h("td", {}, `${n(r.distance_m)} m`), h("td", { "data-outcome": r.outcome }, t(`mobility.outcome.${r.outcome}`)),
        h("td", {}, r.delay_saved_s === null ? "—" : `${n(r.delay_saved_s, 1)} s`)))))
      : h("p", { class: "v-muted" }, t("mobility.none")));
  }).catch(failed(requests));

  function loadCounts(): void {
    const id = asset.value.trim();
    const p = new URLSearchParams({ period: period.value });
    if (id) p.set("asset_id", id);
    csv.setAttribute("href", `/api/v1/mobility/counts.csv?${p}`);
    counts.replaceChildren(h("p", { class: "v-muted" }, t("mobility.loading")));
    void app.api.get<Count[]>(`/mobility/counts?${p}`).then((rows) => {
      const top = Math.max(1, ...rows.map((r) => r.flow_vph));
      counts.replaceChildren(rows.length ? h("table", { class: "v-table v-compact" },
        h("thead", {}, h("tr", {}, ["asset", "lane", "period", "flow", "occupancy", "speed"].map((c) => h("th", { scope: "col" }, t(`mobility.col.${c}`))))),
        h("tbody", {}, rows.map((r) => h("tr", { "data-testid": `mobility-count-${r.asset_id}-${r.lane}` },
          h("td", {}, open(r.asset_id)), h("td", {}, r.lane === 0 ? t("mobility.allLanes") : n(r.lane)), h("td", {}, time(r.bucket)),
          h("td", { "data-flow": r.flow_vph },
            h("span", { class: "m-bar", style: `display:inline-block;height:0.7em;margin-right:0.4em;background:currentColor;opacity:0.5;width:${Math.round((r.flow_vph / top) * 120)}px` }),
            `${n(r.flow_vph)} ${t("mobility.vph")}`),
          h("td", {}, r.occupancy_pct === null ? "—" : `${n(r.occupancy_pct, 1)} %`),
          h("td", {}, r.speed_kmh === null ? "—" : `${n(r.speed_kmh)} km/h`)))))
        : h("p", { class: "v-muted" }, t("mobility.noCounts")));
    }).catch(failed(counts));
  }
  asset.addEventListener("change", loadCounts);
  period.addEventListener("change", loadCounts);
  loadCounts();
  return () => {};
};
