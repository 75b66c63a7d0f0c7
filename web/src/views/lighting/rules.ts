// The calendar editor's rules table: one row per rule, in the order they are tried, its
// inputs the ones its kind takes, an error slot beside each (data-field="rules.0.dates").
import type { App } from "../../app";
import { h } from "../dom";
import { programName, type Program, type Rule } from "./common";

export const HOLIDAYS = [
  "any", "new_years_day", "easter_monday", "labour_day", "victory_day", "ascension_day", "whit_monday",
  "national_day", "assumption_day", "all_saints_day", "armistice_day", "christmas_day",
];
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const KINDS = ["dates", "weekdays", "period", "holidays"] as const;

/** A rule as edited: every kind's fields kept, so switching kind back loses nothing. */
export interface DraftRule {
  kind: (typeof KINDS)[number];
  program_id: number;
  label: string;
  annual: boolean;
  dates: string;
  weekdays: string[];
  start: string;
  end: string;
  holidays: string[];
}

export function draftRule(rule: Rule | null, program: number): DraftRule {
  return {
    kind: rule?.kind ?? "dates", program_id: rule?.program_id ?? program, label: rule?.label ?? "", annual: rule?.annual ?? false,
    dates: (rule?.dates ?? []).join(", "), weekdays: rule?.weekdays ?? [], start: rule?.start ?? "", end: rule?.end ?? "",
    holidays: rule?.holidays ?? [],
  };
}

/** The rule as the API takes it: only the fields of its kind. */
export function ruleBody(rule: DraftRule): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: rule.kind, program_id: rule.program_id, label: rule.label };
  if (rule.kind === "dates") Object.assign(body, { dates: rule.dates.split(/[\s,;]+/).filter(Boolean), annual: rule.annual });
  else if (rule.kind === "weekdays") body.weekdays = rule.weekdays;
  else if (rule.kind === "period") Object.assign(body, { start: rule.start || null, end: rule.end || null, annual: rule.annual });
  else body.holidays = rule.holidays;
  return body;
}

export class RulesTable {
  readonly element: HTMLElement;
  private readonly body = h("tbody", {});

  constructor(
    private readonly app: App,
    readonly rules: DraftRule[],
    private readonly programs: Program[],
    private readonly changed: () => void,
  ) {
    const t = app.t;
    this.element = h("table", { class: "v-table v-compact l-rules", "data-testid": "calendar-rules-edit" },
      h("caption", { class: "v-muted" }, t("lighting.calendar.order")),
      h("thead", {}, h("tr", {}, ["#", "kind", "matches", "program", "label"].map((c) => h("th", { scope: "col" }, t(`lighting.rule.${c}`))),
        h("th", { scope: "col" }, h("span", { class: "v-sr" }, t("lighting.step.actions"))))),
      this.body);
    this.render();
  }

  render(): void {
    this.body.replaceChildren(...this.rules.map((rule, i) => this.row(rule, i)));
  }

  private row(rule: DraftRule, i: number): HTMLElement {
    const t = this.app.t;
    const slot = (field: string) => h("span", { class: "field-error", role: "alert", hidden: true, "data-field": `rules.${i}.${field}` });
    const label = (name: string) => `${t(`lighting.rule.${name}`)} ${i}`;
    const kind = h("select", { "data-testid": `rule-${i}-kind`, "aria-label": label("kind"), value: rule.kind },
      KINDS.map((k) => h("option", { value: k }, t(`lighting.rule.kind.${k}`))));
    kind.addEventListener("change", () => {
      rule.kind = kind.value as DraftRule["kind"];
      this.redraw();
    });
    const program = h("select", { "data-testid": `rule-${i}-program`, "aria-label": label("program"), value: rule.program_id },
      this.programs.map((p) => h("option", { value: p.id }, p.name)),
      this.programs.some((p) => p.id === rule.program_id) ? null : h("option", { value: rule.program_id }, programName(new Map(), rule.program_id)));
    program.addEventListener("change", () => {
      rule.program_id = Number(program.value);
      this.changed();
    });
    const text = h("input", { "data-testid": `rule-${i}-label`, "aria-label": label("label"), maxlength: 200, value: rule.label });
    text.addEventListener("input", () => {
      rule.label = text.value;
      this.changed();
    });
    const move = (by: number) => () => {
      const [moved] = this.rules.splice(i, 1);
      this.rules.splice(i + by, 0, moved);
      this.redraw();
    };
    const button = (symbol: string, name: string, action: () => void, disabled: boolean) => {
      const b = h("button", { type: "button", "data-testid": `rule-${i}-${name}`, "aria-label": `${t(`lighting.step.${name === "remove" ? "remove" : name}`)} ${i}`, disabled }, symbol);
      b.addEventListener("click", action);
      return b;
    };
    return h("tr", { "data-testid": `rule-${i}` },
      h("td", {}, String(i)),
      h("td", {}, kind, slot("kind")),
      h("td", {}, this.matches(rule, i, slot)),
      h("td", {}, program, slot("program_id")),
      h("td", {}, text, slot("label")),
      h("td", { class: "v-actions" },
        button("↑", "up", move(-1), i === 0),
        button("↓", "down", move(1), i === this.rules.length - 1),
        button("✕", "remove", () => {
          this.rules.splice(i, 1);
          this.redraw();
        }, false)));
  }

  /** The inputs of the rule's kind. */
  private matches(rule: DraftRule, i: number, slot: (field: string) => HTMLElement): HTMLElement {
    const t = this.app.t;
    const input = (field: "dates" | "start" | "end", type: string) => {
      const control = h("input", { type, "data-testid": `rule-${i}-${field}`, "aria-label": `${t(`lighting.rule.field.${field}`)} ${i}`, value: rule[field] });
      control.addEventListener("input", () => {
        rule[field] = control.value;
        this.changed();
      });
      return h("span", { class: "l-cell" }, control, slot(field));
    };
    const annual = () => {
      const box = h("input", { type: "checkbox", "data-testid": `rule-${i}-annual`, checked: rule.annual });
      box.addEventListener("change", () => {
        rule.annual = box.checked;
        this.changed();
      });
      return h("label", { class: "v-check" }, box, t("lighting.rule.annual"), slot("annual"));
    };
    const checks = (field: "weekdays" | "holidays", values: string[], word: (v: string) => string) => h("span", { class: "l-checks" },
      values.map((v) => {
        const box = h("input", { type: "checkbox", "data-testid": `rule-${i}-${field}-${v}`, checked: rule[field].includes(v) });
        box.addEventListener("change", () => {
          rule[field] = box.checked ? [...rule[field], v] : rule[field].filter((x) => x !== v);
          this.changed();
        });
        return h("label", { class: "v-check" }, box, word(v));
      }), slot(field));
    if (rule.kind === "dates") return h("div", {}, input("dates", "text"), annual());
    if (rule.kind === "period") return h("div", {}, input("start", "date"), " → ", input("end", "date"), annual());
    if (rule.kind === "weekdays") return checks("weekdays", WEEKDAYS, (d) => t(`lighting.weekday.${d}`).slice(0, 3));
    return checks("holidays", HOLIDAYS, (k) => t(`lighting.holiday.${k}`));
  }

  private redraw(): void {
    this.render();
    this.changed();
  }
}
