// Road situations on the map: works, closures, events and incidents as lines and areas
// coloured by kind, drawn under the assets, each with its summary on click. Read at start,
// again when the live stream says one changed, and every minute: there are tens, not
// thousands.
import L from "leaflet";
import type { App } from "../app";
import { openSituations, typeColour, type Situation } from "../views/roads/common";

const REFRESH_MS = 60_000;
const SOON_MS = 500;

export class SituationLayer {
  private readonly group = L.featureGroup();
  private readonly container: HTMLElement;
  private timer: number | undefined;
  drawn = 0;

  constructor(
    private readonly app: App,
    map: L.Map,
  ) {
    this.group.addTo(map);
    this.container = map.getContainer();
    window.addEventListener("beffroi:roads-changed", () => void this.reload());
  }

  /** Read them again shortly: a change came on the live stream (several often come together). */
  reloadSoon(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.reload(), SOON_MS);
  }

  /** Read the open situations and draw them; then again every minute. */
  async reload(): Promise<void> {
    window.clearTimeout(this.timer);
    try {
      this.draw(await openSituations(this.app.api));
    } catch {
      // The map stays as it was; the next round tries again.
    } finally {
      this.timer = window.setTimeout(() => void this.reload(), REFRESH_MS);
    }
  }

  private draw(situations: Situation[]): void {
    const t = this.app.t;
    this.group.clearLayers();
    for (const s of situations) {
      const colour = typeColour(s.type);
      const shape = L.geoJSON(s.geometry as unknown as GeoJSON.GeoJsonObject, {
        style: { color: colour, weight: 6, opacity: s.status === "active" ? 0.9 : 0.5, dashArray: s.status === "planned" ? "8 6" : undefined },
      });
      shape.bindPopup(() =>
        `<strong>${escape(s.title)}</strong><br>${escape(t(`roads.type.${s.type}`))} · ${escape(t(`roads.status.${s.status}`))}` +
        `<br>${escape(s.road)}<br>${escape(this.app.formatTime(s.starts_at))} → ${escape(s.ends_at ? this.app.formatTime(s.ends_at) : "…")}`,
      );
      shape.addTo(this.group);
      if (s.detour) {
        L.geoJSON(s.detour as unknown as GeoJSON.GeoJsonObject, { style: { color: "#2b8a3e", weight: 4, dashArray: "2 6" } }).addTo(this.group);
      }
    }
    this.drawn = situations.length;
    // For the browser tests: how many are drawn, once they are.
    this.container.dataset.situations = String(this.drawn);
  }
}

function escape(text: string): string {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}
