// Public lighting: programs (with their 24 h preview), calendars (with the program of each
// lighting day), assignments and the schedules compiled for the cabinets. Everybody who
// sees the assets reads them; changing them needs lighting:program.
import type { Mount } from "../app";
import { h } from "./dom";
import { assignmentsTab, schedulesTab } from "./lighting/assignments";
import { calendarsTab } from "./lighting/calendars";
import { overridesTab } from "./lighting/overrides";
import { programsTab } from "./lighting/programs";
import "./views.css";
import "./lighting/lighting.css";

const TABS = { programs: programsTab, calendars: calendarsTab, assignments: assignmentsTab, overrides: overridesTab, schedules: schedulesTab };
type Tab = keyof typeof TABS;

export const mount: Mount = (root, app) => {
  const t = app.t;
  const panel = h("div", { class: "l-tab", role: "tabpanel", id: "lighting-panel" });
  let leave: () => void = () => undefined;
  const buttons = (Object.keys(TABS) as Tab[]).map((name) => {
    const button = h("button", { type: "button", role: "tab", "data-testid": `lighting-tab-${name}`, "aria-controls": "lighting-panel", "aria-selected": "false" }, t(`lighting.tab.${name}`));
    button.addEventListener("click", () => show(name));
    return button;
  });

  function show(name: Tab): void {
    leave();
    for (const button of buttons) button.setAttribute("aria-selected", String(button.dataset.testid === `lighting-tab-${name}`));
    panel.replaceChildren();
    leave = TABS[name](panel, app);
  }

  root.replaceChildren(h("section", { class: "v-view" },
    h("header", { class: "v-head" }, h("h1", {}, t("lighting.title")), h("div", { class: "l-tabs", role: "tablist" }, buttons)),
    panel));
  show("programs");
  return () => leave();
};
