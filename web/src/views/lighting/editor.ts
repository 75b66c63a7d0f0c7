// The program editor: name, scope and steps, a 24 h preview redrawn as the steps change
// (the server places them on the day asked, at the city's or a commune's position), and a
// save naming the version read, so that a change made meanwhile is not overwritten.
import { ApiError, type App } from "../../app";
import { errorText, h, labelled, selectOf } from "../dom";
import { canProgram, clearErrors, clock, fieldProblems, placeErrors, todayLightingDay, type Preview, type Program } from "./common";
import { previewCurve } from "./curve";
import { draftOf, newStep, StepsTable, stepBody } from "./steps";

const PREVIEW_DELAY_MS = 300;

export class ProgramEditor {
  readonly element: HTMLElement;
  private readonly steps;
  private readonly table: StepsTable;
  private readonly name: HTMLInputElement;
  private readonly description: HTMLTextAreaElement;
  private readonly commune: HTMLSelectElement;
  private readonly day: HTMLInputElement;
  private readonly at: HTMLSelectElement;
  private readonly chart = h("div", { class: "l-chart", "aria-live": "polite" });
  private readonly sun = h("p", { class: "v-muted", "data-testid": "preview-sun" });
  private readonly formError = h("p", { class: "v-error", role: "alert", "data-testid": "program-error", hidden: true });
  private timer: number | undefined;
  private previewSeq = 0;

  constructor(
    private readonly app: App,
    private program: Program | null,
    private readonly saved: (program: Program) => void,
    private readonly deleted: () => void,
  ) {
    const t = app.t;
    const editable = canProgram(app);
    this.steps = program ? program.steps.map(draftOf) : [newStep()];
    if (!program) this.steps.splice(0, 1, { ...newStep(), anchor: "sunset", level_pct: 100 }, newStep(), { ...newStep(), anchor: "sunrise", level_pct: 0 });
    this.table = new StepsTable(app, this.steps, editable, () => this.schedulePreview());
    const slot = (field: string) => h("span", { class: "field-error", role: "alert", hidden: true, "data-field": field });
    this.name = h("input", { id: "program-name", "data-testid": "program-name", required: true, maxlength: 200, disabled: !editable, value: program?.name ?? "" });
    this.description = h("textarea", { id: "program-description", "data-testid": "program-description", rows: 2, maxlength: 2000, disabled: !editable });
    this.description.value = program?.description ?? "";
    const communes = app.catalogue.allCommunes().filter((c) => app.me.user.communes === null || app.me.user.communes?.includes(c.code));
    // Metropolis-wide programs are for metropolis-wide people; the scope stays once made.
    this.commune = selectOf({ id: "program-commune", "data-testid": "program-commune", disabled: !editable || program !== null, value: program?.commune ?? "" },
      app.me.user.communes === null ? t("lighting.metropolis") : null, communes.map((c) => [c.code, c.name]));
    this.day = h("input", { id: "preview-day", type: "date", "data-testid": "preview-day", value: todayLightingDay(app) });
    // Only communes in scope: the server does not place a preview in another's.
    this.at = selectOf({ id: "preview-at", "data-testid": "preview-at" }, t("lighting.preview.centre"), communes.map((c) => [c.code, c.name]));
    for (const control of [this.day, this.at]) control.addEventListener("change", () => this.schedulePreview());
    const add = editable ? h("button", { type: "button", "data-testid": "step-add", disabled: false }, t("lighting.step.add")) : null;
    add?.addEventListener("click", () => {
      this.steps.push(newStep());
      this.table.render();
      this.schedulePreview();
    });
    const save = editable ? h("button", { type: "submit", class: "v-primary", "data-testid": "program-save" }, t("lighting.save")) : null;
    const remove = editable && program ? h("button", { type: "button", "data-testid": "program-delete" }, t("lighting.delete")) : null;
    remove?.addEventListener("click", () => void this.remove());
    const form = h("form", { class: "l-editor", "data-testid": "program-editor", novalidate: true },
      h("h2", {}, program ? program.name : t("lighting.program.new"),
        program ? h("span", { class: "v-muted", "data-testid": "program-version" }, ` · ${t("lighting.version", { n: program.version })}`) : null),
      h("div", { class: "l-fields" },
        h("div", { class: "v-field" }, h("label", { for: "program-name" }, t("lighting.field.name")), this.name, slot("name")),
        h("div", { class: "v-field" }, h("label", { for: "program-commune" }, t("lighting.field.commune")), this.commune, slot("commune")),
        h("div", { class: "v-field l-wide" }, h("label", { for: "program-description" }, t("lighting.field.description")), this.description, slot("description")),
      ),
      h("div", { class: "v-scroll l-steps-box" }, this.table.element),
      h("span", { class: "field-error", role: "alert", hidden: true, "data-field": "steps" }),
      editable ? null : h("p", { class: "v-note", "data-testid": "program-readonly" }, t("lighting.readonly")),
      h("section", { class: "l-preview", "aria-labelledby": "preview-title" },
        h("div", { class: "v-filters" },
          h("h3", { id: "preview-title" }, t("lighting.preview.title")),
          labelled("preview-day", t("lighting.preview.day"), this.day),
          labelled("preview-at", t("lighting.preview.at"), this.at)),
        this.chart, this.sun),
      this.formError,
      h("div", { class: "v-actions" }, add, save, remove),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.save();
    });
    this.element = form;
    this.schedulePreview(0);
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.previewSeq++;
  }

  private schedulePreview(delay = PREVIEW_DELAY_MS): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.preview(), delay);
  }

  /** Draw the steps as they stand; the server's objections go beside their fields. */
  private async preview(): Promise<void> {
    const seq = ++this.previewSeq;
    const body = { steps: this.steps.map(stepBody), day: this.day.value || undefined, commune: this.at.value || undefined };
    try {
      const preview = await this.app.api.post<Preview>("/lighting/preview", body);
      if (seq !== this.previewSeq) return;
      clearErrors(this.element, "preview");
      this.chart.replaceChildren(previewCurve(this.app, preview));
      this.sun.textContent = this.app.t("lighting.preview.sun", { sunset: clock(this.app, preview.sunset), sunrise: clock(this.app, preview.sunrise) });
      placeErrors(this.element, preview.errors, "preview");
    } catch (error) {
      if (seq !== this.previewSeq) return;
      clearErrors(this.element, "preview");
      const left = placeErrors(this.element, fieldProblems(error), "preview");
      this.chart.replaceChildren(h("p", { class: "v-muted", "data-testid": "preview-unavailable" },
        left.length || !fieldProblems(error).length ? errorText(this.app, error) : this.app.t("lighting.preview.fix")));
    }
  }

  private async save(): Promise<void> {
    const t = this.app.t;
    clearErrors(this.element);
    this.formError.hidden = true;
    const steps = this.steps.map(stepBody);
    const common = { name: this.name.value.trim(), description: this.description.value, steps };
    try {
      const program = this.program
        ? await this.app.api.patch<Program>(`/lighting/programs/${this.program.id}`, { ...common, version: this.program.version })
        : await this.app.api.post<Program>("/lighting/programs", { ...common, commune: this.commune.value || null });
      this.program = program;
      this.app.toast(t("lighting.program.saved", { name: program.name, n: program.version }));
      this.saved(program);
    } catch (error) {
      this.fail(error);
    }
  }

  private async remove(): Promise<void> {
    if (!this.program || !window.confirm(this.app.t("lighting.program.confirmDelete", { name: this.program.name }))) return;
    try {
      await this.app.api.del(`/lighting/programs/${this.program.id}`);
      this.app.toast(this.app.t("lighting.program.deleted", { name: this.program.name }));
      this.deleted();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    const t = this.app.t;
    if (error instanceof ApiError && error.status === 409 && typeof error.problem.current_version === "number") {
      const reload = h("button", { type: "button", "data-testid": "program-reload" }, t("lighting.reload"));
      reload.addEventListener("click", async () => {
        // The program as it is now: the editor opens again on it (unsaved edits are lost).
        if (this.program) this.saved(await this.app.api.get<Program>(`/lighting/programs/${this.program.id}`));
      });
      this.formError.replaceChildren(t("lighting.conflict", { n: error.problem.current_version }), " ", reload);
    } else {
      const problems = fieldProblems(error);
      const left = placeErrors(this.element, problems);
      this.formError.textContent = left.length ? left.map((e) => `${e.field}: ${e.message}`).join("; ")
        : problems.length ? t("form.fix") : errorText(this.app, error);
    }
    this.formError.hidden = false;
  }
}
