// Shared by the traffic pages: the API's shapes, and a refused call's errors as a list
// (the plan validator names stage, groups and seconds: shown as they come).
import { ApiError, type App } from "../../app";
import type { Schema } from "../../schemas";
import { errorText, h } from "../dom";

export type Controller = Schema<"ControllerSummary">;
export type Config = Schema<"ConfigOut">;
export type Plan = Schema<"PlanOut">;
export type PlanCheck = Schema<"PlanCheck">;
export type Timetable = Schema<"TimetableOut">;
export type Corridor = Schema<"CorridorOut">;
export type State = Schema<"StateOut">;

/** Whether the user may change plans, timetables and corridors (the server checks). */
export function canPlan(app: App): boolean {
  return app.can("traffic:plan");
}

/** The errors of a refused call as list items (one per field error), else its text. */
export function problemItems(app: App, error: unknown): HTMLElement[] {
  const fields = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  if (!fields.length) return [h("li", {}, errorText(app, error))];
  return fields.map((e) => h("li", { "data-field": e.field }, `${e.field}: ${e.message}`));
}

/** The current value of a telemetry key, or a dash. */
export function value(state: State | null, key: string): string {
  const point = state?.values[key];
  return point === undefined || point.value === null ? "—" : String(point.value);
}

/** "1-5" style day lists for ISO weekdays. */
export function daysText(app: App, days: number[]): string {
  return days.map((d) => app.t(`traffic.day.${d}`)).join(" ");
}
