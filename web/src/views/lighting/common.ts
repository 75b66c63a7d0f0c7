// Shared by the lighting pages: the API's shapes, server errors placed beside their fields,
// local clock times, and one colour per program (the calendar and the legend agree).
import { ApiError, type App } from "../../app";
import type { Schema } from "../../schemas";

export type Program = Schema<"ProgramOut">;
export type Step = Schema<"ProgramStep">;
export type Calendar = Schema<"CalendarOut">;
export type Rule = Schema<"CalendarRule">;
export type Assignment = Schema<"AssignmentOut">;
export type Schedule = Schema<"ScheduleSummary">;
export type Preview = Schema<"ProgramPreview">;
export type CalendarDays = Schema<"CalendarDays">;
export type Why = Schema<"Why">;

export interface FieldProblem {
  field: string;
  message: string;
}

/** Whether the user may change programs, calendars and assignments (the server checks). */
export function canProgram(app: App): boolean {
  return app.can("lighting:program");
}

/** Put each message in the element of root whose data-field names its field (a dotted path
 * as the API gives it, "steps.2.level_pct"); returns the messages that found no place. */
export function placeErrors(root: ParentNode, errors: FieldProblem[], kind = "error"): FieldProblem[] {
  const left: FieldProblem[] = [];
  for (const e of errors) {
    // The closest field that has a slot: "rules.0.dates.2" lands beside "rules.0.dates".
    let field = e.field.replace(/^body\./, "");
    let slot = root.querySelector<HTMLElement>(`[data-field="${CSS.escape(field)}"]`);
    while (!slot && field.includes(".")) {
      field = field.slice(0, field.lastIndexOf("."));
      slot = root.querySelector<HTMLElement>(`[data-field="${CSS.escape(field)}"]`);
    }
    if (!slot) {
      left.push(e);
      continue;
    }
    slot.textContent = slot.hidden ? e.message : `${slot.textContent} ${e.message}`;
    slot.hidden = false;
    slot.dataset.kind = kind;
    slot.previousElementSibling?.setAttribute("aria-invalid", "true");
  }
  return left;
}

/** Empty every field error of root (of one kind, or all). */
export function clearErrors(root: ParentNode, kind?: string): void {
  for (const slot of root.querySelectorAll<HTMLElement>("[data-field]")) {
    if (kind && slot.dataset.kind !== kind) continue;
    slot.hidden = true;
    slot.textContent = "";
    slot.previousElementSibling?.removeAttribute("aria-invalid");
  }
}

/** The field errors of a refused call, or none. */
export function fieldProblems(error: unknown): FieldProblem[] {
  return error instanceof ApiError ? (error.problem.errors ?? []) : [];
}

/** HH:MM where the city is. */
export function clock(app: App, iso: string): string {
  return new Date(iso).toLocaleTimeString(app.lang === "fr" ? "fr-FR" : "en-GB", {
    timeZone: app.timeZone, hour: "2-digit", minute: "2-digit",
  });
}

/** A date (YYYY-MM-DD) as written, with its weekday. */
export function longDay(app: App, day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(app.lang === "fr" ? "fr-FR" : "en-GB", {
    timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric",
  });
}

/** Today's lighting day where the city is: before noon, it is still last night's. */
export function todayLightingDay(app: App): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: app.timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date());
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = `${get("year")}-${get("month")}-${get("day")}`;
  return Number(get("hour")) >= 12 ? day : addDays(day, -1);
}

/** A YYYY-MM-DD date moved by n days. */
export function addDays(day: string, n: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + n);
  return date.toISOString().slice(0, 10);
}

// Distinct enough side by side, and readable with dark text on them.
const PALETTE = ["#8ecae6", "#ffb703", "#90be6d", "#f28482", "#cdb4db", "#f4a261", "#84a59d", "#e9c46a"];

export function programColour(id: number): string {
  return PALETTE[(id - 1) % PALETTE.length];
}

/** A program's name, or #id when it is not in scope. */
export function programName(programs: Map<number, Program>, id: number): string {
  return programs.get(id)?.name ?? `#${id}`;
}

/** A commune's name, or "the metropolis" for metropolis-wide things. */
export function scopeName(app: App, code: string | null | undefined): string {
  return code ? app.catalogue.communeName(code) : app.t("lighting.metropolis");
}
