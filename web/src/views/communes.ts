// The communes' names, from the catalogue the console read when it started: every view
// shows names, the API codes.
import type { App } from "../app";

export function communeNames(app: App): Promise<Map<string, string>> {
  return Promise.resolve(new Map(app.catalogue.allCommunes().map((c) => [c.code, c.name])));
}

/** [code, name] pairs sorted by name, for a select. */
export function communeOptions(names: Map<string, string>): [string, string][] {
  return [...names.entries()].sort((a, b) => a[1].localeCompare(b[1], "fr"));
}
