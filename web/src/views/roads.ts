// Road operations: works, closures, events and incidents of the user's communes, newest
// first; a form to record or change one (drawn on a map or pasted as GeoJSON); ending or
// calling one off; and the message signs near each.
import type { Mount } from "../app";
import { fill } from "../dom";
import { askForm } from "./dialog";
import { attempt, errorText, h, selectOf } from "./dom";
import { announceChange, OPEN, TYPES, typeColour, type Situation } from "./roads/common";
import { situationEditor } from "./roads/editor";
import { signsPanel } from "./roads/signs";
import "./roads/roads.css";
import "./views.css";

export const mount: Mount = (root, app) => {
  const t = app.t;
  const status = h("p", { class: "v-muted", role: "status" });
  const list = h("div", { class: "v-scroll", "data-testid": "roads-list" });
  const side = h("div", { class: "roads-side" });
  const show = selectOf({ "data-testid": "roads-show", "aria-label": t("roads.show") }, null,
    [["open", t("roads.show.open")], ["all", t("roads.show.all")]]);
  const kind = selectOf({ "data-testid": "roads-kind", "aria-label": t("roads.field.type") }, t("roads.allTypes"),
    TYPES.map((k) => [k, t(`roads.type.${k}`)]));
  const create = h("button", { type: "button", class: "v-primary", "data-testid": "roads-new", hidden: !app.can("roads:manage") }, t("roads.new"));
  const datex = h("a", { href: "/api/v1/roads/datex2?planned=true", download: "", "data-testid": "roads-datex" }, t("roads.datex"));
  root.replaceChildren(h("section", { class: "v-view" },
    h("header", { class: "v-head" }, h("h1", {}, t("roads.title")), show, kind, datex, create),
    status, h("div", { class: "roads-layout" }, list, side)));
  let situations: Situation[] = [];

  async function load(): Promise<void> {
    try {
      situations = await app.api.get<Situation[]>("/roads/situations");
      render();
    } catch (error) {
      status.textContent = errorText(app, error);
    }
  }

  function render(): void {
    const shown = situations.filter((s) => (show.value === "all" || OPEN.has(s.status)) && (!kind.value || s.type === kind.value));
    status.textContent = shown.length ? "" : t("roads.none");
    const manage = app.can("roads:manage");
    fill(list, h("table", { class: "v-table v-compact" },
      h("thead", {}, h("tr", {}, ...["roads.col.kind", "roads.col.what", "roads.col.period", "roads.col.status", "roads.col.communes", ""].map((k) => h("th", {}, k ? t(k) : "")))),
      h("tbody", {}, ...shown.map((s) => h("tr", { "data-testid": "situation-row", "data-id": s.id },
        h("td", {}, h("span", { class: "roads-swatch", style: `background:${typeColour(s.type)}` }), t(`roads.type.${s.type}`),
          s.incident_kind ? ` (${t(`roads.incident.${s.incident_kind}`)})` : ""),
        h("td", {}, h("strong", {}, s.title), h("br"), s.road, impactText(s)),
        h("td", {}, app.formatTime(s.starts_at), " → ", s.ends_at ? app.formatTime(s.ends_at) : "…"),
        h("td", { "data-testid": "situation-status" }, t(`roads.status.${s.status}`)),
        h("td", {}, s.communes.map((c) => app.catalogue.communeName(c)).join(", ")),
        h("td", { class: "roads-actions" },
          button("signs", () => void openSigns(s)),
          manage && OPEN.has(s.status) ? button("edit", () => edit(s)) : null,
          manage && s.status === "active" ? button("end", () => void close(s, "end")) : null,
          manage && OPEN.has(s.status) ? button("cancel", () => void close(s, "cancel")) : null))))));
  }

  function impactText(s: Situation): string {
    const parts = [];
    if (s.impact.road_closed) parts.push(t("roads.impact.closed"));
    if (s.impact.lanes_closed) parts.push(t("roads.impact.lanes", { n: s.impact.lanes_closed }));
    if (s.impact.speed_limit_kmh) parts.push(`${s.impact.speed_limit_kmh} km/h`);
    if (s.impact.delay_min) parts.push(t("roads.impact.delay", { n: s.impact.delay_min }));
    if (s.detour) parts.push(t("roads.impact.detour"));
    return parts.length ? ` — ${parts.join(", ")}` : "";
  }

  function button(action: string, onclick: () => void): HTMLElement {
    return h("button", { type: "button", "data-testid": `situation-${action}`, onclick }, t(`roads.action.${action}`));
  }

  function edit(s: Situation | null): void {
    fill(side, situationEditor(app, s, (saved) => {
      app.toast(t("roads.saved", { id: saved.id }));
      fill(side);
      void load().then(() => void openSigns(saved));
    }));
  }

  async function openSigns(s: Situation): Promise<void> {
    fill(side, await signsPanel(app, s, () => void openSigns(s)));
  }

  async function close(s: Situation, action: "end" | "cancel"): Promise<void> {
    const asked = await askForm(app, t(`roads.confirm.${action}`, { id: s.id }),
      [{ name: "reason", label: t("roads.reason"), kind: "textarea", required: true }], t(`roads.action.${action}`));
    if (!asked) return;
    await attempt(app, async () => {
      const closed = await app.api.post<Situation>(`/roads/situations/${s.id}/${action}`, { version: s.version, reason: asked.reason });
      announceChange();
      await load();
      await openSigns(closed);
    });
  }

  create.addEventListener("click", () => edit(null));
  show.addEventListener("change", render);
  kind.addEventListener("change", render);
  void load();
  return () => undefined;
};
