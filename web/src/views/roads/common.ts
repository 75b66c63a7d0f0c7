// Shared by the road pages and the map layer: the API's shapes and one colour per kind of
// situation (the map, the list and the legend agree).
import type { Api } from "../../app";
import type { Schema } from "../../schemas";

export type Situation = Schema<"SituationOut">;
export type SignsOut = Schema<"SignsOut">;
export type SignsSent = Schema<"SignsSent">;

export const TYPES = ["roadworks", "closure", "event", "incident"] as const;
export const INCIDENTS = ["accident", "broken_down_vehicle", "obstruction", "flooding", "other"] as const;
export const OPEN = new Set(["planned", "active"]);

const COLOURS: Record<string, string> = {
  roadworks: "#e67700",
  closure: "#c92a2a",
  event: "#5f3dc4",
  incident: "#d6336c",
};

export function typeColour(type: string): string {
  return COLOURS[type] ?? "#495057";
}

/** Situations that are planned or under way (what the map shows). */
export async function openSituations(api: Api): Promise<Situation[]> {
  const all = await api.get<Situation[]>("/roads/situations");
  return all.filter((s) => OPEN.has(s.status));
}

/** Tell the map (and whoever listens) that situations changed. */
export function announceChange(): void {
  window.dispatchEvent(new Event("beffroi:roads-changed"));
}
