// The communes' names on the map. They sit in their own pane below the assets' canvas, so a
// cluster is never hidden by a name; after each drawing every name moves beside the clusters
// that would cover it, or is left out when there is no room (the larger communes choose first).
import L from "leaflet";
import type { Commune } from "../catalogue";
import { h } from "../dom";
import type { Disc } from "./layer";

interface Label {
  at: L.LatLng;
  text: HTMLElement;
  /** Width and height in pixels, measured once the map is on screen. */
  size: [number, number] | null;
  /** The offset it is drawn at, or null when left out ("" when never placed). */
  placed: string | null;
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

// Below the assets' canvas (overlayPane, 400), above the tiles (200).
const PANE = "communeLabels";
const PANE_Z = "350";
// Where a name may go, tried in order: on its commune's centre, then ever further above,
// below, right, left of it and at its corners (pixels between the centre and the name's near edge).
const GAPS = [14, 26, 40];
// Pixels kept clear around a name.
const MARGIN = 2;

export class CommuneLabels {
  private readonly labels: Label[];

  constructor(
    private readonly map: L.Map,
    communes: Commune[],
  ) {
    const pane = map.createPane(PANE);
    pane.style.zIndex = PANE_Z;
    // Hidden while the map zooms: the names are placed again once the clusters are redrawn.
    pane.classList.add("leaflet-zoom-hide", "commune-labels");
    const biggestFirst = [...communes].sort((a, b) => (b.population ?? 0) - (a.population ?? 0));
    this.labels = biggestFirst.map((commune) => {
      const text = h("span", { "aria-hidden": "true", "data-commune": commune.code }, commune.name);
      const at = L.latLng(commune.lat, commune.lon);
      L.marker(at, {
        pane: PANE,
        icon: L.divIcon({ className: "commune-label", html: text, iconSize: undefined }),
        interactive: false,
        keyboard: false,
      }).addTo(map);
      return { at, text, size: null, placed: "" };
    });
  }

  /** Put every name where no cluster and no larger commune's name covers it. */
  place(clusters: Disc[]): void {
    const taken: Box[] = [];
    for (const label of this.labels) {
      const size = this.measure(label);
      if (!size) continue;
      const centre = this.map.latLngToContainerPoint(label.at);
      const spot = this.freeSpot(centre, size, clusters, taken);
      if (spot) taken.push(spot.box);
      this.show(label, spot?.offset ?? null);
    }
  }

  private measure(label: Label): [number, number] | null {
    if (!label.size) {
      const { offsetWidth, offsetHeight } = label.text;
      // Zero while the map is hidden (another view on screen): measured at a later drawing.
      if (offsetWidth && offsetHeight) label.size = [offsetWidth, offsetHeight];
    }
    return label.size;
  }

  private freeSpot(centre: L.Point, [width, height]: [number, number], clusters: Disc[], taken: Box[]): { offset: [number, number]; box: Box } | null {
    for (const [dx, dy] of candidates(width, height)) {
      const x = centre.x + dx;
      const y = centre.y + dy;
      const box = { left: x - width / 2 - MARGIN, right: x + width / 2 + MARGIN, top: y - height / 2 - MARGIN, bottom: y + height / 2 + MARGIN };
      if (clusters.some((disc) => touches(box, disc)) || taken.some((other) => overlaps(box, other))) continue;
      return { offset: [dx, dy], box };
    }
    return null;
  }

  /** Move a name by an offset from its centre, or hide it (null); the DOM is touched only on a change. */
  private show(label: Label, offset: [number, number] | null): void {
    const placed = offset ? `${offset[0]},${offset[1]}` : null;
    if (placed === label.placed) return;
    label.placed = placed;
    label.text.hidden = offset === null;
    if (offset) label.text.style.transform = `translate(calc(-50% + ${offset[0]}px), calc(-50% + ${offset[1]}px))`;
  }
}

/** Offsets of a name's centre from its commune's centre, in the order they are tried. */
function candidates(width: number, height: number): [number, number][] {
  const out: [number, number][] = [[0, 0]];
  for (const gap of GAPS) {
    const [dx, dy] = [gap + width / 2, gap + height / 2];
    out.push([0, -dy], [0, dy], [dx, 0], [-dx, 0]);
    // The corners: a diagonal step of the same length.
    const [cx, cy] = [gap * Math.SQRT1_2 + width / 2, gap * Math.SQRT1_2 + height / 2];
    out.push([cx, -cy], [-cx, -cy], [cx, cy], [-cx, cy]);
  }
  return out;
}

function overlaps(a: Box, b: Box): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** Whether a box and a disc meet: the box's nearest point to the centre lies within the radius. */
function touches(box: Box, disc: Disc): boolean {
  const dx = disc.x - Math.max(box.left, Math.min(disc.x, box.right));
  const dy = disc.y - Math.max(box.top, Math.min(disc.y, box.bottom));
  return dx * dx + dy * dy < disc.r * disc.r;
}
