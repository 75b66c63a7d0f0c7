// Drawing a situation's line or area on a small map: each click adds a point; the shape
// can also be pasted as GeoJSON (from a GIS, or another situation).
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import type { App } from "../../app";
import { h } from "../dom";

type Geometry = { type: string; coordinates: unknown };

export class Drawing {
  readonly element: HTMLElement;
  private readonly map: L.Map;
  private readonly shape = L.featureGroup();
  private points: [number, number][] = [];
  private area = false;
  private pasted: Geometry | null = null;

  constructor(app: App, testid: string, colour: string) {
    const container = h("div", { class: "roads-draw", "data-testid": `${testid}-map` });
    const kind = h("select", { "data-testid": `${testid}-kind`, "aria-label": app.t("roads.draw.kind") },
      h("option", { value: "line" }, app.t("roads.draw.line")),
      h("option", { value: "area" }, app.t("roads.draw.area")));
    const clear = h("button", { type: "button", "data-testid": `${testid}-clear` }, app.t("roads.draw.clear"));
    this.element = h("div", { class: "roads-drawing" },
      h("div", { class: "v-head" }, kind, clear, h("span", { class: "v-muted" }, app.t("roads.draw.help"))), container);
    this.map = L.map(container, { center: [47.32, 5.04], zoom: 12, attributionControl: false });
    const url = app.config?.tile_url;
    if (url) L.tileLayer(url, { maxZoom: 19 }).addTo(this.map);
    this.shape.addTo(this.map);
    this.map.on("click", (event: L.LeafletMouseEvent) => {
      this.pasted = null;
      this.points.push([Number(event.latlng.lng.toFixed(6)), Number(event.latlng.lat.toFixed(6))]);
      this.redraw(colour);
    });
    kind.addEventListener("change", () => { this.area = kind.value === "area"; this.redraw(colour); });
    clear.addEventListener("click", () => { this.points = []; this.pasted = null; this.redraw(colour); });
    new ResizeObserver(() => this.map.invalidateSize()).observe(container);
  }

  /** Show a geometry (a situation being edited, or pasted GeoJSON) and fit the map to it. */
  set(geometry: Geometry | null, colour: string): void {
    this.points = [];
    this.pasted = geometry;
    this.redraw(colour);
    const bounds = this.shape.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [20, 20] });
  }

  /** The GeoJSON drawn or pasted, or null when there is none. */
  value(): Geometry | null {
    if (this.pasted) return this.pasted;
    if (this.points.length < 2) return null;
    if (!this.area) return { type: "LineString", coordinates: this.points };
    return { type: "Polygon", coordinates: [[...this.points, this.points[0]]] };
  }

  private redraw(colour: string): void {
    this.shape.clearLayers();
    const geometry = this.value();
    if (geometry) L.geoJSON(geometry as unknown as GeoJSON.GeoJsonObject, { style: { color: colour, weight: 5 } }).addTo(this.shape);
    for (const [lon, lat] of this.points) L.circleMarker([lat, lon], { radius: 4, color: colour }).addTo(this.shape);
  }
}
