// The map's filters (type, commune, state) and its search by id or name.
import type { App } from "../app";
import type { Catalogue } from "../catalogue";
import { fill, h } from "../dom";
import { LOOKS, stateOfLook, type AssetStore } from "./store";
import { lookColour, shapeOf, symbolIcon } from "./symbols";

export interface Filter {
  type: string;
  commune: string;
  state: string;
  // Only these assets (a crisis plan's), when set; the filter bar's next change clears it.
  only?: ReadonlySet<string>;
}

export const NO_FILTER: Filter = { type: "", commune: "", state: "" };
const STATES = ["ok", "alarm", "offline", "maintenance", "commanded", "unknown"];
const RESULTS = 12;
const lookName = (look: number) => LOOKS[look] ?? "unknown";

export function passes(store: AssetStore, filter: Filter, i: number): boolean {
  if (filter.only && !filter.only.has(store.ids[i])) return false;
  if (filter.type && store.typeOf(i) !== filter.type) return false;
  if (filter.commune && store.communeOf(i) !== filter.commune) return false;
  if (filter.state && stateOfLook(store.looks[i]) !== filter.state) return false;
  return true;
}

function select(testid: string, label: string, options: [string, string][], onChange: (value: string) => void): HTMLElement {
  const id = `map-${testid}`;
  const control = h("select", { id, "data-testid": testid },
    options.map(([value, text]) => h("option", { value }, text)),
  );
  control.addEventListener("change", () => onChange(control.value));
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

/** The filter selects; `onChange` gets the whole filter after each change. */
export function filterBar(app: App, catalogue: Catalogue, store: AssetStore, onChange: (filter: Filter) => void): HTMLElement {
  const filter: Filter = { ...NO_FILTER };
  const types = store.typeKeys
    .map((key): [string, string] => [key, catalogue.typeLabel(key)])
    .sort((a, b) => a[1].localeCompare(b[1], app.lang));
  const communes = store.communeKeys
    .map((code): [string, string] => [code, catalogue.communeName(code)])
    .sort((a, b) => a[1].localeCompare(b[1], "fr"));
  const states = STATES.map((state): [string, string] => [state, app.t(`state.${state}`)]);
  const change = (field: "type" | "commune" | "state") => (value: string) => {
    filter[field] = value;
    onChange({ ...filter });
  };
  return h("div", { class: "map-filters", role: "group", "aria-label": app.t("map.filters") },
    select("filter-type", app.t("map.filter.type"), [["", app.t("map.filter.all")], ...types], change("type")),
    select("filter-commune", app.t("map.filter.commune"), [["", app.t("map.filter.all_f")], ...communes], change("commune")),
    select("filter-state", app.t("map.filter.state"), [["", app.t("map.filter.all")], ...states], change("state")),
  );
}

/** The search box; results list the matching assets, Enter or a click opens one. */
export function searchBox(app: App, store: AssetStore, open: (i: number) => void): HTMLElement {
  const input = h("input", {
    id: "asset-search", type: "search", "data-testid": "asset-search", autocomplete: "off",
    placeholder: app.t("map.search.placeholder"), "aria-controls": "asset-search-results",
  });
  const results = h("ul", { id: "asset-search-results", class: "search-results", role: "listbox", hidden: true });
  let timer: number | undefined;
  const choose = (i: number) => {
    results.hidden = true;
    open(i);
  };
  const refresh = () => {
    const found = store.search(input.value, RESULTS, () => true);
    results.hidden = !input.value.trim();
    fill(results, found.length ? found.map((i) => {
      const item = h("li", { role: "option", tabindex: -1, "data-testid": "search-result", "data-asset-id": store.ids[i] },
        symbolIcon(shapeOf(store.typeOf(i)), lookColour(store.looks[i])),
        h("span", { class: "result-id" }, store.ids[i]),
        h("span", { class: "result-name" }, store.names[i]),
        h("span", { class: "result-state" }, app.t(`look.${lookName(store.looks[i])}`)),
      );
      item.addEventListener("click", () => choose(i));
      item.addEventListener("keydown", (event) => {
        if (event.key === "Enter") choose(i);
        else if (event.key === "ArrowDown") (item.nextElementSibling as HTMLElement | null)?.focus();
        else if (event.key === "ArrowUp") ((item.previousElementSibling as HTMLElement | null) ?? input).focus();
        else if (event.key === "Escape") { results.hidden = true; input.focus(); }
        else return;
        event.preventDefault();
      });
      return item;
    }) : h("li", { class: "search-empty" }, app.t("map.search.none")));
  };
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 120);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      (results.querySelector("[data-testid=search-result]") as HTMLElement | null)?.focus();
      event.preventDefault();
    } else if (event.key === "Enter") {
      window.clearTimeout(timer);
      refresh();
      const first = results.querySelector<HTMLElement>("[data-testid=search-result]");
      if (first) first.click();
    } else if (event.key === "Escape") {
      results.hidden = true;
    }
  });
  return h("div", { class: "map-search field" },
    h("label", { for: "asset-search" }, app.t("map.search")),
    input,
    results,
  );
}
