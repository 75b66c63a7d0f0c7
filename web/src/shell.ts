// The console around the views: top bar and navigation, the live stream, the map (kept for
// the whole session), the asset panel and the App every view receives.
import type { Api, App, ConsoleConfig, Me, Mount, StreamEvent } from "./app";
import { createApi, signOut } from "./api";
import { Catalogue } from "./catalogue";
import { h } from "./dom";
import { timeFormatter, type Lang } from "./format";
import { GroupActions } from "./group/actions";
import { rememberLang, translator } from "./i18n";
import { LogPanel } from "./log/panel";
import { MapView } from "./map/view";
import { AssetPanel } from "./panel/panel";
import { Stream } from "./stream";

interface Route {
  name: string;
  // Shown to whoever holds one of these.
  permission: string | string[];
  load?: () => Promise<{ mount: Mount }>;
}

// The map is always there; the other views are fetched the first time they are shown.
const ROUTES: Route[] = [
  { name: "map", permission: "asset:read" },
  { name: "alarms", permission: "alarm:read", load: () => import("./views/alarms") },
  { name: "interventions", permission: "intervention:read", load: () => import("./views/interventions") },
  { name: "dashboard", permission: "kpi:read", load: () => import("./views/dashboard") },
  { name: "approvals", permission: "command:approve", load: () => import("./views/approvals") },
  { name: "lighting", permission: "asset:read", load: () => import("./views/lighting") },
  { name: "traffic", permission: "asset:read", load: () => import("./views/traffic") },
  { name: "energy", permission: "asset:read", load: () => import("./views/energy-page") },
  { name: "mobility", permission: "command:read", load: () => import("./views/mobility") },
  { name: "reports", permission: "report:read", load: () => import("./views/reports") },
  { name: "roads", permission: "asset:read", load: () => import("./views/roads") },
  { name: "plans", permission: "plan:read", load: () => import("./views/plans") },
  { name: "video", permission: ["video:watch", "video:register", "video:manage"], load: () => import("./views/video") },
];

const TOAST_MS = 5000;

/** The installation's settings, or null (then the map has no tiles and times read in the
 * browser's zone) when they cannot be read. */
async function loadConfig(api: Api): Promise<ConsoleConfig | null> {
  try {
    return await api.get<ConsoleConfig>("/console/config");
  } catch {
    return null;
  }
}

export async function startConsole(root: HTMLElement, me: Me, lang: Lang): Promise<void> {
  const t = translator(lang);
  const api = createApi(me.csrf_token);
  const permissions = new Set(me.permissions);
  const listeners = new Set<(events: StreamEvent[]) => void>();
  const toasts = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
  const banner = h("div", { class: "connection-status", "data-testid": "connection-status" });
  const stream = new Stream(banner, (state) => t(`stream.${state}`));
  let panel: AssetPanel | null = null;
  let mapView: MapView | null = null;
  let current = "";

  root.replaceChildren(h("p", { class: "booting" }, t("app.loading")));
  // Read once for the whole session: every view takes them from the App.
  const [catalogue, config] = await Promise.all([Catalogue.load(api, lang), loadConfig(api)]);
  const timeZone = config?.timezone;

  const app: App = {
    me,
    api,
    lang,
    catalogue,
    config,
    timeZone,
    t,
    can: (permission) => permissions.has(permission),
    worksIn: (domain) => me.work_domains.includes(domain),
    onEvents(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    openAsset(id) {
      void panel?.open(id);
      mapView?.layer.highlight(mapView.store.indexOf(id) ?? null);
    },
    navigate(view) {
      location.hash = `#/${view}`;
    },
    showOnMap(ids) {
      mapView?.showOnly(ids);
      location.hash = "#/map";
    },
    toast(message, kind = "info") {
      const toast = h("div", { class: `toast toast-${kind}`, "data-testid": "toast", role: kind === "error" ? "alert" : null }, message);
      toasts.append(toast);
      window.setTimeout(() => toast.remove(), kind === "error" ? 2 * TOAST_MS : TOAST_MS);
    },
    formatTime: timeFormatter(lang, timeZone),
  };

  const routes = ROUTES.filter((r) => [r.permission].flat().some((p) => app.can(p)));
  const viewRoot = h("div", { class: "view-root" });
  const nav = h("nav", { class: "main-nav", "aria-label": t("nav.label") },
    routes.map((r) => h("a", { href: `#/${r.name}`, "data-testid": `nav-${r.name}`, "data-view": r.name }, t(`nav.${r.name}`))),
  );
  const main = h("main", { class: "main", id: "main" }, viewRoot);
  if (app.can("asset:read")) {
    mapView = new MapView(app, catalogue);
    main.prepend(mapView.element);
  }
  panel = new AssetPanel(app, catalogue, {
    watch: (ids) => stream.watch(ids),
    lookOf: (id) => {
      const i = mapView?.store.indexOf(id);
      return i === undefined ? undefined : mapView!.store.looks[i];
    },
    closed: () => mapView?.clearFocus(),
  });
  const logout = h("button", { type: "button", class: "logout", "data-testid": "logout" }, t("app.logout"));
  logout.addEventListener("click", async () => {
    stream.stop();
    try {
      await signOut(me.csrf_token);
    } finally {
      location.hash = "";
      location.reload();
    }
  });
  // The log is every desk's: whoever reads it has it one click away, on any view.
  const log = app.can("opslog:read") ? new LogPanel(app) : null;
  const other: Lang = lang === "fr" ? "en" : "fr";
  const langToggle = h("button", { type: "button", class: "lang-toggle", "data-testid": "lang-toggle", lang: other, "aria-label": t("app.lang.aria") },
    other === "en" ? "English" : "Français");
  langToggle.addEventListener("click", () => {
    rememberLang(other);
    // The console starts again in the other language, on the same view. Only a `?lang=`
    // in the address needs a new address; otherwise a replace to the same address with a
    // #/view would only move to that fragment, and nothing would change.
    const url = new URL(location.href);
    if (url.searchParams.has("lang")) {
      url.searchParams.delete("lang");
      location.replace(url.toString());
    } else {
      location.reload();
    }
  });
  root.replaceChildren(
    h("a", { class: "skip-link", href: "#main" }, t("app.skip")),
    h("header", { class: "topbar" },
      h("span", { class: "brand" }, "Beffroi"),
      nav,
      h("div", { class: "user" },
        h("span", { class: "user-name", "data-testid": "user-name" }, me.user.display_name || me.user.username),
        log?.toggle,
        langToggle,
        logout,
      ),
    ),
    banner,
    h("div", { class: "workspace" }, main, panel.element, log?.element),
    toasts,
  );

  // A selection on the map serves group commands and lighting assignments.
  const groups = mapView && (app.can("command:send") || app.can("lighting:program")) ? new GroupActions(app, catalogue, mapView) : null;
  stream.on((events) => {
    mapView?.apply(events);
    panel?.apply(events);
    groups?.apply(events);
    log?.apply(events);
    for (const listener of listeners) listener(events);
  });

  let unmount: (() => void) | null = null;
  const show = async () => {
    const wanted = location.hash.replace(/^#\/?/, "") || routes[0]?.name || "map";
    const route = routes.find((r) => r.name === wanted) ?? routes[0];
    if (!route || route.name === current) return;
    current = route.name;
    unmount?.();
    unmount = null;
    viewRoot.replaceChildren();
    for (const link of nav.querySelectorAll<HTMLElement>("a")) {
      if (link.dataset.view === route.name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    mapView?.show(route.name === "map");
    viewRoot.hidden = route.name === "map";
    document.title = `${t(`nav.${route.name}`)} · Beffroi`;
    if (!route.load) return;
    try {
      const { mount } = await route.load();
      if (current !== route.name) return;
      const element = h("section", { class: "view", "data-view": route.name });
      viewRoot.append(element);
      unmount = mount(element, app);
    } catch (error) {
      app.toast(error instanceof Error ? error.message : String(error), "error");
    }
  };
  window.addEventListener("hashchange", () => void show());
  await show();
  stream.start();
  if (mapView) {
    try {
      await mapView.start();
    } catch (error) {
      app.toast(`${t("map.failed")}: ${error instanceof Error ? error.message : String(error)}`, "error");
    }
  }
}
