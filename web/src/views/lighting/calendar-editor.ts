// The calendar editor: name, scope, default program and the rules in the order they are
// tried; a save names the version read, as the program editor's does.
import { ApiError, type App } from "../../app";
import { errorText, h, selectOf } from "../dom";
import { clearErrors, fieldProblems, placeErrors, type Calendar, type Program } from "./common";
import { draftRule, ruleBody, RulesTable } from "./rules";

export class CalendarEditor {
  readonly element: HTMLFormElement;
  private readonly rules;
  private readonly table: RulesTable;
  private readonly formError = h("p", { class: "v-error", role: "alert", "data-testid": "calendar-error", hidden: true });

  /** changed: a rule or field was edited (the month view may be stale until saved). */
  constructor(
    private readonly app: App,
    private readonly calendar: Calendar | null,
    programs: Program[],
    private readonly saved: (calendar: Calendar) => void,
    private readonly deleted: () => void,
  ) {
    const t = app.t;
    const first = calendar?.default_program_id ?? programs[0]?.id ?? 1;
    this.rules = (calendar?.rules ?? []).map((r) => draftRule(r, first));
    this.table = new RulesTable(app, this.rules, programs, () => undefined);
    const slot = (field: string) => h("span", { class: "field-error", role: "alert", hidden: true, "data-field": field });
    const name = h("input", { id: "calendar-name", "data-testid": "calendar-name", required: true, maxlength: 200, value: calendar?.name ?? "" });
    const description = h("textarea", { id: "calendar-description", "data-testid": "calendar-description", rows: 2, maxlength: 2000 });
    description.value = calendar?.description ?? "";
    const mine = app.me.user.communes;
    const commune = selectOf({ id: "calendar-commune", "data-testid": "calendar-commune", disabled: calendar !== null, value: calendar?.commune ?? "" },
      mine === null ? t("lighting.metropolis") : null,
      app.catalogue.allCommunes().filter((c) => mine === null || mine?.includes(c.code)).map((c) => [c.code, c.name]));
    const fallback = selectOf({ id: "calendar-default", "data-testid": "calendar-default", value: first }, null, programs.map((p) => [String(p.id), p.name]));
    const add = h("button", { type: "button", "data-testid": "rule-add" }, t("lighting.rule.add"));
    add.addEventListener("click", () => {
      this.rules.push(draftRule(null, Number(fallback.value)));
      this.table.render();
    });
    const remove = calendar ? h("button", { type: "button", "data-testid": "calendar-delete" }, t("lighting.delete")) : null;
    remove?.addEventListener("click", () => void this.remove());
    this.element = h("form", { class: "l-editor", "data-testid": "calendar-editor", novalidate: true },
      h("div", { class: "l-fields" },
        h("div", { class: "v-field" }, h("label", { for: "calendar-name" }, t("lighting.field.name")), name, slot("name")),
        h("div", { class: "v-field" }, h("label", { for: "calendar-commune" }, t("lighting.field.commune")), commune, slot("commune")),
        h("div", { class: "v-field" }, h("label", { for: "calendar-default" }, t("lighting.rule.default")), fallback, slot("default_program_id")),
        h("div", { class: "v-field l-wide" }, h("label", { for: "calendar-description" }, t("lighting.field.description")), description, slot("description"))),
      h("div", { class: "v-scroll" }, this.table.element),
      h("span", { class: "field-error", role: "alert", hidden: true, "data-field": "rules" }),
      this.formError,
      h("div", { class: "v-actions" }, add, h("button", { type: "submit", class: "v-primary", "data-testid": "calendar-save" }, t("lighting.save")), remove));
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {
        name: name.value.trim(), description: description.value, default_program_id: Number(fallback.value), rules: this.rules.map(ruleBody),
      };
      void this.save(calendar
        ? () => app.api.patch<Calendar>(`/lighting/calendars/${calendar.id}`, { ...body, version: calendar.version })
        : () => app.api.post<Calendar>("/lighting/calendars", { ...body, commune: commune.value || null }));
    });
  }

  private async save(call: () => Promise<Calendar>): Promise<void> {
    clearErrors(this.element);
    this.formError.hidden = true;
    try {
      const calendar = await call();
      this.app.toast(this.app.t("lighting.calendar.saved", { name: calendar.name, n: calendar.version }));
      this.saved(calendar);
    } catch (error) {
      this.fail(error);
    }
  }

  private async remove(): Promise<void> {
    const calendar = this.calendar;
    if (!calendar || !window.confirm(this.app.t("lighting.calendar.confirmDelete", { name: calendar.name }))) return;
    try {
      await this.app.api.del(`/lighting/calendars/${calendar.id}`);
      this.deleted();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    const t = this.app.t;
    if (error instanceof ApiError && error.status === 409 && typeof error.problem.current_version === "number" && this.calendar) {
      const id = this.calendar.id;
      const reload = h("button", { type: "button", "data-testid": "calendar-reload" }, t("lighting.reload"));
      reload.addEventListener("click", async () => this.saved(await this.app.api.get<Calendar>(`/lighting/calendars/${id}`)));
      this.formError.replaceChildren(t("lighting.calendar.conflict", { n: error.problem.current_version }), " ", reload);
    } else {
      const problems = fieldProblems(error);
      const left = placeErrors(this.element, problems);
      this.formError.textContent = left.length ? left.map((e) => `${e.field}: ${e.message}`).join("; ")
        : problems.length ? t("form.fix") : errorText(this.app, error);
    }
    this.formError.hidden = false;
  }
}
