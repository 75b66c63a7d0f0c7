// The public APIs the portal reads: open data (Explore v2.1) and Open311 GeoReport v2.
// No login, no cookie: the same answers as anyone's curl.

export const EXPLORE = "/api/explore/v2.1";
export const OPEN311 = "/open311/v2";

export interface Field {
  name: string;
  type: string;
  description: string;
  unit?: string | null;
  coarsened?: string | null;
}

export interface Dataset {
  dataset_id: string;
  title: string;
  description: string;
  themes: string[];
  keywords: string[];
  licence: { key: string; title: string; url: string };
  provenance: string;
  publisher: string;
  frequency: string;
  fields: Field[];
  geometry: { lon: string; lat: string } | null;
  has_records: boolean;
  snapshot: { version: number; created_at: string; row_count: number } | null;
  exports: Record<string, string>;
}

export type Row = Record<string, unknown>;

/** An answer that is not 2xx: its status and body, for the page to say what went wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new HttpError(response.status, body);
  return body as T;
}

export function catalogue(q: string, theme: string): Promise<{ total_count: number; results: Dataset[] }> {
  const params = new URLSearchParams({ limit: "100" });
  if (q) params.set("q", q);
  if (theme) params.set("theme", theme);
  return getJson(`${EXPLORE}/catalog/datasets?${params}`);
}

export function dataset(id: string): Promise<Dataset> {
  return getJson(`${EXPLORE}/catalog/datasets/${encodeURIComponent(id)}`);
}

export function records(id: string, limit: number): Promise<{ total_count: number; results: Row[] }> {
  return getJson(`${EXPLORE}/catalog/datasets/${encodeURIComponent(id)}/records?limit=${limit}`);
}
