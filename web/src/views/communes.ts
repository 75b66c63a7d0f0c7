// The communes' names, fetched once per page load: every view shows names, the API codes.
import type { App } from "../app";

interface Commune {
  code: string;
  name: string;
}

let cached: Promise<Map<string, string>> | null = null;

export function communeNames(app: App): Promise<Map<string, string>> {
  cached ??= app.api
    .get<Commune[]>("/communes")
    .then((list) => new Map(list.map((c) => [c.code, c.name])))
    .catch((error: unknown) => {
      cached = null; // try again next time rather than remember a failure
      throw error;
    });
  return cached;
}

/** [code, name] pairs sorted by name, for a select. */
export function communeOptions(names: Map<string, string>): [string, string][] {
  return [...names.entries()].sort((a, b) => a[1].localeCompare(b[1], "fr"));
}
