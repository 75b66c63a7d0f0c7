// Colour per look and shape per type: the two cues of a marker, so that colour is never the
// only one. The legend and the lists draw the same symbols as the map.
import { LOOKS, type Look } from "./store";

export const LOOK_COLOURS: Record<Look, string> = {
  ok: "#2e9d4a",
  maintenance: "#8e44ad",
  commanded: "#0aa5bd",
  unknown: "#a7b0ba",
  offline: "#5f6874",
  alarm_warning: "#2f6fdf",
  alarm_minor: "#e3b505",
  alarm_major: "#ef7a12",
  alarm_critical: "#d42424",
};

export const lookColour = (look: number): string => LOOK_COLOURS[LOOKS[look] ?? "unknown"];

export type Shape = "circle" | "square" | "triangle" | "diamond" | "hexagon" | "wide" | "pentagon" | "down" | "star";

const KNOWN: Record<string, Shape> = {
  streetlight: "circle",
  lighting_cabinet: "square",
  traffic_controller: "triangle",
  camera: "diamond",
  bollard: "hexagon",
  message_sign: "wide",
  traffic_counter: "pentagon",
  car_park: "down",
  air_quality_station: "star",
};
const SPARE: Shape[] = ["star", "pentagon", "down", "hexagon"];

/** The shape of a type; a type the console does not know yet still gets a stable one. */
export function shapeOf(type: string): Shape {
  if (KNOWN[type]) return KNOWN[type];
  let hash = 0;
  for (const char of type) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return SPARE[Math.abs(hash) % SPARE.length];
}

function polygon(sides: number, rotation: number, r: number): [number, number][] {
  return Array.from({ length: sides }, (_, k) => {
    const angle = rotation + (k * 2 * Math.PI) / sides;
    return [r * Math.cos(angle), r * Math.sin(angle)];
  });
}

function star(r: number): [number, number][] {
  return Array.from({ length: 10 }, (_, k) => {
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    const radius = k % 2 ? r * 0.45 : r;
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  });
}

/** Corners of a shape of radius 1 around 0,0 (none for the circle). */
const OUTLINES: Record<Shape, [number, number][]> = {
  circle: [],
  square: [[-0.82, -0.82], [0.82, -0.82], [0.82, 0.82], [-0.82, 0.82]],
  triangle: polygon(3, -Math.PI / 2, 1.15).map(([x, y]) => [x, y + 0.15]),
  diamond: polygon(4, 0, 1.15),
  hexagon: polygon(6, 0, 1),
  wide: [[-1.2, -0.6], [1.2, -0.6], [1.2, 0.6], [-1.2, 0.6]],
  pentagon: polygon(5, -Math.PI / 2, 1.05),
  down: polygon(3, Math.PI / 2, 1.15).map(([x, y]) => [x, y - 0.15]),
  star: star(1.25),
};

/** Add the outline of a symbol to the current path (callers fill many in one go). */
export function traceShape(ctx: CanvasRenderingContext2D, shape: Shape, x: number, y: number, r: number): void {
  const corners = OUTLINES[shape];
  if (!corners.length) {
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    return;
  }
  ctx.moveTo(x + corners[0][0] * r, y + corners[0][1] * r);
  for (let k = 1; k < corners.length; k++) ctx.lineTo(x + corners[k][0] * r, y + corners[k][1] * r);
  ctx.closePath();
}

const SVG = "http://www.w3.org/2000/svg";

/** The same symbol as a small SVG, for the legend and lists. */
export function symbolIcon(shape: Shape, colour: string, size = 14): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("viewBox", "-1.5 -1.5 3 3");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("symbol");
  const corners = OUTLINES[shape];
  const mark = corners.length
    ? document.createElementNS(SVG, "polygon")
    : document.createElementNS(SVG, "circle");
  if (corners.length) mark.setAttribute("points", corners.map(([x, y]) => `${x},${y}`).join(" "));
  else mark.setAttribute("r", "1");
  mark.setAttribute("fill", colour);
  mark.setAttribute("stroke", "#1b2430");
  mark.setAttribute("stroke-width", "0.25");
  svg.appendChild(mark);
  return svg;
}
