// The contract between the console's shell (main.ts, map, asset panel) and its views
// (alarms, interventions, dashboard, approvals). The shell builds one App and hands it to
// every view's mount function.
import type { Catalogue } from "./catalogue";
import type { AlarmChanged, AssetStateChanged, StreamedEvent } from "./generated/events";
import type { Schema } from "./schemas";

/** Who is signed in, as GET /api/v1/auth/me answers: the user (communes null for the
 * whole metropolis), what they may do (e.g. "alarm:handle": the API decides, the console
 * only shows), their work domains and, by equipment type, the commands they may send. */
export type Me = Schema<"MeOut">;

/** An RFC 9457 problem the API answered with. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

/** Calls under /api/v1 with the session cookie and the CSRF token; errors throw ApiError. */
export interface Api {
  get<T>(path: string, params?: Record<string, string | number | boolean | undefined>): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  del(path: string): Promise<void>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

/** One event of the live stream (WebSocket /api/v1/stream), already scoped to the user:
 * the kinds generated from the server's registry (generated/events.ts), or resync. */
export type StreamEvent =
  | StreamedEvent
  // The server lost events for this client (it fell behind): reload what is on screen.
  | { kind: "resync" };

export type AssetState = AssetStateChanged["state"];
export type Severity = AlarmChanged["severity"];

/** What the console needs to know of this installation (GET /api/v1/console/config). */
export type ConsoleConfig = Schema<"ConsoleConfig">;

export interface App {
  me: Me;
  api: Api;
  lang: "fr" | "en";
  /** Equipment types and communes, read once when the console starts. */
  catalogue: Catalogue;
  /** The installation's settings; null when they could not be read. */
  config: ConsoleConfig | null;
  /** The zone times are shown in (the installation's), or undefined for the browser's own. */
  timeZone: string | undefined;
  /** A translated string; {name} placeholders are filled from vars. */
  t(key: string, vars?: Record<string, string | number>): string;
  /** Whether the user holds a permission (e.g. "alarm:handle"); the server enforces it anyway. */
  can(permission: string): boolean;
  /** Whether the user acts in an equipment domain (alarm handling, commands). */
  worksIn(domain: string): boolean;
  /** Listen to live events (delivered in batches); returns the unsubscribe function. */
  onEvents(listener: (events: StreamEvent[]) => void): () => void;
  /** Open the asset panel on an asset. */
  openAsset(id: string): void;
  /** Show the map with only these assets on it (a crisis plan's). */
  showOnMap(ids: string[]): void;
  /** Show another view: "map", "alarms", "interventions", "dashboard", "approvals". */
  navigate(view: string): void;
  /** A short message at the corner of the screen. */
  toast(message: string, kind?: "info" | "error"): void;
  /** A date-time in the installation's time zone, in the user's language. */
  formatTime(iso: string | null | undefined): string;
}

/** A view: draws itself into root; returns what to call when it is left. */
export type Mount = (root: HTMLElement, app: App) => () => void;
