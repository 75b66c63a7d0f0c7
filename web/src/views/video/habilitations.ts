// The managers' habilitations: those in scope, newest first; record one (an agent, the
// authority's order, the communes or cameras, the validity) and revoke one with a reason.
// A habilitation is never deleted: a revoked one stays listed.
import type { App } from "../../app";
import { askForm } from "../dialog";
import { attempt, errorText, h } from "../dom";
import type { Schema } from "../../schemas";

type Habilitation = Schema<"HabilitationOut">;

/** "a, b , c" as ["a", "b", "c"]. */
function list(text: string): string[] {
  return text.split(",").map((item) => item.trim()).filter(Boolean);
}

export function habilitationsTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const status = h("p", { class: "v-muted", role: "status" });
  const rows = h("tbody", { "data-testid": "habilitation-rows" });
  const record = h("button", { type: "button", class: "v-primary", "data-testid": "habilitation-record" }, t("habilitations.record"));
  root.replaceChildren(h("div", { class: "v-actions" }, record), status,
    h("table", { class: "v-table" },
      h("thead", {}, h("tr", {}, ["habilitations.user", "habilitations.authority", "habilitations.reference", "video.cameras", "habilitations.from", "habilitations.until", "habilitations.state", ""].map((k) => h("th", {}, k ? t(k) : "")))),
      rows));
  let alive = true;

  async function load(): Promise<void> {
    try {
      const habilitations = await app.api.get<Habilitation[]>("/video/habilitations");
      if (!alive) return;
      rows.replaceChildren(...habilitations.map(row));
      status.textContent = habilitations.length ? "" : t("habilitations.none");
    } catch (error) {
      if (alive) status.textContent = errorText(app, error);
    }
  }

  function row(hab: Habilitation): HTMLElement {
    const state = hab.revoked_at
      ? t("video.revoked", { at: app.formatTime(hab.revoked_at), by: hab.revoked_by ?? "", reason: hab.revoke_reason ?? "" })
      : t(hab.active ? "video.active" : "video.inactive");
    return h("tr", { "data-testid": "habilitation-row", "data-id": hab.id, "data-active": String(hab.active) },
      h("td", {}, hab.username),
      h("td", {}, hab.authority),
      h("td", {}, hab.reference),
      h("td", {}, [...hab.communes, ...hab.cameras].join(", ")),
      h("td", {}, app.formatTime(hab.valid_from)),
      h("td", {}, app.formatTime(hab.valid_until)),
      h("td", {}, state),
      h("td", {}, hab.revoked_at ? null : h("button", { type: "button", "data-testid": "habilitation-revoke", onclick: () => void revoke(hab) }, t("habilitations.revoke"))),
    );
  }

  async function revoke(hab: Habilitation): Promise<void> {
    const form = await askForm(app, t("habilitations.revokeTitle"),
      [{ name: "reason", label: t("habilitations.revokeReason"), kind: "textarea", required: true }], t("habilitations.revoke"));
    if (form && (await attempt(app, () => app.api.post(`/video/habilitations/${hab.id}/revoke`, { reason: form.reason })))) {
      app.toast(t("habilitations.revokedToast"));
      void load();
    }
  }

  record.addEventListener("click", async () => {
    const form = await askForm(app, t("habilitations.record"), [
      { name: "username", label: t("habilitations.user"), required: true },
      { name: "authority", label: t("habilitations.authority"), required: true },
      { name: "reference", label: t("habilitations.reference"), required: true },
      { name: "communes", label: t("habilitations.communes") },
      { name: "cameras", label: t("habilitations.camerasField") },
      { name: "valid_from", label: t("habilitations.from"), kind: "datetime-local", required: true },
      { name: "valid_until", label: t("habilitations.until"), kind: "datetime-local", required: true },
    ], t("habilitations.record"));
    if (!form) return;
    const body = {
      username: form.username,
      authority: form.authority,
      reference: form.reference,
      communes: list(form.communes ?? ""),
      cameras: list(form.cameras ?? ""),
      valid_from: new Date(form.valid_from ?? "").toISOString(),
      valid_until: new Date(form.valid_until ?? "").toISOString(),
    };
    if (await attempt(app, () => app.api.post("/video/habilitations", body))) {
      app.toast(t("habilitations.recorded"));
      void load();
    }
  });
  void load();
  return () => {
    alive = false;
  };
}
