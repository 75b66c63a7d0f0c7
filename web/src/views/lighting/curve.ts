// The program editor's 24 h curve: the level through the lighting day (noon to noon), the
// night between sunset and sunrise shaded and both marked. Plain SVG, no chart library.
import type { App } from "../../app";
import { clock, type Preview } from "./common";

const W = 720;
const H = 220;
const PAD = { left: 38, right: 24, top: 22, bottom: 26 };
const NS = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** The curve of one preview; data-* attributes give the figures to tests and tools. */
export function previewCurve(app: App, preview: Preview): SVGSVGElement {
  const start = Date.parse(preview.start);
  const span = Date.parse(preview.end) - start;
  const x = (iso: string) => PAD.left + ((Date.parse(iso) - start) / span) * (W - PAD.left - PAD.right);
  const y = (level: number) => PAD.top + (1 - level / 100) * (H - PAD.top - PAD.bottom);
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "l-curve", role: "img", "data-testid": "program-preview",
    "data-points": preview.points.length, "data-day": preview.day,
    "aria-label": app.t("lighting.preview.aria", { day: preview.day, sunset: clock(app, preview.sunset), sunrise: clock(app, preview.sunrise) }),
  });
  const sunset = x(preview.sunset);
  const sunrise = x(preview.sunrise);
  root.append(svg("rect", { x: sunset, y: PAD.top, width: Math.max(0, sunrise - sunset), height: H - PAD.top - PAD.bottom, class: "l-night" }));
  for (const level of [0, 25, 50, 75, 100]) {
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(level), y2: y(level), class: "l-grid" }));
    root.append(svg("text", { x: PAD.left - 4, y: y(level) + 4, "text-anchor": "end", class: "l-axis" }, `${level}`));
  }
  // A tick every two hours of the day's clock (a clock-change day has 23 or 25 of them).
  for (let t = start; t <= start + span; t += 2 * 3600_000) {
    const iso = new Date(t).toISOString();
    root.append(svg("line", { x1: x(iso), x2: x(iso), y1: H - PAD.bottom, y2: H - PAD.bottom + 4, class: "l-grid" }));
    root.append(svg("text", { x: x(iso), y: H - 6, "text-anchor": "middle", class: "l-axis" }, clock(app, iso)));
  }
  const line = preview.points.map((p) => `${x(p.at).toFixed(1)},${y(p.level_pct).toFixed(1)}`).join(" ");
  root.append(svg("polyline", { points: line, class: "l-level", "data-testid": "preview-line" }));
  for (const step of preview.steps) {
    root.append(svg("circle", { cx: x(step.at), cy: y(step.level_pct), r: 3, class: "l-step" }));
  }
  for (const [name, at, where] of [["sunset", preview.sunset, sunset], ["sunrise", preview.sunrise, sunrise]] as const) {
    const mark = svg("g", { "data-testid": `preview-${name}`, "data-time": clock(app, at) });
    mark.append(svg("line", { x1: where, x2: where, y1: PAD.top - 6, y2: H - PAD.bottom, class: "l-sun" }));
    mark.append(svg("text", { x: where, y: PAD.top - 9, "text-anchor": "middle", class: "l-sun-label" },
      `${app.t(`lighting.${name}`)} ${clock(app, at)}`));
    root.append(mark);
  }
  return root;
}
