// The overrides tab: levels imposed for a while over the programs, by state (active,
// scheduled, awaiting approval, ended). Those with lighting:program end one now; those
// with command:approve approve or refuse a critical one, unless they made it (four-eyes:
// the server says the same). New overrides are made from the map's selection or the asset
// panel.
import type { App } from "../../app";
import type { Schema } from "../../schemas";
import { attempt, errorText, h } from "../dom";
import { canProgram, scopeName } from "./common";

type Override = Schema<"OverrideOut">;

const SECTIONS: [string, string[]][] = [
  ["active", ["active"]],
  ["scheduled", ["scheduled"]],
  ["pending", ["pending_approval"]],
  ["ended", ["ended", "cancelled", "refused"]],
];

export function overridesTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const status = h("p", { class: "v-muted", role: "status" });
  const lists = h("div", {});
  const toMap = h("button", { type: "button", "data-testid": "override-on-map" }, t("override.onMap"));
  toMap.addEventListener("click", () => app.navigate("map"));
  root.replaceChildren(h("div", {},
    h("p", { class: "v-note" }, t("override.about")),
    canProgram(app) ? h("p", {}, toMap, " ", h("span", { class: "v-muted" }, t("override.howTo"))) : null,
    status, lists));

  function target(o: Override): string {
    if (o.target === "assets") {
      const ids = o.asset_ids ?? [];
      return ids.length <= 3 ? ids.join(", ") : t("override.assets", { n: ids.length });
    }
    if (o.target === "group") return t("lighting.assignment.group", { id: o.group_id ?? "" });
    if (o.target === "polygon") return `${t("lighting.target.polygon")} · ${scopeName(app, o.commune)}`;
    if (o.target === "commune") return scopeName(app, o.commune);
    return t("lighting.metropolis");
  }

  function actions(o: Override): HTMLElement | null {
    const live = ["active", "scheduled", "pending_approval"].includes(o.state);
    const cells: HTMLElement[] = [];
    if (live && canProgram(app)) {
      const cancel = h("button", { type: "button", "data-testid": `override-${o.id}-cancel` }, t(o.state === "active" ? "override.endNow" : "override.cancel"));
      cancel.addEventListener("click", async () => {
        if (!window.confirm(t("override.confirmCancel", { id: o.id }))) return;
        if (await attempt(app, () => app.api.post(`/lighting/overrides/${o.id}/cancel`, {}))) void load();
      });
      cells.push(cancel);
    }
    // Four-eyes: the author never decides on their own override.
    if (o.state === "pending_approval" && app.can("command:approve") && o.author !== app.me.user.username) {
      const approve = h("button", { type: "button", class: "v-primary", "data-testid": `override-${o.id}-approve` }, t("approvals.approve"));
      approve.addEventListener("click", async () => {
        if (await attempt(app, () => app.api.post(`/lighting/overrides/${o.id}/approve`, {}))) void load();
      });
      const why = h("input", { type: "text", maxlength: 500, placeholder: t("override.refuseReason"), "aria-label": t("override.refuseReason"), "data-testid": `override-${o.id}-refuse-reason` });
      const refuse = h("button", { type: "button", "data-testid": `override-${o.id}-refuse` }, t("override.refuse"));
      refuse.addEventListener("click", async () => {
        if (!why.value.trim()) {
          why.setCustomValidity(t("override.refuseReasonRequired"));
          why.reportValidity();
          return;
        }
        if (await attempt(app, () => app.api.post(`/lighting/overrides/${o.id}/refuse`, { reason: why.value.trim() }))) void load();
      });
      why.addEventListener("input", () => why.setCustomValidity(""));
      cells.push(approve, why, refuse);
    }
    return cells.length ? h("td", { class: "l-actions" }, cells) : h("td", {});
  }

  function row(o: Override): HTMLElement {
    const decided = o.decided_by ? ` · ${t(`override.state.${o.state === "refused" ? "refused" : "approved"}`)} : ${o.decided_by}` : "";
    const cancelled = o.cancelled_by ? ` · ${t("override.cancelledBy", { who: o.cancelled_by })}` : "";
    return h("tr", { "data-testid": `override-${o.id}`, "data-state": o.state, class: o.critical ? "l-critical" : "" },
      h("td", {}, target(o)),
      h("td", { "data-testid": "override-level-pct" }, `${o.level_pct} %`),
      h("td", {}, app.formatTime(o.starts_at), " → ", app.formatTime(o.ends_at)),
      h("td", {}, o.reason, o.critical ? h("span", { class: "l-badge" }, ` ${t("override.critical")}`) : null),
      h("td", { class: "v-muted" }, `${o.author}${decided}${cancelled}`),
      h("td", { "data-testid": "override-state" }, t(`override.state.${o.state}`)),
      actions(o));
  }

  async function load(): Promise<void> {
    try {
      const all = await app.api.get<Override[]>("/lighting/overrides");
      status.textContent = all.length ? "" : t("override.none");
      lists.replaceChildren(...SECTIONS.map(([name, states]) => {
        const mine = all.filter((o) => states.includes(o.state));
        return h("section", { "data-testid": `overrides-${name}` },
          h("h2", {}, `${t(`override.section.${name}`)} (${mine.length})`),
          mine.length
            ? h("div", { class: "v-scroll" }, h("table", { class: "v-table v-compact" },
              h("thead", {}, h("tr", {}, ["target", "level", "period", "reason", "author", "state"].map((c) => h("th", { scope: "col" }, t(`override.col.${c}`))),
                h("th", { scope: "col" }, h("span", { class: "v-sr" }, t("lighting.step.actions"))))),
              h("tbody", {}, mine.map(row))))
            : h("p", { class: "v-muted" }, t("override.empty")));
      }));
    } catch (error) {
      status.textContent = errorText(app, error);
    }
  }

  void load();
  // States move with the clock (scheduled → active → ended): read them again now and then.
  const timer = window.setInterval(() => void load(), 60_000);
  return () => window.clearInterval(timer);
}
