// The assignments tab (which calendar each target follows, most specific first; new ones
// are made from a selection on the map) and the schedules tab (what each cabinet's
// controller runs, and its version).
import type { App } from "../../app";
import { attempt, errorText, h } from "../dom";
import { canProgram, scopeName, type Assignment, type Calendar, type Schedule } from "./common";

const PRECEDENCE = ["cabinet", "group", "polygon", "commune", "default"];

export function assignmentsTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const body = h("tbody", {});
  const status = h("p", { class: "v-muted", role: "status" });
  const toMap = h("button", { type: "button", "data-testid": "assign-on-map" }, t("lighting.assignment.onMap"));
  toMap.addEventListener("click", () => app.navigate("map"));
  root.replaceChildren(h("div", {},
    h("p", { class: "v-note" }, t("lighting.assignment.precedence")),
    canProgram(app) ? h("p", {}, toMap, " ", h("span", { class: "v-muted" }, t("lighting.assignment.howTo"))) : null,
    status,
    h("table", { class: "v-table v-compact", "data-testid": "assignment-list" },
      h("thead", {}, h("tr", {}, ["target", "which", "calendar", "scope", "by"].map((c) => h("th", { scope: "col" }, t(`lighting.assignment.${c}`))),
        canProgram(app) ? h("th", { scope: "col" }, h("span", { class: "v-sr" }, t("lighting.step.actions"))) : null)),
      body)));

  function which(a: Assignment): Node | string {
    if (a.target === "cabinet" && a.cabinet_id) {
      const link = h("button", { type: "button", class: "v-link" }, a.cabinet_id);
      link.addEventListener("click", () => app.openAsset(a.cabinet_id!));
      return link;
    }
    if (a.target === "group") return t("lighting.assignment.group", { id: a.group_id ?? "" });
    if (a.target === "polygon") {
      const corners = Math.max(0, ((a.polygon?.coordinates as unknown[][] | undefined)?.[0]?.length ?? 1) - 1);
      return t("lighting.assignment.polygon", { n: corners });
    }
    if (a.target === "commune") return scopeName(app, a.commune);
    return t("lighting.metropolis");
  }

  async function load(): Promise<void> {
    try {
      const [assignments, calendars] = await Promise.all([
        app.api.get<Assignment[]>("/lighting/assignments"), app.api.get<Calendar[]>("/lighting/calendars"),
      ]);
      const names = new Map(calendars.map((c) => [c.id, c.name]));
      assignments.sort((a, b) => PRECEDENCE.indexOf(a.target) - PRECEDENCE.indexOf(b.target) || b.created_at.localeCompare(a.created_at));
      status.textContent = assignments.length ? "" : t("lighting.assignment.none");
      body.replaceChildren(...assignments.map((a) => {
        const remove = canProgram(app) ? h("button", { type: "button", "data-testid": `assignment-${a.id}-delete` }, t("lighting.delete")) : null;
        remove?.addEventListener("click", async () => {
          if (!window.confirm(t("lighting.assignment.confirmDelete"))) return;
          if (await attempt(app, () => app.api.del(`/lighting/assignments/${a.id}`))) void load();
        });
        return h("tr", { "data-testid": `assignment-${a.id}` },
          h("td", {}, t(`lighting.target.${a.target}`)), h("td", {}, which(a)),
          h("td", {}, names.get(a.calendar_id) ?? `#${a.calendar_id}`), h("td", {}, scopeName(app, a.commune)),
          h("td", { class: "v-muted" }, `${a.created_by} · ${app.formatTime(a.created_at)}`),
          remove ? h("td", {}, remove) : null);
      }));
    } catch (error) {
      status.textContent = errorText(app, error);
    }
  }

  void load();
  return () => undefined;
}

export function schedulesTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const body = h("tbody", {});
  const status = h("p", { class: "v-muted", role: "status" });
  const behindOnly = h("input", { type: "checkbox", id: "schedule-behind", "data-testid": "schedule-behind" });
  behindOnly.addEventListener("change", () => void load());
  const version = (v: number | null | undefined) => (v === null || v === undefined ? "—" : String(v));
  root.replaceChildren(
    h("p", { class: "v-note" }, t("lighting.schedule.about")),
    h("p", { class: "field checkbox" }, behindOnly, h("label", { for: "schedule-behind" }, t("lighting.schedule.behindOnly"))),
    status,
    h("div", { class: "v-scroll" }, h("table", { class: "v-table v-compact", "data-testid": "schedule-list" },
      h("thead", {}, h("tr", {}, ["cabinet", "version", "delivered", "acked", "hash", "compiled"].map((c) => h("th", { scope: "col" }, t(`lighting.schedule.${c}`))))),
      body)));

  async function load(): Promise<void> {
    try {
      const schedules = await app.api.get<Schedule[]>(`/lighting/schedules${behindOnly.checked ? "?behind=true" : ""}`);
      const behind = schedules.filter((s) => s.behind).length;
      status.textContent = schedules.length
        ? `${t("lighting.schedule.count", { n: schedules.length })} · ${t("lighting.schedule.behindCount", { n: behind })}`
        : t(behindOnly.checked ? "lighting.schedule.noneBehind" : "lighting.schedule.none");
      body.replaceChildren(...schedules.map((s) => {
        const link = h("button", { type: "button", class: "v-link" }, s.cabinet_id);
        link.addEventListener("click", () => app.openAsset(s.cabinet_id));
        // Behind: the controller does not run (or was not sent) the latest version.
        return h("tr", { "data-testid": `schedule-${s.cabinet_id}`, "data-behind": String(s.behind), class: s.behind ? "l-behind" : "" },
          h("td", {}, link, s.behind ? h("span", { class: "l-badge" }, ` ${t("lighting.schedule.behind")}`) : null),
          h("td", { "data-testid": "schedule-version" }, String(s.version)),
          h("td", { "data-testid": "schedule-delivered", title: app.formatTime(s.delivered_at) }, version(s.delivered_version)),
          h("td", { "data-testid": "schedule-acked", title: app.formatTime(s.acked_at) }, version(s.acked_version)),
          h("td", {}, h("code", { title: s.content_hash }, s.content_hash.slice(0, 12))), h("td", {}, app.formatTime(s.compiled_at)));
      }));
    } catch (error) {
      status.textContent = errorText(app, error);
    }
  }

  void load();
  return () => undefined;
}
