// The energy page's two charts, in plain SVG (no chart library): consumption beside the
// pre-renovation baseline per period, and the monthly savings against the target.
const NS = "http://www.w3.org/2000/svg";
const W = 720;
const H = 220;
const PAD = { left: 56, right: 12, top: 12, bottom: 34 };

type Attrs = Record<string, string | number>;

function el(tag: string, attrs: Attrs = {}, text?: string): SVGElement {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(label: string, testid: string): SVGSVGElement {
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "e-chart", role: "img", "aria-label": label, "data-testid": testid }) as SVGSVGElement;
  svg.append(el("title", {}, label));
  return svg;
}

/** A round step for the axis: 1, 2 or 5 times a power of ten, about max / 4. */
function niceStep(max: number): number {
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? rough;
}

export interface Bar {
  label: string;
  value: number;
  baseline: number;
}

/** Bars of consumption (blue) beside the baseline (grey), one pair per period; the y axis
 * formatted by unit(). */
export function barChart(bars: Bar[], label: string, unit: (v: number) => string, legend: [string, string]): SVGSVGElement {
  const svg = frame(label, "energy-bars");
  const max = Math.max(1e-9, ...bars.flatMap((b) => [b.value, b.baseline]));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + plotH * (1 - v / top);
  for (let v = 0; v <= top + step / 2; v += step) {
    svg.append(el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "e-grid" }));
    svg.append(el("text", { x: PAD.left - 4, y: y(v) + 3, "text-anchor": "end", class: "e-axis" }, unit(v)));
  }
  const slot = (W - PAD.left - PAD.right) / Math.max(1, bars.length);
  const bw = Math.max(1, Math.min(18, slot * 0.38));
  const every = Math.ceil(bars.length / 14);
  bars.forEach((b, i) => {
    const x = PAD.left + slot * i + slot / 2;
    svg.append(el("rect", { x: x - bw, y: y(b.baseline), width: bw, height: y(0) - y(b.baseline), class: "e-baseline" },));
    const bar = el("rect", { x, y: y(b.value), width: bw, height: y(0) - y(b.value), class: "e-value", "data-period": b.label });
    bar.append(el("title", {}, `${b.label} : ${unit(b.value)} / ${unit(b.baseline)}`));
    svg.append(bar);
    if (i % every === 0) svg.append(el("text", { x, y: H - PAD.bottom + 14, "text-anchor": "middle", class: "e-axis" }, b.label));
  });
  svg.append(el("rect", { x: PAD.left, y: H - 12, width: 10, height: 8, class: "e-value" }));
  svg.append(el("text", { x: PAD.left + 14, y: H - 4, class: "e-axis" }, legend[0]));
  svg.append(el("rect", { x: PAD.left + 160, y: H - 12, width: 10, height: 8, class: "e-baseline" }));
  svg.append(el("text", { x: PAD.left + 174, y: H - 4, class: "e-axis" }, legend[1]));
  return svg;
}

export interface TrendPoint {
  label: string;
  savings: number | null;
}

/** The savings month by month (a line, gaps where a month has no baseline) and the
 * target as a dashed line; shares (0.65), drawn as percentages by pct(). */
export function trendChart(points: TrendPoint[], target: number, label: string, pct: (v: number) => string): SVGSVGElement {
  const svg = frame(label, "energy-trend");
  const known = points.flatMap((p) => (p.savings === null ? [] : [p.savings]));
  const low = Math.min(0, ...known);
  const high = Math.max(1, ...known);
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + plotH * (1 - (v - low) / (high - low));
  for (let v = Math.ceil(low * 4) / 4; v <= high + 1e-9; v += 0.25) {
    svg.append(el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "e-grid" }));
    svg.append(el("text", { x: PAD.left - 4, y: y(v) + 3, "text-anchor": "end", class: "e-axis" }, pct(v)));
  }
  const slot = (W - PAD.left - PAD.right) / Math.max(1, points.length);
  const x = (i: number) => PAD.left + slot * i + slot / 2;
  svg.append(el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(target), y2: y(target), class: "e-target", "data-testid": "energy-target-line" }));
  svg.append(el("text", { x: W - PAD.right, y: y(target) - 4, "text-anchor": "end", class: "e-target-label" }, pct(target)));
  // One path per run of known months: a month without baseline breaks the line.
  let run: string[] = [];
  const flush = () => {
    if (run.length > 1) svg.append(el("path", { d: `M${run.join("L")}`, class: "e-line" }));
    run = [];
  };
  points.forEach((p, i) => {
    svg.append(el("text", { x: x(i), y: H - PAD.bottom + 14, "text-anchor": "middle", class: "e-axis" }, p.label));
    if (p.savings === null) return flush();
    run.push(`${x(i).toFixed(1)},${y(p.savings).toFixed(1)}`);
    const dot = el("circle", { cx: x(i), cy: y(p.savings), r: 3, class: p.savings >= target ? "e-dot e-met" : "e-dot" });
    dot.append(el("title", {}, `${p.label} : ${pct(p.savings)}`));
    svg.append(dot);
  });
  flush();
  return svg;
}
