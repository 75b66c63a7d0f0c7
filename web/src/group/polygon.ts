// Drawing a polygon on the map by clicking its corners: a double-click, Enter or the finish
// button closes it, Escape gives up. No plugin: a polyline that grows.
import L from "leaflet";

export type Ring = [number, number][]; // lon, lat, as GeoJSON wants

// Two clicks closer than this (pixels) are one corner: a double-click clicks twice first.
const SAME_CORNER_PX = 6;

export class PolygonDrawer {
  private corners: L.LatLng[] = [];
  private line: L.Polyline | null = null;
  private shape: L.Polygon | null = null;
  private active = false;
  private hadDoubleClickZoom = true;
  /** Told the number of corners after each click. */
  cornerAdded: (count: number) => void = () => {};

  constructor(
    private readonly map: L.Map,
    private readonly done: (ring: Ring | null) => void,
  ) {}

  get drawing(): boolean {
    return this.active;
  }

  start(): void {
    this.clear();
    this.active = true;
    this.hadDoubleClickZoom = this.map.doubleClickZoom.enabled();
    this.map.doubleClickZoom.disable();
    this.map.getContainer().classList.add("drawing");
    this.line = L.polyline([], { color: "#12355b", weight: 2, dashArray: "6 4", interactive: false }).addTo(this.map);
    this.map.on("click", this.add, this);
    this.map.on("dblclick", this.finishOnDoubleClick, this);
    document.addEventListener("keydown", this.key);
  }

  /** Close the polygon (at least three corners) and hand it over. */
  finish(): void {
    if (!this.active) return;
    const ring = this.corners.map((c): [number, number] => [c.lng, c.lat]);
    this.stop();
    if (ring.length < 3) {
      this.clear();
      this.done(null);
      return;
    }
    this.shape = L.polygon(this.corners, { color: "#12355b", weight: 2, fillOpacity: 0.08, interactive: false }).addTo(this.map);
    this.done([...ring, ring[0]]);
  }

  cancel(): void {
    if (this.active) this.stop();
    this.clear();
  }

  /** Remove what was drawn. */
  clear(): void {
    this.line?.remove();
    this.shape?.remove();
    this.line = this.shape = null;
    this.corners = [];
  }

  private stop(): void {
    this.active = false;
    this.map.off("click", this.add, this);
    this.map.off("dblclick", this.finishOnDoubleClick, this);
    document.removeEventListener("keydown", this.key);
    if (this.hadDoubleClickZoom) this.map.doubleClickZoom.enable();
    this.map.getContainer().classList.remove("drawing");
    this.line?.remove();
    this.line = null;
  }

  private add(event: L.LeafletMouseEvent): void {
    const last = this.corners[this.corners.length - 1];
    if (last && this.map.latLngToContainerPoint(last).distanceTo(event.containerPoint) < SAME_CORNER_PX) return;
    this.corners.push(event.latlng);
    this.line?.setLatLngs(this.corners);
    this.cornerAdded(this.corners.length);
  }

  private finishOnDoubleClick(event: L.LeafletMouseEvent): void {
    L.DomEvent.stop(event);
    this.finish();
  }

  private readonly key = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      this.cancel();
      this.done(null);
    } else if (event.key === "Enter") {
      this.finish();
    }
  };
}

/** Whether a point is inside a closed ring (ray casting). */
export function inside(lon: number, lat: number, ring: Ring): boolean {
  let yes = false;
  for (let a = 0, b = ring.length - 1; a < ring.length; b = a++) {
    const [xa, ya] = ring[a];
    const [xb, yb] = ring[b];
    if (ya > lat !== yb > lat && lon < ((xb - xa) * (lat - ya)) / (yb - ya) + xa) yes = !yes;
  }
  return yes;
}
