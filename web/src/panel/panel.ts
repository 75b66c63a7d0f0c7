// The asset panel: everything about one asset at the side of the screen, kept live.
// Any view may open it (App.openAsset); Escape closes it and gives the focus back.
import type { App, StreamEvent } from "../app";
import type { Catalogue } from "../catalogue";
import { fill, h, throttle } from "../dom";
import { numberFormatter } from "../format";
import { lookColour, shapeOf, symbolIcon } from "../map/symbols";
import { LOOKS } from "../map/store";
import { chartableKeys, TelemetryChart } from "./chart";
import { CommandSection } from "./commands";
import { ConnectionProblems } from "./problems";
import type { Schema } from "../schemas";
import { overrideForm } from "../group/override";
import { WhySection } from "./why";

type Asset = Schema<"AssetOut">;
// The stream's readings land in its values too, and those may be booleans.
type State = Omit<Schema<"StateOut">, "values"> & {
  values: Record<string, { ts: string; value: number | string | boolean | null }>;
};

/** Where the console keeps the asset a new intervention is for (the view reads it). */
export const NEW_INTERVENTION_KEY = "beffroi.newIntervention";
const REFETCH_MS = 1000;

/** Reload something at most once a period however many events ask. */
/** One open asset: its sections and what keeps them current. */
class OpenAsset {
  readonly body: HTMLElement;
  private chart: TelemetryChart | null = null;
  private commands: CommandSection;
  private readonly problems: ConnectionProblems | null;
  private readonly why: WhySection | null;
  private readonly telemetry = h("dl", { class: "telemetry", "data-testid": "telemetry" });
  private readonly online = h("p", { class: "online" });
  private readonly alarms = h("ul", { class: "asset-alarms", "data-testid": "asset-alarms" });
  private readonly interventions = h("ul", { class: "asset-interventions", "data-testid": "asset-interventions" });
  private readonly stateBadge = h("span", { class: "asset-state", "data-testid": "asset-state" });
  private state: State | null = null;
  private readonly alarmReload = throttle(() => void this.loadAlarms().catch(() => undefined), REFETCH_MS);
  private readonly interventionReload = throttle(() => void this.loadInterventions().catch(() => undefined), 2 * REFETCH_MS);
  // Where the gateway runs in another process, readings are not relayed to this one (too
  // many): the panel re-reads the asset's state when a command to it or its drawn state moves.
  private readonly stateReload = throttle(() => void this.loadState().catch(() => undefined), REFETCH_MS);
  private readonly number: (value: number) => string;

  constructor(
    private readonly app: App,
    private readonly catalogue: Catalogue,
    readonly asset: Asset,
    look: number | undefined,
  ) {
    const t = app.t;
    this.number = numberFormatter(app.lang);
    const type = catalogue.type(asset.type);
    const keys = chartableKeys(type?.telemetry ?? []);
    if (keys.length) this.chart = new TelemetryChart(app, asset.id, asset.type, keys);
    this.commands = new CommandSection(app, catalogue, asset.id, asset.type);
    this.problems = app.can("ingest:read") ? new ConnectionProblems(app, asset.id) : null;
    // Lights and cabinets follow a lighting calendar: say which, and why the level now.
    this.why = catalogue.type(asset.type)?.domain === "lighting" ? new WhySection(app, asset.id) : null;
    this.showLook(look);
    const createIntervention = app.can("intervention:manage")
      ? h("button", { type: "button", "data-testid": "panel-create-intervention" }, t("panel.create_intervention"))
      : null;
    createIntervention?.addEventListener("click", () => {
      sessionStorage.setItem(NEW_INTERVENTION_KEY, JSON.stringify({ asset_id: asset.id }));
      app.navigate("interventions");
    });
    this.body = h("div", { class: "panel-body" },
      h("p", { class: "panel-subtitle" },
        symbolIcon(shapeOf(asset.type), "#ffffff", 16), " ", catalogue.typeLabel(asset.type), " · ", catalogue.communeName(asset.commune), " · ", this.stateBadge),
      h("section", { "aria-labelledby": "panel-h-attributes" },
        h("h3", { id: "panel-h-attributes" }, t("panel.attributes")), this.attributes()),
      h("section", { "aria-labelledby": "panel-h-telemetry" },
        h("h3", { id: "panel-h-telemetry" }, t("panel.telemetry")), this.online, this.telemetry),
      this.chart ? h("section", { "aria-labelledby": "panel-h-chart" },
        h("h3", { id: "panel-h-chart" }, t("panel.chart")), this.chart.element) : null,
      app.can("alarm:read") ? h("section", { "aria-labelledby": "panel-h-alarms" },
        h("h3", { id: "panel-h-alarms" }, t("panel.alarms")), this.alarms) : null,
      this.why ? h("section", { "aria-labelledby": "panel-h-why" },
        h("h3", { id: "panel-h-why" }, t("why.title")), this.why.element, this.overrideToggle()) : null,
      h("section", { "aria-labelledby": "panel-h-commands" },
        h("h3", { id: "panel-h-commands" }, t("panel.commands")), this.commands.element),
      app.can("intervention:read") ? h("section", { "aria-labelledby": "panel-h-interventions" },
        h("h3", { id: "panel-h-interventions" }, t("panel.interventions")), this.interventions, createIntervention) : null,
      this.problems?.element,
    );
  }

  /** Lights and cabinets take an override from here, for those who may make one. */
  private overrideToggle(): HTMLElement | null {
    if (!this.app.can("lighting:program")) return null;
    const slot = h("div", {});
    const button = h("button", { type: "button", "data-testid": "panel-override", "aria-expanded": "false" }, this.app.t("override.open"));
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      fill(slot, open ? overrideForm(this.app, { kind: "assets", ids: [this.asset.id] }, () => void this.why?.load().catch(() => undefined)) : null);
    });
    return h("div", { class: "panel-override" }, button, slot);
  }

  load(): void {
    const failed = (where: HTMLElement) => (error: unknown) =>
      fill(where, h("p", { class: "form-error" }, error instanceof Error ? error.message : String(error)));
    void this.loadState().catch(failed(this.telemetry));
    void this.chart?.load();
    if (this.app.can("alarm:read")) void this.loadAlarms().catch(failed(this.alarms));
    void this.commands.load().catch(failed(this.commands.element));
    if (this.app.can("intervention:read")) void this.loadInterventions().catch(failed(this.interventions));
    void this.problems?.load();
    if (this.why) void this.why.load().catch(failed(this.why.element));
  }

  apply(events: StreamEvent[]): void {
    let telemetry = false;
    for (const event of events) {
      if (event.kind === "telemetry" && event.id === this.asset.id && this.state) {
        for (const [key, value] of Object.entries(event.values)) this.state.values[key] = { ts: event.ts, value };
        this.state.last_seen_at = event.ts;
        telemetry = true;
      } else if (event.kind === "alarm" && event.asset_id === this.asset.id) {
        this.alarmReload.call();
      } else if ((event.kind === "command" && event.asset_id === this.asset.id) || (event.kind === "asset" && event.id === this.asset.id)) {
        this.stateReload.call();
      } else if (event.kind === "intervention") {
        this.interventionReload.call();
      } else if (event.kind === "resync") {
        this.load();
        return;
      }
    }
    if (telemetry) this.renderTelemetry();
    this.commands.apply(events);
  }

  showLook(look: number | undefined): void {
    const name = look === undefined ? "unknown" : LOOKS[look];
    this.stateBadge.replaceChildren(symbolIcon("circle", lookColour(look ?? 3), 12), " ", this.app.t(`look.${name}`));
    this.stateBadge.dataset.state = name;
  }

  destroy(): void {
    this.chart?.destroy();
    this.commands.destroy();
    this.alarmReload.cancel();
    this.stateReload.cancel();
    this.interventionReload.cancel();
  }

  private attributes(): HTMLElement {
    const a = this.asset;
    const t = this.app.t;
    const [lon, lat] = a.location.coordinates;
    const rows: [string, string | null][] = [
      [t("attr.id"), a.id],
      [t("attr.status"), t(`status.${a.status}`)],
      [t("attr.position"), `${lat.toFixed(5)}, ${lon.toFixed(5)}`],
      [t("attr.parent"), a.parent_id],
      [t("attr.manufacturer"), [a.manufacturer, a.model].filter(Boolean).join(" ") || null],
      [t("attr.installed_on"), a.installed_on],
      ...Object.entries(a.attributes).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]),
      [t("attr.tags"), a.tags.length ? a.tags.join(", ") : null],
    ];
    return h("dl", { class: "attributes" },
      rows.filter(([, v]) => v !== null && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    );
  }

  private async loadState(): Promise<void> {
    this.state = await this.app.api.get<State>(`/assets/${encodeURIComponent(this.asset.id)}/state`);
    this.renderTelemetry();
  }

  private renderTelemetry(): void {
    const state = this.state!;
    const t = this.app.t;
    const units = new Map((this.catalogue.type(this.asset.type)?.telemetry ?? []).map((k) => [k.key, k.unit]));
    const online = state.online === null ? t("panel.online.unknown") : state.online ? t("panel.online.yes") : t("panel.online.no");
    fill(this.online, h("span", { "data-testid": "asset-online", "data-online": String(state.online) }, online),
      ` · ${t("panel.last_seen")} ${this.app.formatTime(state.last_seen_at)}`,
      state.firmware ? ` · ${state.firmware}` : null);
    const entries = Object.entries(state.values).sort(([a], [b]) => a.localeCompare(b));
    fill(this.telemetry, entries.length ? entries.flatMap(([key, point]) => {
      const unit = units.get(key) ?? units.get(key.replace(/_\d+_/, "_{n}_"));
      const value = typeof point.value === "number" ? this.number(point.value) : String(point.value);
      return [
        h("dt", {}, key),
        h("dd", { "data-testid": `telemetry-${key}`, "data-value": String(point.value), title: this.app.formatTime(point.ts) },
          unit ? `${value} ${unit}` : value),
      ];
    }) : h("dd", { class: "empty" }, t("panel.telemetry.none")));
  }

  private async loadAlarms(): Promise<void> {
    const page = await this.app.api.get<Schema<"AlarmPage">>("/alarms", { asset_id: this.asset.id, limit: 20 });
    const t = this.app.t;
    fill(this.alarms, page.items.length ? page.items.map((a) =>
      h("li", { class: `asset-alarm severity-${a.severity}`, "data-testid": "asset-alarm", "data-severity": a.severity },
        h("span", { class: `severity-tag severity-${a.severity}` }, t(`severity.${a.severity}`)),
        ` ${a.alarm_type} · ${t(`alarm.state.${a.state}`)} · ${this.app.formatTime(a.raised_at)}`),
    ) : h("li", { class: "empty" }, t("panel.alarms.none")));
  }

  private async loadInterventions(): Promise<void> {
    const page = await this.app.api.get<Schema<"InterventionPage">>("/interventions", { asset_id: this.asset.id, limit: 10 });
    const t = this.app.t;
    fill(this.interventions, page.items.length ? page.items.map((i) =>
      h("li", { "data-testid": "asset-intervention", "data-status": i.status },
        h("strong", {}, `#${i.id} `), i.title, ` · ${t(`intervention.status.${i.status}`)}`,
        i.overdue ? h("span", { class: "overdue" }, ` · ${t("panel.overdue")}`) : null),
    ) : h("li", { class: "empty" }, t("panel.interventions.none")));
  }
}

export class AssetPanel {
  readonly element: HTMLElement;
  private readonly title = h("h2", { id: "asset-panel-title", tabindex: -1 });
  private readonly content = h("div", { class: "panel-content" });
  private current: OpenAsset | null = null;
  private opened = 0;
  private returnFocus: HTMLElement | null = null;

  constructor(
    private readonly app: App,
    private readonly catalogue: Catalogue,
    private readonly hooks: {
      watch(ids: string[]): void;
      lookOf(id: string): number | undefined;
      closed(): void;
    },
  ) {
    const close = h("button", { type: "button", class: "panel-close", "data-testid": "panel-close", "aria-label": app.t("panel.close") }, "×");
    close.addEventListener("click", () => this.close());
    this.element = h("aside", { class: "asset-panel", "data-testid": "asset-panel", "aria-labelledby": "asset-panel-title", hidden: true },
      h("header", { class: "panel-header" }, this.title, close),
      this.content,
    );
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      }
    });
  }

  get assetId(): string | null {
    return this.current?.asset.id ?? null;
  }

  async open(id: string): Promise<void> {
    const asked = ++this.opened;
    if (!this.element.contains(document.activeElement)) {
      this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    }
    this.current?.destroy();
    this.current = null;
    this.element.hidden = false;
    this.element.dataset.assetId = id;
    this.title.textContent = id;
    fill(this.content, h("p", { class: "loading" }, this.app.t("panel.loading")));
    this.title.focus();
    this.hooks.watch([id]);
    try {
      const asset = await this.app.api.get<Asset>(`/assets/${encodeURIComponent(id)}`);
      if (asked !== this.opened) return;
      const open = new OpenAsset(this.app, this.catalogue, asset, this.hooks.lookOf(id));
      this.current = open;
      this.title.textContent = asset.name || asset.id;
      fill(this.content, open.body);
      open.load();
    } catch (error) {
      if (asked !== this.opened) return;
      fill(this.content, h("p", { class: "form-error", role: "alert" }, error instanceof Error ? error.message : String(error)));
    }
  }

  close(): void {
    if (this.element.hidden) return;
    this.opened++;
    this.current?.destroy();
    this.current = null;
    this.element.hidden = true;
    delete this.element.dataset.assetId;
    this.hooks.watch([]);
    this.hooks.closed();
    if (this.returnFocus?.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }

  apply(events: StreamEvent[]): void {
    const open = this.current;
    if (!open) return;
    open.apply(events);
    if (events.some((e) => e.kind === "asset" && e.id === open.asset.id)) open.showLook(this.hooks.lookOf(open.asset.id));
  }
}
