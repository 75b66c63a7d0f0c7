// The chart of one telemetry key over the last 24 hours or 7 days (uPlot, times in the installation's zone).
// uPlot is fetched with the first chart: the map, which everyone sees first, does not wait for it.
import type uPlot from "uplot";

type UPlotClass = typeof uPlot;
import type { App } from "../app";
import type { TelemetryKey } from "../catalogue";
import { h } from "../dom";
import type { Schema } from "../schemas";

type Aggregate = Schema<"AggregateOut">;

const RANGES = {
  "24h": { hours: 24, bucket: "15m" },
  "7d": { hours: 24 * 7, bucket: "1h" },
} as const;
type Range = keyof typeof RANGES;

// The key worth a glance for each type; any other numeric key can be chosen.
const PREFERRED: Record<string, string> = {
  streetlight: "level_pct",
  lighting_cabinet: "power_w",
  traffic_controller: "cycle_s",
  message_sign: "brightness_pct",
  traffic_counter: "count",
  car_park: "free_spaces",
  air_quality_station: "no2_ugm3",
};

const NUMERIC = new Set(["number", "integer"]);

function loadUPlot() {
  return Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([module]) => module);
}

export function chartableKeys(keys: TelemetryKey[]): TelemetryKey[] {
  // Keys with a {n} are families (one per circuit, detector): not one series.
  return keys.filter((k) => NUMERIC.has(k.kind) && !k.key.includes("{"));
}

export class TelemetryChart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private range: Range = "24h";
  private key: string;
  private readonly area = h("div", { class: "chart-area", "data-testid": "telemetry-chart" });
  private readonly status = h("p", { class: "chart-status" });
  private loaded = 0;

  constructor(
    private readonly app: App,
    private readonly assetId: string,
    typeKey: string,
    private readonly keys: TelemetryKey[],
  ) {
    this.key = keys.find((k) => k.key === PREFERRED[typeKey])?.key ?? keys[0]?.key ?? "";
    const keySelect = h("select", { id: `chart-key-${assetId}`, "data-testid": "chart-key" },
      keys.map((k) => h("option", { value: k.key, selected: k.key === this.key }, k.unit ? `${k.key} (${k.unit})` : k.key)),
    );
    keySelect.addEventListener("change", () => {
      this.key = keySelect.value;
      void this.load();
    });
    const rangeButtons = (Object.keys(RANGES) as Range[]).map((range) => {
      const button = h("button", { type: "button", class: "toggle", "data-testid": `chart-range-${range}`, "aria-pressed": range === this.range },
        app.t(`chart.${range}`));
      button.addEventListener("click", () => {
        this.range = range;
        for (const other of rangeButtons) other.setAttribute("aria-pressed", String(other === button));
        void this.load();
      });
      return button;
    });
    this.element = h("div", { class: "chart" },
      h("div", { class: "chart-controls" },
        h("label", { for: `chart-key-${assetId}`, class: "visually-hidden" }, app.t("chart.key")),
        keySelect,
        h("div", { class: "toggles", role: "group", "aria-label": app.t("chart.range") }, rangeButtons),
      ),
      this.area,
      this.status,
    );
  }

  async load(): Promise<void> {
    if (!this.key) return;
    const asked = ++this.loaded;
    const { hours, bucket } = RANGES[this.range];
    const until = new Date();
    const since = new Date(until.getTime() - hours * 3600_000);
    this.status.textContent = this.app.t("panel.loading");
    try {
      const answer = await this.app.api.get<Aggregate>(`/assets/${encodeURIComponent(this.assetId)}/telemetry/aggregate`, {
        key: this.key, bucket, since: since.toISOString(), until: until.toISOString(),
      });
      const { default: uPlot } = await loadUPlot();
      if (asked !== this.loaded) return;
      this.draw(uPlot, answer, since, until);
    } catch (error) {
      if (asked === this.loaded) this.status.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }

  private draw(uPlot: UPlotClass, answer: Aggregate, since: Date, until: Date): void {
    this.destroy();
    this.area.replaceChildren();
    const b = answer.buckets;
    this.status.textContent = b.length ? "" : this.app.t("chart.empty");
    if (!b.length) return;
    const data: uPlot.AlignedData = [
      b.map((x) => Date.parse(x.start) / 1000),
      b.map((x) => x.avg),
      b.map((x) => x.min),
      b.map((x) => x.max),
    ];
    const unit = this.keys.find((k) => k.key === this.key)?.unit;
    const width = Math.max(260, this.area.clientWidth || 360);
    const zone = this.app.timeZone;
    this.plot = new uPlot({
      width,
      height: 170,
      ...(zone ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), zone) } : {}),
      scales: { x: { time: true, range: [since.getTime() / 1000, until.getTime() / 1000] } },
      legend: { show: true },
      series: [
        {},
        { label: this.app.t("chart.avg"), stroke: "#1f5fa8", width: 2, value: (_, v) => (v == null ? "—" : `${v.toFixed(1)}${unit ? ` ${unit}` : ""}`) },
        { label: this.app.t("chart.min"), stroke: "#8aa9cc", width: 1, dash: [4, 3] },
        { label: this.app.t("chart.max"), stroke: "#8aa9cc", width: 1, dash: [4, 3] },
      ],
      axes: [{}, { size: 48 }],
    }, data, this.area);
  }
}
