// Assigning a lighting calendar to the map's selection: a drawn polygon becomes a polygon
// assignment (limited to a commune if chosen), the filter of a commune that commune's, the
// unfiltered map the metropolis-wide default, and cabinets picked by their state one
// assignment each (the server keeps one assignment per target and says which it refused).
import { ApiError, type App } from "../app";
import type { Catalogue } from "../catalogue";
import { h } from "../dom";
import type { Schema } from "../schemas";
import type { Ring } from "./polygon";

type Calendar = Schema<"CalendarOut">;

export type AssignTarget =
  | { kind: "polygon"; ring: Ring }
  | { kind: "commune"; commune: string }
  | { kind: "default" }
  | { kind: "cabinets"; ids: string[] };

/** The catalogue's lighting cabinets: the lighting types other lighting types hang from. */
export function cabinetTypes(catalogue: Catalogue): Set<string> {
  const lighting = catalogue.allTypes().filter((t) => t.domain === "lighting");
  const keys = new Set(lighting.map((t) => t.key));
  return new Set(lighting.flatMap((t) => t.parent_types).filter((p) => keys.has(p)));
}

let forms = 0;

export function assignForm(app: App, target: AssignTarget): HTMLElement {
  const t = app.t;
  const n = ++forms;
  const calendar = h("select", { id: `assign-calendar-${n}`, "data-testid": "assign-calendar", required: true }, h("option", { value: "" }, t("assign.choose")));
  const mine = app.me.user.communes;
  const communes = app.catalogue.allCommunes().filter((c) => mine === null || mine?.includes(c.code));
  // A polygon is the metropolis's unless limited to a commune; a commune's people must limit it.
  const limit = target.kind === "polygon"
    ? h("select", { id: `assign-commune-${n}`, "data-testid": "assign-commune" },
      mine === null ? h("option", { value: "" }, t("lighting.metropolis")) : null,
      communes.map((c) => h("option", { value: c.code }, c.name)))
    : null;
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "assign-error", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "assign-submit" }, t("assign.submit"));
  const what = target.kind === "polygon" ? t("assign.polygon")
    : target.kind === "commune" ? t("assign.commune", { commune: app.catalogue.communeName(target.commune) })
      : target.kind === "default" ? t("assign.default") : t("assign.cabinets", { n: target.ids.length });
  const form = h("form", { class: "assign-form", "data-testid": "assign-form" },
    h("h3", {}, t("assign.title")),
    h("p", { "data-testid": "assign-target" }, what),
    h("div", { class: "field" }, h("label", { for: `assign-calendar-${n}` }, t("assign.calendar")), calendar),
    limit ? h("div", { class: "field" }, h("label", { for: `assign-commune-${n}` }, t("lighting.field.commune")), limit) : null,
    error,
    h("div", { class: "form-actions" }, submit));
  if (target.kind === "cabinets" && !target.ids.length) submit.disabled = true;
  void app.api.get<Calendar[]>("/lighting/calendars").then((calendars) => {
    calendar.append(...calendars.map((c) => h("option", { value: c.id }, c.name)));
  }).catch((failure: unknown) => {
    error.textContent = failure instanceof Error ? failure.message : String(failure);
    error.hidden = false;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!form.reportValidity()) return;
    const calendarId = Number(calendar.value);
    const bodies: Record<string, unknown>[] =
      target.kind === "polygon" ? [{ target: "polygon", polygon: { type: "Polygon", coordinates: [target.ring] }, commune: limit?.value || null }]
        : target.kind === "commune" ? [{ target: "commune", commune: target.commune }]
          : target.kind === "default" ? [{ target: "default" }]
            : target.ids.map((id) => ({ target: "cabinet", cabinet_id: id }));
    submit.disabled = true;
    const refused: string[] = [];
    for (const body of bodies) {
      try {
        await app.api.post("/lighting/assignments", { calendar_id: calendarId, ...body });
      } catch (failure) {
        const fields = failure instanceof ApiError ? (failure.problem.errors ?? []).map((e) => `${e.field}: ${e.message}`) : [];
        const why = failure instanceof Error ? failure.message : String(failure);
        refused.push(`${body.cabinet_id ?? body.target}: ${[why, ...fields].join("; ")}`);
      }
    }
    submit.disabled = false;
    const ok = bodies.length - refused.length;
    if (refused.length) {
      error.textContent = t("assign.partial", { ok, failed: refused.length, detail: refused.join(" · ") });
      error.hidden = false;
    } else {
      app.toast(t("assign.done", { n: ok }));
    }
  });
  return form;
}
