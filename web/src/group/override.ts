// An override from the map's selection or the asset panel: a level imposed on lights for a
// while, winning over their programs (POST /lighting/overrides). The end is required (an
// override always ends by itself) and so is the reason (kept in the audit log). The
// server's refusals land beside the fields they name; lights out over a commune or more is
// critical, and waits for another supervisor's approval: the form says so. Times are typed
// on the installation's clock, as they are shown.
import { ApiError, type App } from "../app";
import { h } from "../dom";
import type { Schema } from "../schemas";
import { fromLocalInput, toLocalInput } from "../zoned";
import type { Ring } from "./polygon";

type Override = Schema<"OverrideOut">;

export type OverrideTarget =
  | { kind: "assets"; ids: string[] }
  | { kind: "polygon"; ring: Ring }
  | { kind: "commune"; commune: string }
  | { kind: "metropolis" };

const HOUR_MS = 3600_000;

let forms = 0;

/** The form's body for the API: the target as its kind asks. */
function targetBody(target: OverrideTarget, commune: string | null): Record<string, unknown> {
  if (target.kind === "assets") return { target: "assets", asset_ids: target.ids };
  if (target.kind === "polygon") return { target: "polygon", polygon: { type: "Polygon", coordinates: [target.ring] }, commune };
  if (target.kind === "commune") return { target: "commune", commune: target.commune };
  return { target: "metropolis" };
}

/** The form; onMade is told of each override the server accepted. */
export function overrideForm(app: App, target: OverrideTarget, onMade?: (made: Override) => void): HTMLElement {
  const t = app.t;
  const n = ++forms;
  const id = (name: string) => `override-${name}-${n}`;
  const slot = (field: string) => h("p", { class: "field-error", "data-field": field, "data-testid": `override-error-${field}`, hidden: true });
  const level = h("input", { id: id("level"), type: "number", min: 0, max: 100, step: 1, value: 100, required: true, "data-testid": "override-level" });
  const starts = h("input", { id: id("starts"), type: "datetime-local", value: toLocalInput(new Date(), app.timeZone), "data-testid": "override-starts" });
  const ends = h("input", { id: id("ends"), type: "datetime-local", required: true, value: toLocalInput(new Date(Date.now() + 2 * HOUR_MS), app.timeZone), "data-testid": "override-ends" });
  const reason = h("textarea", { id: id("reason"), rows: 2, maxlength: 500, required: true, "data-testid": "override-reason" });
  const mine = app.me.user.communes;
  const communes = app.catalogue.allCommunes().filter((c) => mine === null || mine?.includes(c.code));
  // A polygon is the metropolis's unless limited to a commune; a commune's people must limit it.
  const limit = target.kind === "polygon"
    ? h("select", { id: id("commune"), "data-testid": "override-commune" },
      mine === null ? h("option", { value: "" }, t("lighting.metropolis")) : null,
      communes.map((c) => h("option", { value: c.code }, c.name)))
    : null;
  const critical = h("p", { class: "critical-note", "data-testid": "override-critical", hidden: true }, t("override.criticalNote"));
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "override-error", hidden: true });
  const result = h("p", { class: "hint", role: "status", "data-testid": "override-result", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "override-submit" }, t("override.submit"));
  const what = target.kind === "assets" ? t("override.assets", { n: target.ids.length })
    : target.kind === "polygon" ? t("assign.polygon")
      : target.kind === "commune" ? t("assign.commune", { commune: app.catalogue.communeName(target.commune) })
        : t("assign.default");
  const field = (name: string, label: string, control: HTMLElement) =>
    h("div", { class: "field" }, h("label", { for: control.id }, label), control, slot(name));
  const form = h("form", { class: "override-form", "data-testid": "override-form" },
    h("h3", {}, t("override.title")),
    h("p", { "data-testid": "override-target" }, what),
    field("level_pct", t("override.level"), level),
    field("starts_at", t("override.starts"), starts),
    field("ends_at", `${t("override.ends")} *`, ends),
    field("reason", `${t("panel.reason")} *`, reason),
    limit ? field("commune", t("lighting.field.commune"), limit) : null,
    h("p", { class: "field-error", "data-field": "asset_ids", hidden: true }),
    critical, error, result,
    h("div", { class: "form-actions" }, submit));
  if (target.kind === "assets" && !target.ids.length) submit.disabled = true;
  // The start left as offered means "now" (the server's): a form left open a while is not
  // refused for a start in the past.
  const offeredStart = starts.value;
  // The server decides (catalogue's off level, four-eyes setting); this only warns early.
  const wide = target.kind === "commune" || target.kind === "metropolis";
  const warn = () => { critical.hidden = !(wide && level.value !== "" && Number(level.value) === 0); };
  level.addEventListener("input", warn);

  function clear(): void {
    for (const s of form.querySelectorAll<HTMLElement>("[data-field]")) {
      s.hidden = true;
      s.textContent = "";
      s.previousElementSibling?.removeAttribute("aria-invalid");
    }
    error.hidden = true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear();
    result.hidden = true;
    if (!form.reportValidity()) return;
    const body = {
      ...targetBody(target, limit?.value || null),
      level_pct: Number(level.value),
      starts_at: starts.value && starts.value !== offeredStart ? fromLocalInput(starts.value, app.timeZone) : null,
      ends_at: fromLocalInput(ends.value, app.timeZone),
      reason: reason.value.trim(),
    };
    submit.disabled = true;
    try {
      const made = await app.api.post<Override>("/lighting/overrides", body);
      shown(made);
    } catch (failure) {
      refused(failure);
    } finally {
      submit.disabled = false;
    }
  });

  function shown(made: Override): void {
    result.dataset.state = made.state;
    result.dataset.id = String(made.id);
    result.textContent = made.state === "pending_approval"
      ? t("override.awaiting", { id: made.id })
      : t("override.made", { id: made.id, state: t(`override.state.${made.state}`) });
    result.hidden = false;
    app.toast(result.textContent);
    onMade?.(made);
  }

  function refused(failure: unknown): void {
    const problems = failure instanceof ApiError ? (failure.problem.errors ?? []) : [];
    const left: string[] = [];
    for (const p of problems) {
      const name = p.field.replace(/^body\./, "").split(".")[0];
      const place = form.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`);
      if (!place) {
        left.push(`${p.field}: ${p.message}`);
        continue;
      }
      place.textContent = place.hidden ? p.message : `${place.textContent} ${p.message}`;
      place.hidden = false;
      place.previousElementSibling?.setAttribute("aria-invalid", "true");
    }
    if (!problems.length || left.length) {
      const main = failure instanceof ApiError ? (failure.problem.detail ?? failure.problem.title ?? String(failure.status)) : String(failure);
      error.textContent = [main, ...left].join(" · ");
      error.hidden = false;
    }
  }
  return form;
}
