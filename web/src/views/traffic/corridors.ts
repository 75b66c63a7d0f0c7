// The corridors tab: each green wave's intersections in driving order, distances, travel
// times and the offsets computed; applied to all its controllers as one command batch.
import type { App } from "../../app";
import { attempt, h } from "../dom";
import { canPlan, problemItems, type Corridor } from "./common";

export function corridorsTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const status = h("p", { class: "v-muted", role: "status" });
  const list = h("div", { "data-testid": "corridor-list" });
  root.replaceChildren(h("p", { class: "v-note" }, t("traffic.corridor.about")), status, list);

  async function load(): Promise<void> {
    try {
      const corridors = await app.api.get<Corridor[]>("/traffic/corridors");
      status.textContent = corridors.length ? "" : t("traffic.corridor.none");
      list.replaceChildren(...corridors.map((c) => card(c)));
    } catch (error) {
      status.replaceChildren(...problemItems(app, error));
    }
  }

  function card(c: Corridor): HTMLElement {
    const rows = c.offsets.map((o) => h("tr", {}, h("td", {}, `${o.controller_id} · ${o.name}`), h("td", {}, `${Math.round(o.distance_m)} m`),
      h("td", {}, `${o.travel_s.toFixed(1)} s`), h("td", { "data-testid": `corridor-offset-${o.controller_id}` }, `${o.offset_s} s`)));
    const apply = canPlan(app) ? h("button", { type: "button", "data-testid": `corridor-apply-${c.id}` }, t("traffic.corridor.apply")) : null;
    apply?.addEventListener("click", async () => {
      const reason = window.prompt(t("traffic.corridor.reason"));
      if (!reason) return;
      if (await attempt(app, () => app.api.post(`/traffic/corridors/${c.id}/apply`, { reason }))) {
        app.toast(t("traffic.corridor.applied"));
        void load();
      }
    });
    return h("section", { class: "v-card", "data-testid": `corridor-${c.id}` },
      h("h2", {}, c.name),
      h("p", {}, t("traffic.corridor.summary", { speed: c.speed_kmh, cycle: c.cycle_s, plan: c.plan })),
      h("table", { class: "v-table v-compact" },
        h("thead", {}, h("tr", {}, ["intersection", "distance", "travel", "offset"].map((k) => h("th", { scope: "col" }, t(`traffic.corridor.${k}`))))),
        h("tbody", {}, rows)),
      c.applied_at ? h("p", { class: "v-muted" }, t("traffic.corridor.appliedAt", { at: app.formatTime(c.applied_at) })) : null,
      apply);
  }

  void load();
  return () => undefined;
}
