// Traffic signals: the intersections (live state, plans, timetable, with their editors)
// and the corridors (green waves). Everybody who sees the assets reads them; changing
// plans, timetables and corridors needs traffic:plan.
import type { Mount } from "../app";
import { h } from "./dom";
import { corridorsTab } from "./traffic/corridors";
import { intersectionsTab } from "./traffic/intersection";
import "./views.css";

const TABS = { intersections: intersectionsTab, corridors: corridorsTab };
type Tab = keyof typeof TABS;

export const mount: Mount = (root, app) => {
  const t = app.t;
  const panel = h("div", { class: "l-tab", role: "tabpanel", id: "traffic-panel" });
  let leave: () => void = () => undefined;
  const buttons = (Object.keys(TABS) as Tab[]).map((name) => {
    const button = h("button", { type: "button", role: "tab", "data-testid": `traffic-tab-${name}`, "aria-controls": "traffic-panel", "aria-selected": "false" }, t(`traffic.tab.${name}`));
    button.addEventListener("click", () => show(name));
    return button;
  });

  function show(name: Tab): void {
    leave();
    for (const button of buttons) button.setAttribute("aria-selected", String(button.dataset.testid === `traffic-tab-${name}`));
    panel.replaceChildren();
    leave = TABS[name](panel, app);
  }

  root.replaceChildren(h("section", { class: "v-view" },
    h("header", { class: "v-head" }, h("h1", {}, t("traffic.title")), h("div", { class: "l-tabs", role: "tablist" }, buttons)),
    panel));
  show("intersections");
  return () => leave();
};
