// An asset's commands: the buttons of its type, the form each opens, and the history whose
// rows follow every command's state live.
import type { App, StreamEvent } from "../app";
import type { Catalogue, CommandSpec } from "../catalogue";
import { fill, h } from "../dom";
import { paramsText } from "../format";
import { paramForm, reportFailure } from "./form";
import type { Schema } from "../schemas";

export type CommandRecord = Schema<"beffroi__commands__schemas__CommandOut">;

const HISTORY = 20;


export class CommandSection {
  readonly element: HTMLElement;
  private readonly rows = h("ol", { class: "command-history", "data-testid": "command-history" });
  private readonly formSlot = h("div", { class: "command-form-slot" });
  private records = new Map<string, CommandRecord>();
  private refetch: number | undefined;

  constructor(
    private readonly app: App,
    private readonly catalogue: Catalogue,
    private readonly assetId: string,
    typeKey: string,
  ) {
    const commands = app.can("command:send") ? catalogue.commandsFor(typeKey, app.me.commands) : [];
    const buttons = commands.map((spec) => {
      const button = h("button", { type: "button", class: "command-button", "data-testid": `command-${spec.name}`, "aria-expanded": "false" },
        app.t(`command.${spec.name}`) === `command.${spec.name}` ? spec.name : app.t(`command.${spec.name}`));
      button.addEventListener("click", () => this.openForm(spec, button));
      return button;
    });
    this.element = h("div", { class: "commands" },
      buttons.length ? h("div", { class: "command-buttons", role: "group", "aria-label": app.t("panel.commands") }, buttons) : null,
      this.formSlot,
      app.can("command:read") ? h("h4", {}, app.t("panel.history")) : null,
      app.can("command:read") ? this.rows : null,
    );
  }

  async load(): Promise<void> {
    if (!this.app.can("command:read")) return;
    const page = await this.app.api.get<Schema<"CommandPage">>(`/assets/${encodeURIComponent(this.assetId)}/commands`, { limit: HISTORY });
    this.records = new Map(page.items.map((c) => [c.id, c]));
    this.render();
  }

  apply(events: StreamEvent[]): void {
    let changed = false;
    let unknown = false;
    for (const event of events) {
      if (event.kind !== "command" || event.asset_id !== this.assetId) continue;
      const record = this.records.get(event.command_id);
      if (!record) {
        unknown = true;
        continue;
      }
      record.state = event.state;
      record.verification = event.verification;
      changed = true;
    }
    if (changed) this.render();
    // A command sent from elsewhere: its parameters are not in the event, so read the list.
    if (unknown) this.refetch ??= window.setTimeout(() => {
      this.refetch = undefined;
      void this.load().catch(() => undefined);
    }, 500);
  }

  destroy(): void {
    window.clearTimeout(this.refetch);
  }

  private render(): void {
    const records = [...this.records.values()]
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
      .slice(0, HISTORY);
    fill(this.rows, records.length ? records.map((c) => this.row(c)) : h("li", { class: "empty" }, this.app.t("panel.history.none")));
  }

  private row(c: CommandRecord): HTMLElement {
    const t = this.app.t;
    const waiting = c.state === "awaiting_approval";
    // Whether the telemetry confirmed it matters once the device said it was done.
    const shown = c.verification !== "not_applicable" && (c.verification !== "pending" || c.state === "succeeded");
    const verification = shown
      ? h("span", { class: `verification v-${c.verification}`, "data-testid": "command-verification" }, t(`verification.${c.verification}`))
      : null;
    return h("li", { class: `command-row state-${c.state}`, "data-testid": "command-row", "data-state": c.state, "data-command-id": c.id, "data-verification": c.verification },
      h("div", { class: "command-line" },
        h("strong", {}, c.name),
        h("span", { class: "command-params" }, paramsText(c.params)),
        h("span", { class: `state-badge state-${c.state}`, "data-testid": "command-state" }, t(`command.state.${c.state}`)),
      ),
      h("div", { class: "command-meta" },
        `${this.app.formatTime(c.created_at)} · ${c.created_by}`,
        c.batch_id ? ` · ${t("panel.in_batch")}` : null,
        verification ? " · " : null,
        verification,
      ),
      waiting
        ? h("p", { class: "awaiting-approval", "data-testid": "awaiting-approval" },
            t("command.awaiting", { until: this.app.formatTime(c.approval_expires_at) }))
        : null,
      c.reason ? h("div", { class: "command-reason-text" }, `${t("panel.reason")}: ${c.reason}`) : null,
    );
  }

  private openForm(spec: CommandSpec, button: HTMLButtonElement): void {
    const open = button.getAttribute("aria-expanded") === "true";
    for (const other of this.element.querySelectorAll(".command-button")) other.setAttribute("aria-expanded", "false");
    if (open) {
      this.formSlot.replaceChildren();
      button.focus();
      return;
    }
    button.setAttribute("aria-expanded", "true");
    this.formSlot.replaceChildren(this.form(spec, () => {
      button.setAttribute("aria-expanded", "false");
      this.formSlot.replaceChildren();
      button.focus();
    }));
    this.formSlot.querySelector<HTMLElement>("input, select, textarea, button[type=submit]")?.focus();
  }

  private form(spec: CommandSpec, close: () => void): HTMLElement {
    const t = this.app.t;
    const reasonId = `command-reason-${spec.name}`;
    const reason = h("textarea", { id: reasonId, "data-testid": "command-reason", rows: 2, maxlength: 2000 });
    const reasonLabel = h("label", { for: reasonId });
    const warning = h("p", { class: "critical-note", "data-testid": "command-critical", hidden: true }, t("command.critical"));
    const error = h("p", { class: "form-error", role: "alert", "data-testid": "command-error", hidden: true });
    const submit = h("button", { type: "submit", class: "primary", "data-testid": "command-submit" }, t("command.send"));
    const cancel = h("button", { type: "button", "data-testid": "command-cancel" }, t("action.cancel"));
    const update = () => {
      const critical = this.catalogue.isCritical(spec, fields.values());
      const needed = critical || spec.reason_required;
      reason.required = needed;
      reasonLabel.textContent = needed ? `${t("panel.reason")} *` : `${t("panel.reason")} (${t("form.optional")})`;
      warning.hidden = !critical;
    };
    const fields = paramForm(this.app, spec.params, update);
    const form = h("form", { class: "command-form", "data-testid": "command-form", "data-command": spec.name, novalidate: false },
      h("h4", {}, t("command.form", { name: spec.name })),
      spec.description ? h("p", { class: "command-description" }, spec.description) : null,
      fields.element,
      h("div", { class: "field" }, reasonLabel, reason),
      warning,
      error,
      h("div", { class: "form-actions" }, submit, cancel),
    );
    update();
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        close();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      fields.clearErrors();
      error.hidden = true;
      if (!form.reportValidity()) return;
      submit.disabled = true;
      try {
        const sent = await this.app.api.post<CommandRecord>("/commands", {
          asset_id: this.assetId,
          name: spec.name,
          params: fields.values(),
          reason: reason.value.trim() || undefined,
        });
        this.records.set(sent.id, sent);
        this.render();
        this.app.toast(t(sent.state === "awaiting_approval" ? "command.sent.awaiting" : "command.sent", { name: spec.name }));
        close();
      } catch (failure) {
        submit.disabled = false;
        reportFailure(this.app, fields, error, failure);
      }
    });
    return form;
  }
}
