// Video-protection (docs/video.md): a tab per duty, each shown only to whoever holds its
// permission — viewing for habilitated agents, the register for auditors, habilitations
// for managers. The server checks everything again; the tabs only spare useless clicks.
import type { App, Mount } from "../app";
import { h } from "./dom";
import { habilitationsTab } from "./video/habilitations";
import { registerTab } from "./video/register";
import { sessionTab } from "./video/session";
import "./views.css";
import "./video/video.css";

type Tab = (root: HTMLElement, app: App) => () => void;
const TABS: { name: string; permission: string; open: Tab }[] = [
  { name: "session", permission: "video:watch", open: sessionTab },
  { name: "register", permission: "video:register", open: registerTab },
  { name: "habilitations", permission: "video:manage", open: habilitationsTab },
];

export const mount: Mount = (root, app) => {
  const t = app.t;
  const tabs = TABS.filter((tab) => app.can(tab.permission));
  const panel = h("div", { class: "vd-tab", role: "tabpanel", id: "video-panel" });
  let leave: () => void = () => undefined;
  const buttons = tabs.map((tab) =>
    h("button", { type: "button", role: "tab", "data-testid": `video-tab-${tab.name}`, "aria-controls": "video-panel", "aria-selected": "false", onclick: () => show(tab.name) }, t(`video.tab.${tab.name}`)),
  );

  function show(name: string): void {
    leave();
    for (const button of buttons) button.setAttribute("aria-selected", String(button.dataset.testid === `video-tab-${name}`));
    panel.replaceChildren();
    const tab = tabs.find((candidate) => candidate.name === name);
    leave = tab ? tab.open(panel, app) : () => undefined;
  }

  root.replaceChildren(h("section", { class: "v-view" },
    h("header", { class: "v-head" }, h("h1", {}, t("video.title")), h("div", { class: "vd-tabs", role: "tablist" }, buttons)),
    panel));
  if (tabs[0]) show(tabs[0].name);
  return () => leave();
};
