// Which team to give a work order: the teams fit for its category and commune, with the
// available crews nearest to the work first (docs/vehicles.md), the nearest proposed.
import type { App } from "../app";
import type { Schema } from "../schemas";

type Intervention = Schema<"InterventionOut">;
type Team = Schema<"TeamOut">;

export interface TeamChoices {
  /** [team id, label] pairs, nearest crews first. */
  options: [string, string][];
  /** The team preselected: the current one, else the nearest crew's, else the first. */
  preferred: string | null;
}

export async function teamChoices(app: App, i: Intervention, teams: Iterable<Team>): Promise<TeamChoices> {
  const all = [...teams];
  const fitting = all.filter((t) => t.categories.includes(i.category) && t.communes.includes(i.commune));
  let options = (fitting.length ? fitting : all).map((t): [string, string] => [String(t.id), t.name]);
  // Without vehicles (or their positions) the list stays as it was.
  const nearest = await nearestCrews(app, i.id);
  if (nearest.length) {
    const near = nearest.map((c): [string, string] => [
      String(c.team_id),
      app.t("vehicles.crew", { team: c.team_name, km: (c.distance_m / 1000).toFixed(1), vehicle: c.vehicle_name }),
    ]);
    const proposed = new Set(near.map(([id]) => id));
    options = [...near, ...options.filter(([id]) => !proposed.has(id))];
  }
  const preferred = i.team_id !== null ? String(i.team_id) : nearest.length ? String(nearest[0].team_id) : (options[0]?.[0] ?? null);
  return { options, preferred };
}

/** The available crews nearest to an intervention; none when it names no place, or the
 * person may not see them. */
async function nearestCrews(app: App, id: number): Promise<Schema<"CrewProposal">[]> {
  if (!app.can("intervention:manage")) return [];
  try {
    return (await app.api.get<Schema<"NearestCrews">>(`/interventions/${id}/nearest-crews`)).items;
  } catch {
    return [];
  }
}
