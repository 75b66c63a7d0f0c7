// Group actions: select assets by drawing a polygon or by the map's current filter, send one
// command to those of one type, and watch the batch's progress.
import type { App, StreamEvent } from "../app";
import type { Catalogue, CommandSpec } from "../catalogue";
import { fill, h } from "../dom";
import type { MapView } from "../map/view";
import { paramForm, reportFailure } from "../panel/form";
import { assignForm, cabinetTypes, type AssignTarget } from "./assign";
import { overrideForm, type OverrideTarget } from "./override";
import { inside, PolygonDrawer, type Ring } from "./polygon";
import { BatchProgress, type Batch } from "./progress";

type Selection =
  | { how: "polygon"; ring: Ring; counts: Map<string, number> }
  | { how: "filter"; commune: string; state: string; ids: Map<string, string[]>; counts: Map<string, number> };

export class GroupActions {
  private readonly drawer: PolygonDrawer;
  private readonly box = h("section", { class: "group-box", "data-testid": "group-box", hidden: true, "aria-labelledby": "group-box-title" });
  private readonly drawButton: HTMLButtonElement;
  private readonly finishButton: HTMLButtonElement;
  private readonly drawingHint = h("p", { class: "drawing-hint", role: "status", hidden: true });
  private progress: BatchProgress | null = null;

  constructor(
    private readonly app: App,
    private readonly catalogue: Catalogue,
    private readonly view: MapView,
  ) {
    const t = app.t;
    this.drawer = new PolygonDrawer(view.map, (ring) => this.drawn(ring));
    this.drawButton = h("button", { type: "button", "data-testid": "draw-polygon", "aria-pressed": "false" }, t("group.draw"));
    // Both buttons stay in place, drawing or not, so that the toolbar never moves the map.
    this.finishButton = h("button", { type: "button", "data-testid": "finish-polygon", disabled: true }, t("group.finish"));
    const filterButton = h("button", { type: "button", "data-testid": "select-filter" }, t("group.filter"));
    this.drawButton.addEventListener("click", () => (this.drawer.drawing ? this.stopDrawing() : this.startDrawing()));
    this.finishButton.addEventListener("click", () => this.drawer.finish());
    filterButton.addEventListener("click", () => this.selectFilter());
    this.drawer.cornerAdded = (count) => {
      this.finishButton.disabled = count < 3;
      this.drawingHint.textContent = t("group.drawing", { count });
    };
    view.tools.append(h("div", { class: "group-tools", role: "group", "aria-label": t("group.actions") },
      this.drawButton, this.finishButton, filterButton));
    view.area.append(this.drawingHint);
    view.overlay.append(this.box);
  }

  apply(events: StreamEvent[]): void {
    this.progress?.apply(events);
  }

  private startDrawing(): void {
    this.reset();
    this.view.picking = true;
    // The map's own controls and boxes step aside: any point of it may take a corner.
    this.view.element.classList.add("drawing");
    this.box.hidden = true;
    this.drawer.start();
    this.drawButton.setAttribute("aria-pressed", "true");
    this.finishButton.disabled = true;
    this.drawingHint.hidden = false;
    this.drawingHint.textContent = this.app.t("group.drawing", { count: 0 });
  }

  private stopDrawing(): void {
    this.drawer.cancel();
    this.drawingEnded();
    this.box.hidden = true;
  }

  private drawingEnded(): void {
    this.view.picking = false;
    this.view.element.classList.remove("drawing");
    this.drawingHint.hidden = true;
    this.drawButton.setAttribute("aria-pressed", "false");
    this.finishButton.disabled = true;
  }

  private drawn(ring: Ring | null): void {
    this.drawingEnded();
    if (!ring) {
      this.box.hidden = true;
      return;
    }
    const store = this.view.store;
    const counts = new Map<string, number>();
    for (let i = 0; i < store.size; i++) {
      if (inside(store.lon[i], store.lat[i], ring)) counts.set(store.typeOf(i), (counts.get(store.typeOf(i)) ?? 0) + 1);
    }
    this.showSelection({ how: "polygon", ring, counts });
  }

  private selectFilter(): void {
    this.reset();
    const store = this.view.store;
    const counts = new Map<string, number>();
    const ids = new Map<string, string[]>();
    for (const i of this.view.includedIndices()) {
      const type = store.typeOf(i);
      counts.set(type, (counts.get(type) ?? 0) + 1);
      if (!this.view.filter.state) continue;
      const ofType = ids.get(type) ?? [];
      ofType.push(store.ids[i]);
      ids.set(type, ofType);
    }
    this.showSelection({ how: "filter", commune: this.view.filter.commune, state: this.view.filter.state, ids, counts });
  }

  private reset(): void {
    this.progress?.stop();
    this.progress = null;
    if (this.drawer.drawing) this.drawer.cancel();
    this.drawer.clear();
  }

  private close(): void {
    this.reset();
    this.drawingEnded();
    this.box.hidden = true;
    this.drawButton.focus();
  }

  private showSelection(selection: Selection): void {
    const t = this.app.t;
    const total = [...selection.counts.values()].reduce((a, b) => a + b, 0);
    const choices: { type: string; spec: CommandSpec; count: number }[] = [];
    for (const [type, count] of [...selection.counts.entries()].sort((a, b) => b[1] - a[1])) {
      for (const spec of this.catalogue.commandsFor(type, this.app.me.commands)) choices.push({ type, spec, count });
    }
    const clear = h("button", { type: "button", "data-testid": "selection-clear" }, t("group.clear"));
    clear.addEventListener("click", () => this.close());
    const summary = h("div", { class: "selection" },
      h("p", {}, h("strong", { "data-testid": "selection-count" }, String(total)), " ",
        t(selection.how === "polygon" ? "group.selected.polygon" : "group.selected.filter")),
      h("ul", { class: "selection-types" },
        [...selection.counts.entries()].map(([type, count]) => h("li", {}, `${this.catalogue.typeLabel(type)} : ${count}`))),
    );
    const formSlot = h("div", { class: "batch-form-slot" });
    const chooser = h("select", { id: "batch-command", "data-testid": "batch-command" },
      h("option", { value: "" }, t("group.choose")),
      choices.map((c, k) => h("option", { value: k }, `${this.catalogue.typeLabel(c.type)} (${c.count}) — ${c.spec.name}`)),
    );
    chooser.addEventListener("change", () => {
      const choice = choices[Number(chooser.value)];
      fill(formSlot, chooser.value === "" || !choice ? null : this.batchForm(selection, choice.type, choice.spec));
    });
    fill(this.box,
      h("h2", { id: "group-box-title" }, t("group.title")),
      summary,
      choices.length
        ? h("div", { class: "field" }, h("label", { for: "batch-command" }, t("group.command")), chooser)
        : h("p", { class: "hint" }, t("group.no_command")),
      formSlot,
      this.app.can("lighting:program") ? assignForm(this.app, this.assignTarget(selection)) : null,
      this.app.can("lighting:program") ? overrideForm(this.app, this.overrideTarget(selection)) : null,
      h("div", { class: "form-actions" }, clear),
    );
    this.box.hidden = false;
    (choices.length ? chooser : clear).focus();
  }

  /** What a lighting calendar would be assigned to: see group/assign.ts. */
  private assignTarget(selection: Selection): AssignTarget {
    if (selection.how === "polygon") return { kind: "polygon", ring: selection.ring };
    if (selection.state) {
      const cabinets = cabinetTypes(this.catalogue);
      return { kind: "cabinets", ids: [...selection.ids.entries()].filter(([type]) => cabinets.has(type)).flatMap(([, ids]) => ids) };
    }
    return selection.commune ? { kind: "commune", commune: selection.commune } : { kind: "default" };
  }

  /** What a lighting override would apply to: see group/override.ts. */
  private overrideTarget(selection: Selection): OverrideTarget {
    if (selection.how === "polygon") return { kind: "polygon", ring: selection.ring };
    if (selection.state) {
      // Lights and cabinets picked by their state: the lighting ones, by id.
      const lighting = new Set(this.catalogue.allTypes().filter((t) => t.domain === "lighting").map((t) => t.key));
      return { kind: "assets", ids: [...selection.ids.entries()].filter(([type]) => lighting.has(type)).flatMap(([, ids]) => ids) };
    }
    return selection.commune ? { kind: "commune", commune: selection.commune } : { kind: "metropolis" };
  }

  private target(selection: Selection, type: string): Record<string, unknown> {
    if (selection.how === "polygon") return { kind: "polygon", polygon: { type: "Polygon", coordinates: [selection.ring] } };
    // The state a map shows is not a filter of the server's: the ids it lets through are sent.
    if (selection.state) return { kind: "ids", asset_ids: selection.ids.get(type) ?? [] };
    return { kind: "filter", communes: selection.commune ? [selection.commune] : [] };
  }

  private batchForm(selection: Selection, type: string, spec: CommandSpec): HTMLElement {
    const t = this.app.t;
    const reason = h("textarea", { id: "batch-reason", "data-testid": "batch-reason", rows: 2, required: true, maxlength: 2000 });
    const warning = h("p", { class: "critical-note", hidden: true }, t("command.critical"));
    const error = h("p", { class: "form-error", role: "alert", "data-testid": "batch-error", hidden: true });
    const submit = h("button", { type: "submit", class: "primary", "data-testid": "batch-submit" },
      t("group.send", { count: selection.counts.get(type) ?? 0 }));
    const fields = paramForm(this.app, spec.params, () => {
      warning.hidden = !this.catalogue.isCritical(spec, fields.values());
    });
    const form = h("form", { class: "batch-form", "data-testid": "batch-form" },
      fields.element,
      h("div", { class: "field" }, h("label", { for: "batch-reason" }, `${t("panel.reason")} *`), reason),
      warning,
      error,
      h("div", { class: "form-actions" }, submit),
    );
    warning.hidden = !this.catalogue.isCritical(spec, fields.values());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      fields.clearErrors();
      error.hidden = true;
      if (!form.reportValidity()) return;
      submit.disabled = true;
      try {
        const batch = await this.app.api.post<Batch>("/command-batches", {
          type, name: spec.name, params: fields.values(), target: this.target(selection, type), reason: reason.value.trim(),
        });
        this.watch(batch);
      } catch (failure) {
        submit.disabled = false;
        reportFailure(this.app, fields, error, failure);
      }
    });
    return form;
  }

  private watch(batch: Batch): void {
    this.progress = new BatchProgress(this.app, batch);
    const close = h("button", { type: "button", "data-testid": "selection-clear" }, this.app.t("action.close"));
    close.addEventListener("click", () => this.close());
    fill(this.box, h("h2", { id: "group-box-title" }, this.app.t("group.title")), this.progress.element, h("div", { class: "form-actions" }, close));
    this.app.toast(this.app.t(batch.state === "awaiting_approval" ? "batch.sent.awaiting" : "batch.sent", { total: batch.total }));
  }
}
