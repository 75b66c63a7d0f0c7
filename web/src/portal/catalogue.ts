// The catalogue: every published dataset, searched by words and narrowed to a theme.
import { h } from "../dom";
import { catalogue, HttpError, type Dataset } from "./api";
import { link, type Portal } from "./nav";

export async function cataloguePage(main: HTMLElement, portal: Portal): Promise<void> {
  const { t } = portal;
  const params = new URLSearchParams(location.search);
  const search = h("input", {
    type: "search",
    placeholder: t("catalogue.search"),
    "aria-label": t("catalogue.search"),
    value: params.get("q") ?? "",
    "data-testid": "catalogue-search",
  });
  const theme = h("select", { "aria-label": t("catalogue.allThemes"), "data-testid": "catalogue-theme" });
  const list = h("div", { class: "portal-list", "aria-live": "polite" });
  main.replaceChildren(h("h1", {}, t("portal.title")), h("div", { class: "portal-filters" }, search, theme), list);

  // The themes are those of the whole catalogue, whatever the current search.
  const everything = await catalogue("", "").catch(() => ({ total_count: 0, results: [] as Dataset[] }));
  const themes = [...new Set(everything.results.flatMap((d) => d.themes))].sort((a, b) => a.localeCompare(b));
  theme.replaceChildren(
    h("option", { value: "" }, t("catalogue.allThemes")),
    ...themes.map((name) => h("option", { value: name }, name)),
  );
  theme.value = params.get("theme") ?? "";

  let asked = 0;
  const refresh = async (): Promise<void> => {
    const mine = ++asked;
    const query = new URLSearchParams();
    if (search.value) query.set("q", search.value);
    if (theme.value) query.set("theme", theme.value);
    history.replaceState(null, "", query.size ? `?${query}` : location.pathname);
    try {
      const page = await catalogue(search.value.trim(), theme.value);
      if (mine !== asked) return; // a newer search is under way
      list.replaceChildren(
        h("p", { class: "portal-muted" }, t("catalogue.count", { n: page.total_count })),
        ...(page.results.length ? page.results.map((d) => card(d, portal)) : [h("p", {}, t("catalogue.none"))]),
      );
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 0;
      list.replaceChildren(h("p", { class: "portal-error", role: "alert" }, t("common.error", { status })));
    }
  };
  let timer: number | undefined;
  search.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void refresh(), 250);
  });
  theme.addEventListener("change", () => void refresh());
  await refresh();
}

function card(d: Dataset, portal: Portal): HTMLElement {
  return h(
    "article",
    { class: "portal-card", "data-testid": "dataset-card", "data-dataset": d.dataset_id },
    h("h2", {}, link(`/datasets/${encodeURIComponent(d.dataset_id)}`, d.title, { "data-testid": "dataset-link" })),
    h("p", {}, d.description),
    h(
      "p",
      { class: "portal-tags" },
      ...d.themes.map((name) => h("span", { class: "portal-tag" }, name)),
      h("span", { class: "portal-muted" }, `${portal.t("dataset.licence")} : ${d.licence.title}`),
    ),
  );
}
