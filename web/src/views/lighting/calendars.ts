// The calendars tab: a calendar's rules in the order they are tried, its default program,
// and a month (or year) of lighting days coloured by the program each runs, as the server
// works it out (GET /lighting/calendars/{id}/days): the same matching the controllers do.
import type { App } from "../../app";
import { errorText, h } from "../dom";
import { CalendarEditor } from "./calendar-editor";
import {
  addDays, canProgram, longDay, programColour, programName, scopeName, todayLightingDay,
  type Calendar, type CalendarDays, type Program, type Rule,
} from "./common";

export function calendarsTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const list = h("ul", { class: "l-list", "data-testid": "calendar-list" });
  const slot = h("div", { class: "l-main" });
  let programs = new Map<number, Program>();
  let seq = 0;
  // A new calendar begun before the list arrived is not replaced by the first calendar.
  let creating = false;
  const create = canProgram(app) ? h("button", { type: "button", class: "v-primary", "data-testid": "calendar-new" }, t("lighting.calendar.new")) : null;
  create?.addEventListener("click", () => {
    creating = true;
    for (const item of list.querySelectorAll<HTMLElement>("button")) item.setAttribute("aria-current", "false");
    slot.replaceChildren(h("h2", {}, t("lighting.calendar.new")),
      new CalendarEditor(app, null, [...programs.values()], (saved) => void load(saved.id), () => void load(null)).element);
  });
  root.replaceChildren(h("div", { class: "l-split" }, h("nav", { class: "l-side", "aria-label": t("lighting.tab.calendars") }, create, list), slot));

  function ruleText(rule: Rule): string {
    switch (rule.kind) {
      case "dates": return (rule.dates ?? []).join(", ") + (rule.annual ? ` (${t("lighting.rule.annual")})` : "");
      case "weekdays": return (rule.weekdays ?? []).map((d) => t(`lighting.weekday.${d}`)).join(", ");
      case "period": return `${rule.start} → ${rule.end}` + (rule.annual ? ` (${t("lighting.rule.annual")})` : "");
      default: return (rule.holidays ?? []).join(", ");
    }
  }

  function open(calendar: Calendar): void {
    creating = false;
    for (const item of list.querySelectorAll<HTMLElement>("button")) item.setAttribute("aria-current", String(item.dataset.id === String(calendar.id)));
    const month = todayLightingDay(app).slice(0, 7);
    const days = h("div", { class: "l-days", "data-testid": "calendar-days" });
    const mode = h("select", { "data-testid": "calendar-mode", "aria-label": t("lighting.calendar.mode") },
      h("option", { value: "month" }, t("lighting.calendar.month")), h("option", { value: "year" }, t("lighting.calendar.year")));
    const when = h("input", { type: "month", "data-testid": "calendar-month", "aria-label": t("lighting.calendar.month"), value: month });
    const shift = (by: number) => () => {
      const [y, m] = when.value.split("-").map(Number);
      const moved = new Date(Date.UTC(y, m - 1 + (mode.value === "year" ? 12 * by : by), 1));
      when.value = moved.toISOString().slice(0, 7);
      void draw();
    };
    const previous = h("button", { type: "button", "data-testid": "calendar-previous", "aria-label": t("lighting.calendar.previous") }, "‹");
    const next = h("button", { type: "button", "data-testid": "calendar-next", "aria-label": t("lighting.calendar.next") }, "›");
    previous.addEventListener("click", shift(-1));
    next.addEventListener("click", shift(1));
    for (const control of [mode, when]) control.addEventListener("change", () => void draw());

    async function draw(): Promise<void> {
      const mine = ++seq;
      const first = mode.value === "year" ? `${when.value.slice(0, 4)}-01-01` : `${when.value}-01`;
      const last = mode.value === "year" ? `${when.value.slice(0, 4)}-12-31` : addDays(`${monthAfter(when.value)}-01`, -1);
      const count = Math.round((Date.parse(last) - Date.parse(first)) / 86_400_000) + 1;
      try {
        const answer = await app.api.get<CalendarDays>(`/lighting/calendars/${calendar.id}/days`, { start: first, days: count });
        if (mine !== seq) return;
        const months = new Map<string, CalendarDays["days"]>();
        for (const d of answer.days) months.set(d.day.slice(0, 7), [...(months.get(d.day.slice(0, 7)) ?? []), d]);
        days.replaceChildren(...[...months.entries()].map(([m, ds]) => monthGrid(m, ds, mode.value === "year")));
        days.classList.toggle("l-year", mode.value === "year");
      } catch (error) {
        if (mine === seq) days.replaceChildren(h("p", { class: "v-error" }, errorText(app, error)));
      }
    }

    const used = [...new Set([...calendar.rules.map((r) => r.program_id), calendar.default_program_id])];
    slot.replaceChildren(h("article", { class: "l-calendar", "data-testid": "calendar-detail" },
      h("h2", {}, calendar.name, h("span", { class: "v-muted" }, ` · ${scopeName(app, calendar.commune)} · ${t("lighting.version", { n: calendar.version })}`)),
      calendar.description ? h("p", {}, calendar.description) : null,
      canProgram(app)
        ? new CalendarEditor(app, calendar, [...programs.values()], (saved) => void load(saved.id), () => void load(null)).element
        : rulesTable(calendar),
      h("div", { class: "v-filters" }, mode, previous, when, next),
      h("ul", { class: "l-legend" }, used.map((id) => h("li", {}, swatch(id), programName(programs, id)))),
      days));
    void draw();
  }

  /** The rules in the order they are tried, read-only. */
  function rulesTable(calendar: Calendar): HTMLElement {
    return h("table", { class: "v-table v-compact", "data-testid": "calendar-rules" },
      h("caption", { class: "v-muted" }, t("lighting.calendar.order")),
      h("thead", {}, h("tr", {}, ["#", "kind", "matches", "program", "label"].map((c) => h("th", { scope: "col" }, t(`lighting.rule.${c}`))))),
      h("tbody", {},
        calendar.rules.map((rule, i) => h("tr", { "data-testid": `rule-${i}` },
          h("td", {}, String(i)), h("td", {}, t(`lighting.rule.kind.${rule.kind}`)), h("td", {}, ruleText(rule)),
          h("td", {}, swatch(rule.program_id), programName(programs, rule.program_id)), h("td", {}, rule.label ?? ""))),
        h("tr", { "data-testid": "rule-default" }, h("td", {}, "—"), h("td", { colspan: 2 }, t("lighting.rule.default")),
          h("td", {}, swatch(calendar.default_program_id), programName(programs, calendar.default_program_id)), h("td", {}))));
  }

  function swatch(id: number): HTMLElement {
    return h("span", { class: "l-swatch", style: `background:${programColour(id)}`, "aria-hidden": "true" });
  }

  /** One month, Monday first; each day titled with its program and the rule that chose it. */
  function monthGrid(month: string, ds: CalendarDays["days"], small: boolean): HTMLElement {
    const title = new Date(`${month}-01T00:00:00Z`).toLocaleDateString(app.lang === "fr" ? "fr-FR" : "en-GB", { timeZone: "UTC", month: "long", year: "numeric" });
    const blank = (new Date(`${month}-01T00:00:00Z`).getUTCDay() + 6) % 7;
    const heads = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => h("span", { class: "l-dayhead" }, t(`lighting.weekday.${d}`).slice(0, small ? 1 : 3)));
    const cells = ds.map((d) => {
      const why = d.rule_index === null ? t("lighting.rule.default") : t("lighting.calendar.byRule", { n: d.rule_index });
      const name = programName(programs, d.program_id);
      return h("span", {
        class: `l-day${d.rule_index === null ? "" : " l-ruled"}`, style: `background:${programColour(d.program_id)}`,
        "data-testid": `day-${d.day}`, "data-program": d.program_id, "data-rule": d.rule_index ?? "", title: `${longDay(app, d.day)} · ${name} · ${why}`,
      }, h("span", {}, String(Number(d.day.slice(8)))), small ? null : h("small", {}, name));
    });
    return h("section", { class: "l-month" }, h("h3", {}, title),
      h("div", { class: "l-grid" }, heads, Array.from({ length: blank }, () => h("span", {})), cells));
  }

  async function load(show: number | null): Promise<void> {
    try {
      const [calendars, all] = await Promise.all([
        app.api.get<Calendar[]>("/lighting/calendars"), app.api.get<Program[]>("/lighting/programs"),
      ]);
      programs = new Map(all.map((p) => [p.id, p]));
      list.replaceChildren(...calendars.map((c) => {
        const item = h("button", { type: "button", "data-id": c.id, "data-testid": `calendar-${c.id}` },
          h("strong", {}, c.name), h("span", { class: "v-muted" }, ` · ${scopeName(app, c.commune)}`));
        item.addEventListener("click", () => open(c));
        return h("li", {}, item);
      }));
      const wanted = calendars.find((c) => c.id === show) ?? calendars[0];
      if (creating && show === null) return;
      if (wanted) open(wanted);
      else {
        list.append(h("li", { class: "v-muted" }, t("lighting.calendar.none")));
        slot.replaceChildren();
      }
    } catch (error) {
      slot.replaceChildren(h("p", { class: "v-error" }, errorText(app, error)));
    }
  }

  void load(null);
  return () => seq++;
}

function monthAfter(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
}
