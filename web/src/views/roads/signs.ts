// The message signs of a situation: near an open one, the text proposed for each sign
// (editable, line by line as the sign shows it), sent only when the operator confirms;
// once it is over, the signs still showing it, cleared on confirmation.
import type { App } from "../../app";
import { attempt, errorText, h } from "../dom";
import { announceChange, type SignsOut, type SignsSent, type Situation } from "./common";

export async function signsPanel(app: App, situation: Situation, refresh: () => void): Promise<HTMLElement> {
  const t = app.t;
  const box = h("div", { class: "roads-signs", "data-testid": "roads-signs" }, h("h2", {}, t("roads.signs.title", { id: situation.id })));
  let signs: SignsOut;
  try {
    signs = await app.api.get<SignsOut>(`/roads/situations/${situation.id}/signs`);
  } catch (error) {
    box.append(h("p", { class: "v-error" }, errorText(app, error)));
    return box;
  }
  const act = app.can("roads:manage") && app.can("command:send");
  if (signs.proposals.length) {
    const rows = signs.proposals.map((p) => {
      const pick = h("input", { type: "checkbox", checked: p.showing === null, "data-testid": "sign-pick", "aria-label": p.name });
      const text = h("textarea", {
        rows: p.lines, cols: p.width_chars, class: "roads-sign-text", "data-testid": "sign-text",
        "data-asset": p.asset_id, spellcheck: false,
      });
      text.value = p.proposed.join("\n");
      return { p, pick, text, row: h("tr", { "data-testid": "sign-row" },
        h("td", {}, pick),
        h("td", {}, p.name, h("br"), h("code", {}, p.asset_id)),
        h("td", {}, `${Math.round(p.distance_m)} m`),
        h("td", {}, t("roads.signs.size", { lines: p.lines, width: p.width_chars })),
        h("td", {}, text),
        h("td", {}, p.showing ?? "—")) };
    });
    const send = h("button", { type: "button", class: "v-primary", "data-testid": "signs-send", disabled: !act }, t("roads.signs.send"));
    send.addEventListener("click", () => {
      const chosen = rows.filter((r) => r.pick.checked).map((r) => ({ asset_id: r.p.asset_id, text: r.text.value.toUpperCase() }));
      if (!chosen.length) return;
      send.disabled = true;
      void attempt(app, async () => {
        const sent = await app.api.post<SignsSent>(`/roads/situations/${situation.id}/signs/display`, { signs: chosen });
        app.toast(t("roads.signs.sent", { n: sent.commands.length }));
        announceChange();
        refresh();
      }).finally(() => { send.disabled = !act; });
    });
    box.append(
      h("p", { class: "v-muted" }, t("roads.signs.confirm")),
      h("table", { class: "v-table v-compact" },
        h("thead", {}, h("tr", {}, ...["", "roads.signs.sign", "roads.signs.distance", "roads.signs.sizeCol", "roads.signs.text", "roads.signs.showing"].map((k) => h("th", {}, k ? t(k) : "")))),
        h("tbody", {}, ...rows.map((r) => r.row))),
      h("div", { class: "v-dialog-buttons" }, send));
  } else if (!signs.to_clear.length) {
    box.append(h("p", { class: "v-muted", "data-testid": "signs-none" }, t("roads.signs.none")));
  }
  if (signs.to_clear.length) {
    const clear = h("button", { type: "button", class: "v-primary", "data-testid": "signs-clear", disabled: !act }, t("roads.signs.clear", { n: signs.to_clear.length }));
    clear.addEventListener("click", () => {
      clear.disabled = true;
      void attempt(app, async () => {
        const sent = await app.api.post<SignsSent>(`/roads/situations/${situation.id}/signs/clear`, {});
        app.toast(t("roads.signs.cleared", { n: sent.commands.length }));
        refresh();
      });
    });
    box.append(h("p", {}, t("roads.signs.toClear", { signs: signs.to_clear.join(", ") })), clear);
  }
  return box;
}
