// What the server says about communes and equipment types, read once per session.
import type { Api } from "./app";
import type { Lang } from "./format";
import type { Schema } from "./schemas";

export type Commune = Schema<"CommuneOut">;
export type TelemetryKey = Schema<"TelemetryKeyOut">;

/** A JSON schema of command parameters, as far as the console reads it. */
export interface ParamSchema {
  type?: string;
  properties?: Record<string, PropertySchema>;
  required?: string[];
}

export interface PropertySchema {
  type?: string;
  enum?: (string | number)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  description?: string;
  default?: unknown;
}

/** A command of a type; its parameters' JSON schema read as far as the console reads it. */
export type CommandSpec = Omit<Schema<"beffroi__catalogue__schemas__CommandOut">, "params"> & { params: ParamSchema };

export type EquipmentType = Omit<Schema<"EquipmentTypeOut">, "commands"> & { commands: CommandSpec[] };

export class Catalogue {
  private readonly types: Map<string, EquipmentType>;
  private readonly communes: Map<string, Commune>;

  constructor(types: EquipmentType[], communes: Commune[], readonly lang: Lang) {
    this.types = new Map(types.map((t) => [t.key, t]));
    this.communes = new Map(communes.map((c) => [c.code, c]));
  }

  static async load(api: Api, lang: Lang): Promise<Catalogue> {
    const [types, communes] = await Promise.all([
      api.get<EquipmentType[]>("/types"),
      api.get<Commune[]>("/communes"),
    ]);
    return new Catalogue(types, communes, lang);
  }

  allTypes(): EquipmentType[] {
    return [...this.types.values()];
  }

  allCommunes(): Commune[] {
    return [...this.communes.values()].sort((a, b) => a.name.localeCompare(b.name, "fr"));
  }

  type(key: string): EquipmentType | undefined {
    return this.types.get(key);
  }

  typeLabel(key: string): string {
    const type = this.types.get(key);
    if (!type) return key;
    return this.lang === "fr" ? type.label_fr : type.label;
  }

  communeName(code: string): string {
    return this.communes.get(code)?.name ?? code;
  }

  /** Whether a command is critical with these parameters. */
  isCritical(command: CommandSpec, params: Record<string, unknown>): boolean {
    if (command.critical) return true;
    return Object.entries(command.critical_when).some(([name, values]) => values.includes(params[name]));
  }

  /** The commands of a type the user may send, as GET /auth/me listed them (`me.commands`). */
  commandsFor(typeKey: string, allowed: Record<string, string[]>): CommandSpec[] {
    const type = this.types.get(typeKey);
    const names = allowed[typeKey] ?? [];
    if (!type) return [];
    return type.commands.filter((c) => names.includes(c.name));
  }
}
