// A dataset's page: what it holds and under which licence, a preview of its rows, a map of
// those with a place, a chart of a numeric column, and the downloads (whole exports, DCAT).
import type uPlot from "uplot";
import { append, h } from "../dom";
import { dataset, EXPLORE, HttpError, records, type Dataset, type Field, type Row } from "./api";
import { pointsMap, type Point } from "./map";
import { link, type Portal } from "./nav";

// The rows read for the map and the chart (the API's most in one page); the table shows fewer.
const READ = 100;
const SHOWN = 20;
const NUMERIC = new Set(["int", "double"]);
const TEMPORAL = new Set(["date", "datetime"]);
const FORMATS: [string, string][] = [
  ["csv", "CSV"],
  ["geojson", "GeoJSON"],
  ["json", "JSON"],
  ["parquet", "Parquet"],
];

export async function datasetPage(main: HTMLElement, portal: Portal, id: string): Promise<void> {
  const { t } = portal;
  main.replaceChildren(link("/", t("dataset.back")), h("p", {}, t("common.loading")));
  let ds: Dataset;
  let rows: { total_count: number; results: Row[] };
  try {
    ds = await dataset(id);
    rows = ds.has_records ? await records(id, READ) : { total_count: 0, results: [] };
  } catch (error) {
    const status = error instanceof HttpError ? error.status : 0;
    main.replaceChildren(link("/", t("dataset.back")), h("p", { class: "portal-error", role: "alert" }, t("common.error", { status })));
    return;
  }
  document.title = `${ds.title} — Beffroi`;
  const mapBox = h("div", { class: "portal-map", "data-testid": "dataset-map" });
  const chartBox = h("section", { class: "portal-chart" });
  main.replaceChildren();
  append(main, [
    link("/", t("dataset.back")),
    h("h1", { "data-testid": "dataset-title" }, ds.title),
    h("p", {}, ds.description),
    metadata(ds, portal),
    downloads(ds, portal),
    h("h2", {}, t("dataset.preview", { shown: Math.min(SHOWN, rows.results.length), total: rows.total_count })),
    preview(ds.fields, rows.results.slice(0, SHOWN)),
    ds.geometry && rows.results.length ? [h("h2", {}, t("dataset.map")), mapBox] : null,
    chartBox,
    h("h2", {}, t("dataset.fields")),
    fieldsTable(ds.fields, portal),
  ]);
  if (ds.geometry && rows.results.length) pointsMap(mapBox, points(ds, rows.results));
  const numeric = ds.fields.filter((f) => NUMERIC.has(f.type));
  if (numeric.length && rows.results.length > 1) void chart(chartBox, ds.fields, numeric, rows.results, portal);
}

function metadata(ds: Dataset, portal: Portal): HTMLElement {
  const { t, lang } = portal;
  const snap = ds.snapshot;
  const when = snap ? new Date(snap.created_at).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB") : "";
  const item = (term: string, ...value: (Node | string)[]) => [h("dt", {}, term), h("dd", {}, ...value)];
  return h(
    "dl",
    { class: "portal-meta" },
    item(t("dataset.licence"), h("a", { href: ds.licence.url, rel: "license", "data-testid": "dataset-licence" }, ds.licence.title)),
    item(t("dataset.provenance"), ds.provenance),
    item(t("dataset.publisher"), ds.publisher),
    item(t("dataset.frequency"), frequency(ds.frequency, portal)),
    item(
      "",
      snap ? t("dataset.version", { version: snap.version, date: when, rows: snap.row_count }) : t("dataset.noSnapshot"),
    ),
  );
}

/** The DCAT frequency code in words (the code itself when the portal knows no words for it). */
function frequency(code: string, portal: Portal): string {
  const key = `frequency.${code}`;
  const said = portal.t(key);
  return said === key ? code : said;
}

function downloads(ds: Dataset, portal: Portal): HTMLElement {
  const { t } = portal;
  const exports = FORMATS.filter(([format]) => ds.exports[format] && (format !== "geojson" || ds.geometry));
  return h(
    "section",
    { class: "portal-downloads" },
    h("h2", {}, t("dataset.download")),
    h(
      "p",
      {},
      ...exports.map(([format, name]) =>
        h("a", { class: "portal-button", href: ds.exports[format], download: "", "data-testid": `download-${format}` }, name),
      ),
    ),
    h(
      "p",
      {},
      h("a", { href: `${EXPLORE}/catalog/exports/dcat.jsonld`, "data-testid": "dcat-jsonld" }, `${t("dataset.dcat")} (JSON-LD)`),
      " · ",
      h("a", { href: `${EXPLORE}/catalog/exports/dcat.ttl` }, `${t("dataset.dcat")} (Turtle)`),
      " · ",
      h("a", { href: `${EXPLORE}/catalog/datasets/${encodeURIComponent(ds.dataset_id)}` }, t("dataset.api")),
    ),
  );
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function preview(fields: Field[], rows: Row[]): HTMLElement {
  return h(
    "div",
    { class: "portal-table" },
    h(
      "table",
      { "data-testid": "preview" },
      h("thead", {}, h("tr", {}, ...fields.map((f) => h("th", { scope: "col" }, f.name)))),
      h("tbody", {}, ...rows.map((row) => h("tr", { "data-testid": "preview-row" }, ...fields.map((f) => h("td", {}, shown(row[f.name])))))),
    ),
  );
}

function fieldsTable(fields: Field[], portal: Portal): HTMLElement {
  const { t } = portal;
  const heads = ["dataset.field", "dataset.type", "dataset.unit", "dataset.coarsened", "dataset.description"];
  return h(
    "div",
    { class: "portal-table" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ...heads.map((key) => h("th", { scope: "col" }, t(key))))),
      h(
        "tbody",
        {},
        ...fields.map((f) =>
          h("tr", {}, h("td", {}, h("code", {}, f.name)), h("td", {}, f.type), h("td", {}, f.unit ?? ""), h("td", {}, f.coarsened ?? ""), h("td", {}, f.description)),
        ),
      ),
    ),
  );
}

function points(ds: Dataset, rows: Row[]): Point[] {
  const geo = ds.geometry as { lon: string; lat: string };
  const label = ds.fields.find((f) => f.type === "text" && f.name !== geo.lat && f.name !== geo.lon);
  return rows.flatMap((row) => {
    const lat = Number(row[geo.lat]);
    const lon = Number(row[geo.lon]);
    if (row[geo.lat] === null || row[geo.lon] === null || !Number.isFinite(lat) || !Number.isFinite(lon)) return [];
    return [{ lat, lon, label: label ? shown(row[label.name]) : `${lat}, ${lon}` }];
  });
}

/** A line of one numeric column over time (the first date field) or, without one, over the rows. */
async function chart(box: HTMLElement, fields: Field[], numeric: Field[], rows: Row[], portal: Portal): Promise<void> {
  const { t } = portal;
  const [{ default: UPlot }] = await Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]);
  const time = fields.find((f) => TEMPORAL.has(f.type));
  const select = h(
    "select",
    { "aria-label": t("dataset.chartOf"), "data-testid": "chart-field" },
    ...numeric.map((f) => h("option", { value: f.name }, f.unit ? `${f.name} (${f.unit})` : f.name)),
  );
  const plotBox = h("div", { "data-testid": "dataset-chart" });
  box.replaceChildren(h("h2", {}, t("dataset.chart")), h("label", {}, `${t("dataset.chartOf")} `, select), plotBox);
  const draw = (): void => {
    const column = select.value;
    const pairs = rows
      .map((row, i) => [time ? Date.parse(String(row[time.name])) / 1000 : i, row[column]] as const)
      .filter((pair): pair is readonly [number, number] => Number.isFinite(pair[0]) && typeof pair[1] === "number")
      .sort((a, b) => a[0] - b[0]);
    const width = Math.max(280, Math.min(plotBox.clientWidth || 800, 900));
    // Rows of several places at one time (counters, stations) make no line: points then.
    const shared = pairs.some((pair, i) => i > 0 && pair[0] === pairs[i - 1][0]);
    const series: uPlot.Series = shared
      ? { label: column, stroke: "#1d4e89", paths: () => null, points: { show: true, size: 6, fill: "#1d4e89" } }
      : { label: column, stroke: "#1d4e89", width: 2 };
    plotBox.replaceChildren();
    new UPlot(
      { width, height: 240, scales: { x: { time: Boolean(time) } }, series: [{}, series] },
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      plotBox,
    );
  };
  select.addEventListener("change", draw);
  draw();
}
