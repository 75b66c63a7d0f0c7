// The form of a road situation: its kind, what and where (drawn or pasted), when, its
// impact and detour. Errors the server names land beside their fields.
import type { App } from "../../app";
import { clearErrors, fieldProblems, placeErrors } from "../lighting/common";
import { attempt, h, labelled, selectOf } from "../dom";
import { announceChange, INCIDENTS, TYPES, typeColour, type Situation } from "./common";
import { Drawing } from "./draw";

const slot = (field: string) => h("span", { class: "v-error", "data-field": field, hidden: true });

function localInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The editor; `done` is called with the situation saved. */
export function situationEditor(app: App, editing: Situation | null, done: (saved: Situation) => void): HTMLElement {
  const t = app.t;
  const input = (name: string, attrs: Record<string, string | number | boolean> = {}) =>
    h("input", { id: `rs-${name}`, name, "data-testid": `rs-${name}`, ...attrs });
  const type = selectOf({ id: "rs-type", "data-testid": "rs-type", disabled: editing !== null }, null, TYPES.map((k) => [k, t(`roads.type.${k}`)]));
  const incident = selectOf({ id: "rs-incident", "data-testid": "rs-incident" }, "—", INCIDENTS.map((k) => [k, t(`roads.incident.${k}`)]));
  const title = input("title", { maxlength: 200, required: true });
  const road = input("road", { maxlength: 200 });
  const description = h("textarea", { id: "rs-description", rows: 2, maxlength: 2000 });
  const starts = input("starts", { type: "datetime-local" });
  const ends = input("ends", { type: "datetime-local" });
  const roadClosed = input("road_closed", { type: "checkbox" });
  const lanes = input("lanes", { type: "number", min: 1, max: 12 });
  const speed = input("speed", { type: "number", min: 5, max: 130 });
  const delay = input("delay", { type: "number", min: 1, max: 1440 });
  const pasted = h("textarea", { id: "rs-geojson", "data-testid": "rs-geojson", rows: 2, placeholder: '{"type": "LineString", "coordinates": [[5.04, 47.32], …]}' });
  const drawing = new Drawing(app, "rs-geometry", typeColour(editing?.type ?? "roadworks"));
  const detour = new Drawing(app, "rs-detour", "#2b8a3e");
  const submit = h("button", { type: "submit", class: "v-primary", "data-testid": "rs-save" }, t(editing ? "roads.save" : "roads.create"));
  const form = h("form", { class: "v-form roads-form", "data-testid": "roads-form" },
    h("h2", {}, editing ? t("roads.edit", { id: editing.id }) : t("roads.new")),
    labelled("rs-type", t("roads.field.type"), type),
    labelled("rs-incident", t("roads.field.incident"), incident), slot("incident_kind"),
    labelled("rs-title", t("roads.field.title"), title), slot("title"),
    labelled("rs-road", t("roads.field.road"), road),
    labelled("rs-starts", t("roads.field.starts"), starts), slot("starts_at"),
    labelled("rs-ends", t("roads.field.ends"), ends), slot("ends_at"),
    h("label", { class: "v-check" }, roadClosed, t("roads.field.road_closed")),
    labelled("rs-lanes", t("roads.field.lanes"), lanes),
    labelled("rs-speed", t("roads.field.speed"), speed),
    labelled("rs-delay", t("roads.field.delay"), delay),
    labelled("rs-description", t("roads.field.description"), description),
    h("p", {}, t("roads.field.geometry")), drawing.element,
    labelled("rs-geojson", t("roads.field.paste"), pasted), slot("geometry"),
    h("p", {}, t("roads.field.detour")), detour.element, slot("detour"),
    h("div", { class: "v-dialog-buttons" }, submit));
  if (editing) {
    type.value = editing.type;
    incident.value = editing.incident_kind ?? "";
    title.value = editing.title;
    road.value = editing.road;
    description.value = editing.description;
    starts.value = localInput(editing.starts_at);
    ends.value = localInput(editing.ends_at);
    roadClosed.checked = editing.impact.road_closed ?? false;
    lanes.value = String(editing.impact.lanes_closed ?? "");
    speed.value = String(editing.impact.speed_limit_kmh ?? "");
    delay.value = String(editing.impact.delay_min ?? "");
    // The maps measure themselves once on the page.
    window.setTimeout(() => {
      drawing.set(editing.geometry as never, typeColour(editing.type));
      detour.set((editing.detour ?? null) as never, "#2b8a3e");
    });
  }
  pasted.addEventListener("change", () => {
    try {
      drawing.set(pasted.value.trim() ? JSON.parse(pasted.value) : null, typeColour(type.value));
    } catch {
      placeErrors(form, [{ field: "geometry", message: t("roads.badJson") }]);
    }
  });
  const number = (el: HTMLInputElement) => (el.value ? Number(el.value) : null);
  const instant = (el: HTMLInputElement) => (el.value ? new Date(el.value).toISOString() : null);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    const body: Record<string, unknown> = {
      title: title.value.trim(), road: road.value.trim(), description: description.value.trim(),
      geometry: drawing.value(), detour: detour.value(), ends_at: instant(ends),
      impact: { road_closed: roadClosed.checked, lanes_closed: number(lanes), speed_limit_kmh: number(speed), delay_min: number(delay) },
    };
    if (starts.value) body.starts_at = instant(starts);
    if (!editing) {
      body.type = type.value;
      body.incident_kind = incident.value || null;
    } else {
      body.version = editing.version;
      if (!body.geometry) delete body.geometry;
    }
    submit.disabled = true;
    void (async () => {
      try {
        const saved = editing
          ? await app.api.patch<Situation>(`/roads/situations/${editing.id}`, body)
          : await app.api.post<Situation>("/roads/situations", body);
        announceChange();
        done(saved);
      } catch (error) {
        const left = placeErrors(form, fieldProblems(error));
        if (left.length || !fieldProblems(error).length) await attempt(app, () => Promise.reject(error));
      } finally {
        submit.disabled = false;
      }
    })();
  });
  return form;
}
