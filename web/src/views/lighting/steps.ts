// The program editor's steps table: one row per step, its inputs bound to the step, an
// error slot beside each field (data-field="steps.2.level_pct", as the API names it).
import type { App } from "../../app";
import { h } from "../dom";
import type { Step } from "./common";

/** A step as edited: numbers may be empty (null) until typed, and then the API says so. */
export interface DraftStep {
  kind: "level" | "presence";
  anchor: "time" | "sunset" | "sunrise";
  at: string;
  offset_min: number | null;
  level_pct: number | null;
  ramp_s: number | null;
  presence_level_pct: number | null;
  hold_s: number | null;
}

export function draftOf(step: Step): DraftStep {
  return {
    kind: step.kind ?? "level",
    anchor: step.anchor,
    at: (step.at ?? "").slice(0, 5),
    offset_min: step.offset_min ?? 0,
    level_pct: step.level_pct,
    ramp_s: step.ramp_s ?? 0,
    presence_level_pct: step.presence_level_pct ?? null,
    hold_s: step.hold_s ?? null,
  };
}

export function newStep(): DraftStep {
  return { kind: "level", anchor: "time", at: "23:00", offset_min: 0, level_pct: 50, ramp_s: 0, presence_level_pct: null, hold_s: null };
}

/** The step as the API takes it: only the fields its kind and anchor use. */
export function stepBody(step: DraftStep): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: step.kind, anchor: step.anchor, level_pct: step.level_pct, ramp_s: step.ramp_s ?? 0 };
  if (step.anchor === "time") body.at = step.at || null;
  else body.offset_min = step.offset_min ?? 0;
  if (step.kind === "presence") {
    body.presence_level_pct = step.presence_level_pct;
    body.hold_s = step.hold_s;
  }
  return body;
}

type NumberField = "offset_min" | "level_pct" | "ramp_s" | "presence_level_pct" | "hold_s";

export class StepsTable {
  readonly element: HTMLElement;
  private readonly body = h("tbody", {});

  /** changed(structural): structural changes (kind, anchor, rows) redraw the table. */
  constructor(
    private readonly app: App,
    readonly steps: DraftStep[],
    private readonly editable: boolean,
    private readonly changed: () => void,
  ) {
    const t = app.t;
    this.element = h("table", { class: "v-table v-compact l-steps", "data-testid": "program-steps" },
      h("thead", {}, h("tr", {},
        ["#", "anchor", "when", "level", "ramp", "kind", "presence", "hold"].map((c) => h("th", { scope: "col" }, t(`lighting.step.${c}`))),
        editable ? h("th", { scope: "col" }, h("span", { class: "v-sr" }, t("lighting.step.actions"))) : null)),
      this.body);
    this.render();
  }

  render(): void {
    this.body.replaceChildren(...this.steps.map((step, i) => this.row(step, i)));
  }

  private row(step: DraftStep, i: number): HTMLElement {
    const t = this.app.t;
    const slot = (field: string) => h("span", { class: "field-error", role: "alert", hidden: true, "data-field": `steps.${i}.${field}` });
    const select = (field: "anchor" | "kind", options: string[]) => {
      const control = h("select", { "data-testid": `step-${i}-${field}`, "aria-label": `${t(`lighting.step.${field}`)} ${i + 1}`, disabled: !this.editable, value: step[field] },
        options.map((o) => h("option", { value: o }, t(`lighting.${field}.${o}`))));
      control.addEventListener("change", () => {
        (step as unknown as Record<string, string>)[field] = control.value;
        if (field === "kind" && step.kind === "presence") {
          step.presence_level_pct ??= Math.max(step.level_pct ?? 0, 80);
          step.hold_s ??= 120;
        }
        this.render();
        this.changed();
      });
      return [control, slot(field)];
    };
    const number = (field: NumberField, min: number, max: number, unit: string) => {
      const input = h("input", {
        type: "number", min, max, step: 1, inputmode: "numeric", class: "l-num", disabled: !this.editable,
        "data-testid": `step-${i}-${field}`, "aria-label": `${t(`lighting.field.${field}`)} ${i + 1}`, value: step[field] ?? "",
      });
      input.addEventListener("input", () => {
        step[field] = input.value === "" ? null : Number(input.value);
        this.changed();
      });
      return h("span", { class: "l-cell" }, input, ` ${unit}`, slot(field));
    };
    let when: HTMLElement;
    if (step.anchor === "time") {
      const input = h("input", { type: "time", step: 60, disabled: !this.editable, "data-testid": `step-${i}-at`, "aria-label": `${t("lighting.field.at")} ${i + 1}`, value: step.at });
      input.addEventListener("input", () => {
        step.at = input.value;
        this.changed();
      });
      when = h("span", { class: "l-cell" }, input, slot("at"));
    } else {
      when = number("offset_min", -180, 180, "min");
    }
    const presence = step.kind === "presence";
    const move = (by: number) => () => {
      const [moved] = this.steps.splice(i, 1);
      this.steps.splice(i + by, 0, moved);
      this.render();
      this.changed();
    };
    const button = (label: string, testid: string, action: () => void, disabled = false) => {
      const b = h("button", { type: "button", "data-testid": testid, "aria-label": `${label} ${i + 1}`, title: label, disabled }, label === t("lighting.step.remove") ? "✕" : label === t("lighting.step.up") ? "↑" : "↓");
      b.addEventListener("click", action);
      return b;
    };
    return h("tr", { "data-testid": `step-${i}` },
      h("td", {}, String(i + 1)),
      h("td", {}, select("anchor", ["time", "sunset", "sunrise"])),
      h("td", {}, when),
      h("td", {}, number("level_pct", 0, 100, "%")),
      h("td", {}, number("ramp_s", 0, 3600, "s")),
      h("td", {}, select("kind", ["level", "presence"])),
      h("td", {}, presence ? number("presence_level_pct", 0, 100, "%") : "—"),
      h("td", {}, presence ? number("hold_s", 1, 3600, "s") : "—"),
      this.editable ? h("td", { class: "v-actions" },
        button(t("lighting.step.up"), `step-${i}-up`, move(-1), i === 0),
        button(t("lighting.step.down"), `step-${i}-down`, move(1), i === this.steps.length - 1),
        button(t("lighting.step.remove"), `step-${i}-remove`, () => {
          this.steps.splice(i, 1);
          this.render();
          this.changed();
        }, this.steps.length === 1)) : null,
    );
  }
}
