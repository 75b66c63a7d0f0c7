// The assets on one canvas above the map: clusters (supercluster) at low zoom, a symbol per
// asset closer in. A state change redraws the same clusters with new colours; only a new
// filter rebuilds the cluster index.
import L from "leaflet";
import Supercluster, { type PointFeature } from "supercluster";
import { LOOKS, type AssetStore } from "./store";
import { lookColour, shapeOf, traceShape, type Shape } from "./symbols";

interface Props {
  i: number;
}

type Feature = ReturnType<Supercluster<Props>["getClusters"]>[number];

/** What a click on the canvas found. */
export type Hit = { asset: number } | { cluster: number; lat: number; lon: number };

/** A cluster's disc as drawn, in pixels of the map's container (what labels keep clear of). */
export interface Disc {
  x: number;
  y: number;
  r: number;
}

// Clusters stop at this zoom; closer in, every asset is drawn. Radius in pixels of 256-pixel tiles.
const CLUSTER_MAX_ZOOM = 16;
// The canvas reaches this far beyond the screen (a fraction of its size) so a pan shows
// markers before the redraw at its end.
const PAD = 0.25;
const ALARM_FROM = LOOKS.indexOf("alarm_warning");

export class AssetLayer extends L.Layer {
  private canvas!: HTMLCanvasElement;
  private context!: CanvasRenderingContext2D;
  private index: Supercluster<Props> | null = null;
  private included = 0;
  private leavesOf = new Map<number, Int32Array>();
  private features: Feature[] = [];
  private featuresFor = "";
  private frame = 0;
  private hitX = new Float32Array(0);
  private hitY = new Float32Array(0);
  private hitR = new Float32Array(0);
  private hitRef: Feature[] = [];
  private hitCount = 0;
  private selected: number | null = null;
  /** Called after each draw with the number of symbols drawn (clusters count as one). */
  onDrawn: (markers: number) => void = () => {};
  /** Whether the map is on screen: a hidden map is not drawn, only marked out of date. */
  shown = true;
  private stale = false;

  constructor(private readonly store: AssetStore) {
    super({ pane: "overlayPane" });
  }

  override onAdd(map: L.Map): this {
    this.canvas = L.DomUtil.create("canvas", "asset-canvas leaflet-zoom-hide");
    this.context = this.canvas.getContext("2d")!;
    this.getPane()!.appendChild(this.canvas);
    map.on("moveend resize viewreset", this.redraw, this);
    this.redraw();
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off("moveend resize viewreset", this.redraw, this);
    cancelAnimationFrame(this.frame);
    this.canvas.remove();
    return this;
  }

  /** Cluster these assets from now on (the ones the filters let through). */
  setAssets(indices: ArrayLike<number>): void {
    const points: PointFeature<Props>[] = new Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      points[k] = {
        type: "Feature",
        properties: { i },
        geometry: { type: "Point", coordinates: [this.store.lon[i], this.store.lat[i]] },
      };
    }
    this.index = new Supercluster<Props>({ radius: 40, extent: 256, maxZoom: CLUSTER_MAX_ZOOM, minPoints: 3 }).load(points);
    this.included = indices.length;
    this.leavesOf.clear();
    this.featuresFor = "";
    this.redraw();
  }

  get assetCount(): number {
    return this.included;
  }

  highlight(asset: number | null): void {
    this.selected = asset;
    this.redraw();
  }

  /** Draw at the next frame; many calls within a frame draw once. */
  redraw(): void {
    if (!this.shown) {
      this.stale = true;
      return;
    }
    if (this.frame || !this._map) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  show(shown: boolean): void {
    this.shown = shown;
    if (shown && this.stale) {
      this.stale = false;
      this.redraw();
    }
  }

  /** The symbol under a point of the map's container, top-most first. */
  hitTest(point: L.Point): Hit | null {
    const topLeft = this._map.containerPointToLayerPoint([0, 0]);
    const origin = L.DomUtil.getPosition(this.canvas);
    const x = point.x + topLeft.x - origin.x;
    const y = point.y + topLeft.y - origin.y;
    for (let k = this.hitCount - 1; k >= 0; k--) {
      const dx = this.hitX[k] - x;
      const dy = this.hitY[k] - y;
      const r = this.hitR[k] + 4;
      if (dx * dx + dy * dy > r * r) continue;
      const feature = this.hitRef[k];
      const props = feature.properties;
      if (isCluster(feature)) {
        const [lon, lat] = feature.geometry.coordinates;
        return { cluster: feature.properties.cluster_id, lat, lon };
      }
      return { asset: (props as Props).i };
    }
    return null;
  }

  /**
   * The assets drawn on top of one another at an asset's spot (centres closer than its
   * symbol's radius), itself included: a click cannot tell them apart.
   */
  stackOf(asset: number): number[] {
    const at = this.hitRef.findIndex((feature, k) => k < this.hitCount && !isCluster(feature) && (feature.properties as Props).i === asset);
    if (at < 0) return [asset];
    const stack: number[] = [];
    const r2 = this.hitR[at] * this.hitR[at];
    for (let k = 0; k < this.hitCount; k++) {
      const feature = this.hitRef[k];
      if (isCluster(feature)) continue;
      const dx = this.hitX[k] - this.hitX[at];
      const dy = this.hitY[k] - this.hitY[at];
      if (dx * dx + dy * dy <= r2) stack.push((feature.properties as Props).i);
    }
    return stack;
  }

  /** The clusters drawn, in pixels of the map's container, halo included. */
  clusterDiscs(): Disc[] {
    if (!this._map) return [];
    // The canvas sits `pad` beyond the container's top-left corner, in layer pixels.
    const origin = L.DomUtil.getPosition(this.canvas).subtract(this._map.containerPointToLayerPoint([0, 0]));
    const discs: Disc[] = [];
    for (let k = 0; k < this.hitCount; k++) {
      if (isCluster(this.hitRef[k])) discs.push({ x: this.hitX[k] + origin.x, y: this.hitY[k] + origin.y, r: this.hitR[k] + 4 });
    }
    return discs;
  }

  /** The assets a cluster holds (indices into the store). */
  members(cluster: number): Int32Array {
    let members = this.leavesOf.get(cluster);
    if (!members) {
      const leaves = this.index ? this.index.getLeaves(cluster, Infinity) : [];
      members = Int32Array.from(leaves, (leaf) => leaf.properties.i);
      this.leavesOf.set(cluster, members);
    }
    return members;
  }

  expansionZoom(cluster: number): number {
    return this.index ? Math.min(this.index.getClusterExpansionZoom(cluster), CLUSTER_MAX_ZOOM + 1) : CLUSTER_MAX_ZOOM + 1;
  }

  private draw(): void {
    const map = this._map;
    const size = map.getSize();
    const pad = size.multiplyBy(PAD).round();
    const width = size.x + 2 * pad.x;
    const height = size.y + 2 * pad.y;
    const ratio = window.devicePixelRatio || 1;
    const origin = map.containerPointToLayerPoint([-pad.x, -pad.y]);
    L.DomUtil.setPosition(this.canvas, origin);
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    const ctx = this.context;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!this.index) {
      this.hitCount = 0;
      this.onDrawn(0);
      return;
    }
    const zoom = Math.round(map.getZoom());
    const northWest = map.containerPointToLatLng([-pad.x, -pad.y]);
    const southEast = map.containerPointToLatLng([size.x + pad.x, size.y + pad.y]);
    const view = `${zoom}:${northWest.lng},${northWest.lat},${southEast.lng},${southEast.lat}`;
    if (view !== this.featuresFor) {
      this.features = this.index.getClusters(
        [Math.max(-180, northWest.lng), Math.max(-85, southEast.lat), Math.min(180, southEast.lng), Math.min(85, northWest.lat)],
        zoom,
      );
      this.featuresFor = view;
    }
    // Web Mercator by hand: Leaflet's per-point projection allocates, this does not.
    const scale = 256 * 2 ** map.getZoom();
    const pixelOrigin = map.getPixelOrigin();
    const offsetX = pixelOrigin.x + origin.x;
    const offsetY = pixelOrigin.y + origin.y;
    const project = (lon: number, lat: number): [number, number] => {
      const sin = Math.sin((lat * Math.PI) / 180);
      return [
        ((lon + 180) / 360) * scale - offsetX,
        (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale - offsetY,
      ];
    };
    this.drawFeatures(ctx, project, zoom);
  }

  private drawFeatures(ctx: CanvasRenderingContext2D, project: (lon: number, lat: number) => [number, number], zoom: number): void {
    const features = this.features;
    const store = this.store;
    if (this.hitX.length < features.length) {
      const room = Math.max(features.length, 1024) * 2;
      this.hitX = new Float32Array(room);
      this.hitY = new Float32Array(room);
      this.hitR = new Float32Array(room);
    }
    this.hitRef = new Array(features.length);
    let count = 0;
    const r = zoom >= 18 ? 7 : zoom >= 16 ? 5.5 : 4.5;
    // Symbols of one colour and shape are one path: a few fills instead of thousands.
    const batches = new Map<string, { shape: Shape; look: number; points: number[] }>();
    const clusters: { x: number; y: number; r: number; look: number; label: string }[] = [];
    let selectedAt: [number, number] | null = null;
    for (const feature of features) {
      const [lon, lat] = feature.geometry.coordinates;
      const [x, y] = project(lon, lat);
      const props = feature.properties;
      if ("cluster" in props && props.cluster) {
        const look = this.worstOf(props.cluster_id);
        const radius = 11 + 4 * Math.log10(props.point_count);
        clusters.push({ x, y, r: radius, look, label: String(props.point_count_abbreviated) });
        this.remember(count++, x, y, radius, feature);
        continue;
      }
      const i = (props as Props).i;
      const shape = shapeOf(store.typeOf(i));
      const look = store.looks[i];
      const key = `${look}:${shape}`;
      let batch = batches.get(key);
      if (!batch) batches.set(key, (batch = { shape, look, points: [] }));
      batch.points.push(x, y);
      if (i === this.selected) selectedAt = [x, y];
      this.remember(count++, x, y, r, feature);
    }
    this.hitCount = count;
    ctx.lineWidth = 1;
    ctx.strokeStyle = "rgba(20, 28, 38, 0.85)";
    // Alarms last, so that they sit on top of their quiet neighbours.
    const ordered = [...batches.values()].sort((a, b) => a.look - b.look);
    for (const batch of ordered) {
      ctx.beginPath();
      const radius = batch.look >= ALARM_FROM ? r * 1.25 : r;
      for (let k = 0; k < batch.points.length; k += 2) traceShape(ctx, batch.shape, batch.points[k], batch.points[k + 1], radius);
      ctx.fillStyle = lookColour(batch.look);
      ctx.fill();
      ctx.stroke();
    }
    this.drawClusters(ctx, clusters);
    if (selectedAt) {
      ctx.beginPath();
      ctx.arc(selectedAt[0], selectedAt[1], r + 6, 0, 2 * Math.PI);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#111";
      ctx.stroke();
    }
    this.onDrawn(count);
  }

  private drawClusters(ctx: CanvasRenderingContext2D, clusters: { x: number; y: number; r: number; look: number; label: string }[]): void {
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = "600 12px system-ui, sans-serif";
    for (const c of clusters) {
      ctx.beginPath();
      ctx.arc(c.x, c.y, c.r + 4, 0, 2 * Math.PI);
      ctx.fillStyle = `${lookColour(c.look)}55`;
      ctx.fill();
      ctx.beginPath();
      ctx.arc(c.x, c.y, c.r, 0, 2 * Math.PI);
      ctx.fillStyle = lookColour(c.look);
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#fff";
      ctx.stroke();
      ctx.fillStyle = c.look === LOOKS.indexOf("alarm_minor") || c.look === LOOKS.indexOf("unknown") ? "#111" : "#fff";
      ctx.fillText(c.label, c.x, c.y);
      // Not colour alone: a cluster holding an alarm carries a mark.
      if (c.look >= ALARM_FROM) {
        const bx = c.x + c.r * 0.75;
        const by = c.y - c.r * 0.75;
        ctx.beginPath();
        ctx.arc(bx, by, 6.5, 0, 2 * Math.PI);
        ctx.fillStyle = "#fff";
        ctx.fill();
        ctx.lineWidth = 1;
        ctx.strokeStyle = "#111";
        ctx.stroke();
        ctx.fillStyle = "#111";
        ctx.font = "700 10px system-ui, sans-serif";
        ctx.fillText("!", bx, by + 0.5);
        ctx.font = "600 12px system-ui, sans-serif";
      }
    }
  }

  private remember(k: number, x: number, y: number, r: number, feature: Feature): void {
    this.hitX[k] = x;
    this.hitY[k] = y;
    this.hitR[k] = r;
    this.hitRef[k] = feature;
  }

  /** The worst look among a cluster's members; the members are looked up once per cluster. */
  private worstOf(cluster: number): number {
    const members = this.members(cluster);
    const looks = this.store.looks;
    let worst = 0;
    for (let k = 0; k < members.length; k++) if (looks[members[k]] > worst) worst = looks[members[k]];
    return worst;
  }
}

function isCluster(feature: Feature): feature is Extract<Feature, { properties: { cluster: true } }> {
  const props = feature.properties;
  return "cluster" in props && props.cluster;
}
