// Service vehicles and salting routes on the map. Vehicles are dots coloured by kind,
// moved by the live stream (vehicle_moved) as they report; a click draws the vehicle's
// last hour of track. Salting routes are lines coloured by how much of them the salting
// trucks covered in the last 12 hours, read at start and every minute (tens, not thousands).
import L from "leaflet";
import type { App, StreamEvent } from "../app";
import type { Schema } from "../schemas";

type Vehicle = Schema<"VehiclePosition">;
type Track = Schema<"VehicleTrack">;
type Route = Schema<"SaltingRouteOut">;

declare global {
  interface Window {
    /** For the browser tests: the vehicles drawn, where, and on screen where. */
    __beffroiVehicles?: {
      ids(): string[];
      position(id: string): [number, number] | null;
      at(id: string): [number, number] | null;
    };
  }
}

const REFRESH_MS = 60_000;
const SALTING_WINDOW_MS = 12 * 3600_000;
const KIND_COLOURS: Record<string, string> = {
  salting_truck: "#e8590c",
  patrol: "#1971c2",
  field_crew: "#2f9e44",
};

export class VehicleLayer {
  private readonly routes = L.featureGroup();
  private readonly tracks = L.featureGroup();
  private readonly dots = L.featureGroup();
  private readonly markers = new Map<string, L.CircleMarker>();
  private readonly vehicles = new Map<string, Vehicle>();
  private readonly container: HTMLElement;
  private timer: number | undefined;
  private selected: string | null = null;

  constructor(
    private readonly app: App,
    map: L.Map,
  ) {
    this.routes.addTo(map);
    this.tracks.addTo(map);
    this.dots.addTo(map);
    this.container = map.getContainer();
    window.__beffroiVehicles = {
      ids: () => [...this.vehicles.keys()].sort(),
      position: (id) => {
        const v = this.vehicles.get(id);
        return v ? [v.lon, v.lat] : null;
      },
      at: (id) => {
        const v = this.vehicles.get(id);
        if (!v) return null;
        const point = map.latLngToContainerPoint([v.lat, v.lon]);
        return [point.x, point.y];
      },
    };
  }

  /** Read the vehicles and the routes; then the routes again every minute. */
  async reload(): Promise<void> {
    window.clearTimeout(this.timer);
    try {
      const [vehicles, routes] = await Promise.all([
        this.app.api.get<Schema<"VehicleList">>("/vehicles"),
        this.app.api.get<Schema<"SaltingRouteList">>("/salting-routes", {
          since: new Date(Date.now() - SALTING_WINDOW_MS).toISOString(),
        }),
      ]);
      this.drawVehicles(vehicles.items);
      this.drawRoutes(routes.items);
    } catch {
      // The map stays as it was; the next round tries again.
    } finally {
      this.timer = window.setTimeout(() => void this.reload(), REFRESH_MS);
    }
  }

  /** Move the vehicles the stream says moved; one never seen makes a reload. */
  apply(events: StreamEvent[]): void {
    let unknown = false;
    for (const event of events) {
      if (event.kind !== "vehicle_moved") continue;
      const known = this.vehicles.get(event.asset_id);
      if (known === undefined) {
        unknown = true;
        continue;
      }
      const moved = { ...known, lon: event.lon, lat: event.lat, ts: event.ts, speed_kmh: event.speed_kmh, fresh: true };
      this.vehicles.set(event.asset_id, moved);
      this.markers.get(event.asset_id)?.setLatLng([event.lat, event.lon]).setStyle({ opacity: 1, fillOpacity: 0.9 });
    }
    if (unknown) void this.reload();
    this.container.dataset.vehicleMoves = String(Number(this.container.dataset.vehicleMoves ?? 0) + events.filter((e) => e.kind === "vehicle_moved").length);
  }

  private drawVehicles(items: Vehicle[]): void {
    this.dots.clearLayers();
    this.markers.clear();
    this.vehicles.clear();
    for (const v of items) {
      this.vehicles.set(v.asset_id, v);
      const marker = L.circleMarker([v.lat, v.lon], {
        radius: 7,
        color: "#212529",
        weight: 2,
        fillColor: KIND_COLOURS[v.kind] ?? "#868e96",
        fillOpacity: v.fresh ? 0.9 : 0.4,
        opacity: v.fresh ? 1 : 0.5,
        bubblingMouseEvents: false,
      });
      marker.bindTooltip(() => this.describe(this.vehicles.get(v.asset_id) ?? v));
      marker.on("click", () => void this.select(v.asset_id));
      marker.addTo(this.dots);
      this.markers.set(v.asset_id, marker);
    }
    // For the browser tests: how many are drawn, once they are.
    this.container.dataset.vehicles = String(items.length);
  }

  private describe(v: Vehicle): string {
    const t = this.app.t;
    const speed = v.speed_kmh === null ? "" : ` · ${t("vehicles.speed", { speed: Math.round(v.speed_kmh) })}`;
    const stale = v.fresh ? "" : ` (${t("vehicles.stale")})`;
    return `<strong>${escape(v.name)}</strong><br>${escape(t(`vehicles.kind.${v.kind}`))}${speed}` +
      `<br>${escape(t("vehicles.seen", { time: this.app.formatTime(v.ts) }))}${escape(stale)}`;
  }

  /** Draw the vehicle's last hour of track (a second click on it takes it away). */
  async select(assetId: string): Promise<void> {
    this.tracks.clearLayers();
    if (this.selected === assetId) {
      this.selected = null;
      this.container.dataset.trackPoints = "0";
      return;
    }
    this.selected = assetId;
    const track = await this.app.api.get<Track>(`/vehicles/${encodeURIComponent(assetId)}/track`);
    if (track.geometry) {
      const line = L.polyline(track.geometry.coordinates.map(([lon, lat]) => [lat, lon] as [number, number]), {
        color: "#5f3dc4",
        weight: 4,
        opacity: 0.8,
      });
      line.bindTooltip(this.app.t("vehicles.track", { n: track.properties.points }));
      line.addTo(this.tracks);
    }
    this.container.dataset.trackPoints = String(track.properties.points);
  }

  private drawRoutes(items: Route[]): void {
    const t = this.app.t;
    this.routes.clearLayers();
    for (const r of items) {
      const done = r.completion ?? 0;
      const line = L.geoJSON(r.geometry as unknown as GeoJSON.GeoJsonObject, {
        style: { color: completionColour(done), weight: 7 - r.level, opacity: 0.85 },
      });
      line.bindPopup(() =>
        `<strong>${escape(r.name)}</strong><br>${escape(t("vehicles.route", { level: r.level }))}` +
        `<br>${escape(t("vehicles.route.done", { pct: Math.round(done * 100) }))}`,
      );
      line.addTo(this.routes);
    }
    this.container.dataset.saltingRoutes = String(items.length);
    this.container.dataset.salted = items.map((r) => Math.round((r.completion ?? 0) * 100)).join(",");
  }
}

/** Red (nothing salted) through amber to green (all of it). */
function completionColour(done: number): string {
  const hue = Math.round(120 * Math.max(0, Math.min(1, done)));
  return `hsl(${hue}, 75%, 42%)`;
}

function escape(text: string): string {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}
