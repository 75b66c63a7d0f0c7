// Every asset of the map in flat arrays: 36,000 of them cost little memory, and a state
// change is one array write.
import type { AssetState, Severity } from "../app";
import type { Schema } from "../schemas";

export type MapPayload = Schema<"MapOut">;

/**
 * How an asset is drawn, worst last: a cluster takes the look of its worst member.
 * Maintenance is expected work and ranks low; an alarm ranks by its severity.
 */
export const LOOKS = [
  "ok",
  "maintenance",
  "commanded",
  "unknown",
  "offline",
  "alarm_warning",
  "alarm_minor",
  "alarm_major",
  "alarm_critical",
] as const;
export type Look = (typeof LOOKS)[number];

const LOOK_INDEX = new Map<string, number>(LOOKS.map((look, i) => [look, i]));

export function lookOf(state: AssetState | string, severity: Severity | string | null): number {
  if (state === "alarm") return LOOK_INDEX.get(`alarm_${severity ?? "warning"}`) ?? LOOK_INDEX.get("alarm_warning")!;
  return LOOK_INDEX.get(state) ?? LOOK_INDEX.get("unknown")!;
}

/** The map state a look stands for (what the state filter compares). */
export function stateOfLook(look: number): AssetState {
  const name = LOOKS[look] ?? "unknown";
  return (name.startsWith("alarm_") ? "alarm" : name) as AssetState;
}

export class AssetStore {
  ids: string[] = [];
  names: string[] = [];
  /** Index into typeKeys / communeKeys. */
  types = new Uint8Array(0);
  communes = new Uint16Array(0);
  lon = new Float64Array(0);
  lat = new Float64Array(0);
  looks = new Uint8Array(0);
  typeKeys: string[] = [];
  communeKeys: string[] = [];
  private byId = new Map<string, number>();
  private searchable: string[] | null = null;

  get size(): number {
    return this.ids.length;
  }

  load(payload: MapPayload): void {
    const col = (name: string) => {
      const at = payload.columns.indexOf(name);
      if (at < 0) throw new Error(`the map has no column ${name}`);
      return at;
    };
    const [cId, cType, cName, cCommune, cLon, cLat, cState, cSeverity] = [
      "id", "type", "name", "commune", "lon", "lat", "state", "severity",
    ].map(col);
    const rows = payload.rows.filter((row) => typeof row[cLon] === "number" && typeof row[cLat] === "number");
    const n = rows.length;
    const typeIndex = new Map<string, number>();
    const communeIndex = new Map<string, number>();
    const intern = (index: Map<string, number>, keys: string[], key: string) => {
      let at = index.get(key);
      if (at === undefined) {
        at = keys.length;
        keys.push(key);
        index.set(key, at);
      }
      return at;
    };
    this.typeKeys = [];
    this.communeKeys = [];
    this.ids = new Array<string>(n);
    this.names = new Array<string>(n);
    this.types = new Uint8Array(n);
    this.communes = new Uint16Array(n);
    this.lon = new Float64Array(n);
    this.lat = new Float64Array(n);
    this.looks = new Uint8Array(n);
    this.byId = new Map();
    this.searchable = null;
    rows.forEach((row, i) => {
      const id = String(row[cId]);
      this.ids[i] = id;
      this.names[i] = String(row[cName] ?? "");
      this.types[i] = intern(typeIndex, this.typeKeys, String(row[cType]));
      this.communes[i] = intern(communeIndex, this.communeKeys, String(row[cCommune]));
      this.lon[i] = row[cLon] as number;
      this.lat[i] = row[cLat] as number;
      this.looks[i] = lookOf(String(row[cState]), row[cSeverity] as Severity | null);
      this.byId.set(id, i);
    });
  }

  indexOf(id: string): number | undefined {
    return this.byId.get(id);
  }

  typeOf(i: number): string {
    return this.typeKeys[this.types[i]];
  }

  communeOf(i: number): string {
    return this.communeKeys[this.communes[i]];
  }

  /** Record a new state; the index of the asset when its look changed, else undefined. */
  setState(id: string, state: AssetState, severity: Severity | null): number | undefined {
    const i = this.byId.get(id);
    if (i === undefined) return undefined;
    const look = lookOf(state, severity);
    if (this.looks[i] === look) return undefined;
    this.looks[i] = look;
    return i;
  }

  /** Up to `limit` assets whose id or name holds the text (case and accents ignored). */
  search(text: string, limit: number, accept: (i: number) => boolean): number[] {
    const wanted = fold(text.trim());
    if (!wanted) return [];
    this.searchable ??= this.ids.map((id, i) => fold(`${id} ${this.names[i]}`));
    const found: number[] = [];
    // Ids that start with the text come first: an operator typing an id wants that one.
    for (let pass = 0; pass < 2 && found.length < limit; pass++) {
      for (let i = 0; i < this.size && found.length < limit; i++) {
        const at = this.searchable[i].indexOf(wanted);
        if ((pass === 0 ? at === 0 : at > 0) && accept(i)) found.push(i);
      }
    }
    return found;
  }
}

function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}
