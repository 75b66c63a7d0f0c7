// The map view: every asset the user may see, live, with filters, search and a legend.
// It lives for the whole session (hidden, not destroyed, while another view shows) so the
// 36,000 assets are loaded once.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import type { App, StreamEvent } from "../app";
import type { Catalogue } from "../catalogue";
import { h } from "../dom";
import { filterBar, NO_FILTER, passes, searchBox, type Filter } from "./filters";
import { CommuneLabels } from "./labels";
import { AssetLayer } from "./layer";
import { legend } from "./legend";
import { MemberList } from "./members";
import { SituationLayer } from "./situations";
import { AssetStore, type MapPayload } from "./store";
import { VehicleLayer } from "./vehicles";

declare global {
  interface Window {
    BEFFROI_CONFIG?: { tileUrl?: string | null; tileAttribution?: string };
    __beffroi?: {
      markersDrawn: number;
      assetsLoaded: number;
      visibleAssetIds(): string[];
      drawnAt: number | null;
    };
  }
}

// With a state filter on, live changes move assets in and out of it: the clusters are
// rebuilt at most this often.
const REFILTER_MS = 1000;
const ASSET_ZOOM = 17;
// A click on a cluster of at most this many assets lists them instead of zooming in when,
// even at the closest zoom, they would lie within SAME_SPOT_PX pixels of one another.
const LIST_AT_MOST = 50;
const SAME_SPOT_PX = 24;

export class MapView {
  readonly element: HTMLElement;
  readonly store = new AssetStore();
  readonly map: L.Map;
  readonly layer: AssetLayer;
  /** Where the group actions put their buttons and their box. */
  readonly tools: HTMLElement;
  readonly overlay: HTMLElement;
  readonly area: HTMLElement;
  private readonly members: MemberList;
  private readonly situations: SituationLayer;
  private readonly vehicles: VehicleLayer;
  private labels: CommuneLabels | null = null;
  filter: Filter = { ...NO_FILTER };
  /** While a polygon is drawn, a click on the map places a corner instead of opening an asset. */
  picking = false;
  private included = new Uint8Array(0);
  private readonly count = h("span", { "data-testid": "asset-count", "data-visible": 0 }, "0");
  private readonly countText = h("span", { class: "count-text" });
  private readonly controls = h("div", { class: "map-controls" });
  private readonly legendSlot = h("div", { class: "map-legend-slot" });
  private refilterTimer: number | undefined;
  private loading: Promise<void> | null = null;
  private drawnAt: number | null = null;
  private markersDrawn = 0;
  private filterListeners = new Set<() => void>();

  constructor(
    private readonly app: App,
    private readonly catalogue: Catalogue,
  ) {
    const container = h("div", { class: "map", "data-testid": "map", tabindex: 0, "aria-label": app.t("map.aria") });
    this.tools = h("div", { class: "map-tools" });
    this.overlay = h("div", { class: "map-overlay" });
    this.element = h("section", { class: "view map-view", "aria-label": app.t("nav.map") },
      h("div", { class: "map-toolbar" },
        this.controls,
        h("p", { class: "asset-count", "aria-live": "polite" }, this.count, " ", this.countText),
        this.tools,
      ),
      (this.area = h("div", { class: "map-area" }, container, this.overlay, this.legendSlot)),
    );
    this.map = L.map(container, {
      preferCanvas: true,
      zoomControl: true,
      minZoom: 8,
      maxZoom: 19,
      center: [47.32, 5.04],
      zoom: 11,
      attributionControl: false,
    });
    this.layer = new AssetLayer(this.store);
    this.layer.onDrawn = (markers) => {
      this.markersDrawn = markers;
      if (this.drawnAt === null && this.store.size > 0) this.drawnAt = performance.now();
      this.labels?.place(this.layer.clusterDiscs());
    };
    // Road situations under the assets: drawn first, so the markers stay on top.
    this.situations = new SituationLayer(app, this.map);
    this.layer.addTo(this.map);
    // Vehicles and salting routes above the assets: they move, the assets stay.
    this.vehicles = new VehicleLayer(app, this.map);
    this.members = new MemberList(app, this.store, container);
    this.area.append(this.members.element);
    this.map.on("click", (event: L.LeafletMouseEvent) => this.clicked(event.containerPoint));
    // The list belongs to a spot on screen: moving the map leaves it behind.
    this.map.on("movestart zoomstart", () => this.members.close());
    this.map.on("resize", () => this.members.keepInside());
    // The panel opening beside the map changes its size, which Leaflet does not watch.
    new ResizeObserver(() => this.map.invalidateSize({ pan: false })).observe(container);
    this.map.on("mousemove", (event: L.LeafletMouseEvent) => {
      container.classList.toggle("over-marker", this.layer.hitTest(event.containerPoint) !== null);
    });
    this.exposeForTests();
  }

  /** Load the communes, the optional tiles and every asset. */
  async start(): Promise<void> {
    // The map was made before its element was on the page: it measures itself now.
    this.map.invalidateSize();
    this.drawCommunes();
    this.addTiles();
    void this.situations.reload();
    void this.vehicles.reload();
    await this.reload();
    this.buildControls();
    this.fitToAssets();
  }

  /** Fetch every asset again (at start, and when the stream says events were lost). */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const payload = await this.app.api.get<MapPayload>("/map");
        // The list holds indices into the store, which a new load renumbers.
        this.members.close();
        this.store.load(payload);
        this.included = new Uint8Array(this.store.size);
        this.applyFilter();
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  apply(events: StreamEvent[]): void {
    let moved = false;
    this.vehicles.apply(events);
    for (const event of events) {
      if (event.kind === "resync") {
        void this.reload();
        return;
      }
      if (event.kind === "road_situation") this.situations.reloadSoon();
      if (event.kind !== "asset") continue;
      const i = this.store.setState(event.id, event.state, event.severity);
      if (i === undefined) continue;
      if (this.filter.state && passes(this.store, this.filter, i) !== (this.included[i] === 1)) moved = true;
    }
    if (moved) this.refilterSoon();
    this.layer.redraw();
    if (this.members.isOpen) this.members.refresh();
  }

  show(shown: boolean): void {
    this.element.hidden = !shown;
    if (shown) this.map.invalidateSize();
    this.layer.show(shown);
  }

  /** Centre the map on an asset and mark it. */
  focusAsset(id: string): void {
    const i = this.store.indexOf(id);
    this.layer.highlight(i ?? null);
    if (i === undefined) return;
    const zoom = Math.max(this.map.getZoom(), ASSET_ZOOM);
    this.map.setView([this.store.lat[i], this.store.lon[i]], zoom);
  }

  clearFocus(): void {
    this.layer.highlight(null);
  }

  /** Indices of the assets the filters let through. */
  includedIndices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.included.length; i++) if (this.included[i]) out.push(i);
    return out;
  }

  onFilterChange(listener: () => void): () => void {
    this.filterListeners.add(listener);
    return () => this.filterListeners.delete(listener);
  }

  private applyFilter(): void {
    window.clearTimeout(this.refilterTimer);
    this.refilterTimer = undefined;
    const indices: number[] = [];
    for (let i = 0; i < this.store.size; i++) {
      const yes = passes(this.store, this.filter, i);
      this.included[i] = yes ? 1 : 0;
      if (yes) indices.push(i);
    }
    this.layer.setAssets(indices);
    this.count.textContent = String(this.store.size);
    this.count.dataset.visible = String(indices.length);
    this.countText.textContent = this.app.t("map.count", { shown: indices.length });
    for (const listener of this.filterListeners) listener();
  }

  /** Show only these assets (null: every asset the other filters let through). */
  showOnly(ids: string[] | null): void {
    this.filter = { ...this.filter, only: ids ? new Set(ids) : undefined };
    this.members.close();
    this.applyFilter();
  }

  private refilterSoon(): void {
    this.refilterTimer ??= window.setTimeout(() => this.applyFilter(), REFILTER_MS);
  }

  private buildControls(): void {
    this.controls.replaceChildren(
      filterBar(this.app, this.catalogue, this.store, (filter) => {
        this.filter = filter;
        // The listed assets may no longer be shown (live refilters leave the list alone).
        this.members.close();
        this.applyFilter();
      }),
      searchBox(this.app, this.store, (i) => {
        this.focusAsset(this.store.ids[i]);
        this.app.openAsset(this.store.ids[i]);
      }),
    );
    this.legendSlot.replaceChildren(legend(this.app, this.catalogue, this.store.typeKeys));
  }

  private clicked(point: L.Point): void {
    if (this.picking) return;
    this.members.close();
    const hit = this.layer.hitTest(point);
    if (!hit) return;
    if ("asset" in hit) {
      const stack = this.layer.stackOf(hit.asset);
      if (stack.length > 1) this.members.open(stack, point.x, point.y);
      else this.app.openAsset(this.store.ids[hit.asset]);
      return;
    }
    const zoom = this.layer.expansionZoom(hit.cluster);
    const members = this.layer.members(hit.cluster);
    if (this.cannotZoomApart(zoom, members)) this.members.open(members, point.x, point.y);
    else this.map.setView([hit.lat, hit.lon], zoom);
  }

  /** Whether zooming in would not show a cluster's members apart, so listing them is the way. */
  private cannotZoomApart(expansionZoom: number, members: Int32Array): boolean {
    if (expansionZoom <= this.map.getZoom() || expansionZoom > this.map.getMaxZoom()) return true;
    return members.length <= LIST_AT_MOST && this.spreadAtMaxZoom(members) <= SAME_SPOT_PX;
  }

  /** The diagonal, in pixels at the closest zoom, of the box around some assets. */
  private spreadAtMaxZoom(assets: Int32Array): number {
    let [west, south, east, north] = [180, 90, -180, -90];
    for (const i of assets) {
      west = Math.min(west, this.store.lon[i]);
      east = Math.max(east, this.store.lon[i]);
      south = Math.min(south, this.store.lat[i]);
      north = Math.max(north, this.store.lat[i]);
    }
    const zoom = this.map.getMaxZoom();
    return this.map.project([south, west], zoom).distanceTo(this.map.project([north, east], zoom));
  }

  private drawCommunes(): void {
    this.labels = new CommuneLabels(this.map, this.catalogue.allCommunes());
    this.layer.redraw();
  }

  /** Map tiles only where the installation names a tile server: a control room may be offline. */
  private addTiles(): void {
    const url = window.BEFFROI_CONFIG?.tileUrl || this.app.config?.tile_url;
    const attribution = window.BEFFROI_CONFIG?.tileAttribution;
    if (!url) return;
    this.map.getContainer().classList.add("with-tiles");
    L.control.attribution({ prefix: false }).addTo(this.map);
    L.tileLayer(url, { maxZoom: 19, attribution: attribution ?? "" }).addTo(this.map);
  }

  private fitToAssets(): void {
    if (!this.store.size) return;
    // The controls just built may have changed the map's size.
    this.map.invalidateSize();
    let [west, south, east, north] = [180, 90, -180, -90];
    for (let i = 0; i < this.store.size; i++) {
      west = Math.min(west, this.store.lon[i]);
      east = Math.max(east, this.store.lon[i]);
      south = Math.min(south, this.store.lat[i]);
      north = Math.max(north, this.store.lat[i]);
    }
    // No animation: the first drawing must be the settled view, clicks at once included.
    this.map.fitBounds([[south, west], [north, east]], { padding: [40, 40], animate: false });
  }

  private exposeForTests(): void {
    const view = this;
    window.__beffroi = {
      get markersDrawn() {
        return view.markersDrawn;
      },
      get assetsLoaded() {
        return view.store.size;
      },
      visibleAssetIds: () => view.includedIndices().map((i) => view.store.ids[i]),
      get drawnAt() {
        return view.drawnAt;
      },
    };
  }
}
