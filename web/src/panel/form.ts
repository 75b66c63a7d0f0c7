// A form generated from a command's parameter schema: a number is an input with its bounds,
// an enum a select, a boolean a checkbox, a date-time a date-time input, text a text input.
import { ApiError, type App } from "../app";
import type { ParamSchema, PropertySchema } from "../catalogue";
import { h } from "../dom";

export interface ParamForm {
  element: HTMLElement;
  /** The parameters as typed values, leaving out optional fields left empty. */
  values(): Record<string, unknown>;
  /** Show the server's message beside a field ("params.level_pct" or "level_pct"). */
  showError(field: string, message: string): boolean;
  clearErrors(): void;
}

type Control = HTMLInputElement | HTMLSelectElement;

let forms = 0;

function control(name: string, spec: PropertySchema, required: boolean, id: string): Control {
  const testid = `param-${name}`;
  if (spec.enum) {
    const select = h("select", { id, name, "data-testid": testid, required },
      required ? null : h("option", { value: "" }, "—"),
      spec.enum.map((value) => h("option", { value: String(value) }, String(value))),
    );
    if (spec.default !== undefined) select.value = String(spec.default);
    return select;
  }
  if (spec.type === "boolean") {
    return h("input", { id, name, type: "checkbox", "data-testid": testid, checked: spec.default === true });
  }
  if (spec.type === "number" || spec.type === "integer") {
    return h("input", {
      id, name, type: "number", "data-testid": testid, required, inputmode: "decimal",
      min: spec.minimum, max: spec.maximum, step: spec.type === "integer" ? 1 : "any",
      value: typeof spec.default === "number" ? spec.default : undefined,
    });
  }
  if (spec.format === "date-time") {
    return h("input", { id, name, type: "datetime-local", "data-testid": testid, required });
  }
  return h("input", {
    id, name, type: "text", "data-testid": testid, required,
    minlength: spec.minLength, maxlength: spec.maxLength,
    value: typeof spec.default === "string" ? spec.default : undefined,
  });
}

function typed(spec: PropertySchema, input: Control): unknown {
  if (input instanceof HTMLInputElement && input.type === "checkbox") return input.checked;
  const raw = input.value;
  if (raw === "") return undefined;
  if (spec.type === "number" || spec.type === "integer") return Number(raw);
  if (spec.enum) return spec.enum.find((value) => String(value) === raw) ?? raw;
  // A date-time input gives local time without a zone: the browser's zone makes it exact.
  if (spec.format === "date-time") return new Date(raw).toISOString();
  return raw;
}

export function paramForm(app: App, schema: ParamSchema, onChange: () => void): ParamForm {
  const form = ++forms;
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, spec]) => {
    const id = `param-${form}-${name}`;
    const input = control(name, spec, required.has(name), id);
    input.addEventListener("input", onChange);
    input.addEventListener("change", onChange);
    const error = h("span", { class: "field-error", role: "alert", hidden: true, "data-testid": `param-error-${name}` });
    const hint = [spec.minimum, spec.maximum].some((v) => v !== undefined)
      ? h("span", { class: "field-hint" }, `${spec.minimum ?? "…"} – ${spec.maximum ?? "…"}`)
      : null;
    const label = h("label", { for: id }, app.t(`param.${name}`) === `param.${name}` ? name : app.t(`param.${name}`),
      required.has(name) ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null,
    );
    const wrapper = input instanceof HTMLInputElement && input.type === "checkbox"
      ? h("div", { class: "field checkbox" }, input, label, error)
      : h("div", { class: "field" }, label, input, hint, error);
    return { name, spec, input, error, wrapper };
  });
  return {
    element: h("div", { class: "param-fields" }, fields.map((f) => f.wrapper)),
    values() {
      const params: Record<string, unknown> = {};
      for (const field of fields) {
        const value = typed(field.spec, field.input);
        if (value !== undefined) params[field.name] = value;
      }
      return params;
    },
    showError(path, message) {
      const name = path.replace(/^(body\.)?params\./, "");
      const field = fields.find((f) => f.name === name);
      if (!field) return false;
      field.error.textContent = message;
      field.error.hidden = false;
      field.input.setAttribute("aria-invalid", "true");
      return true;
    },
    clearErrors() {
      for (const field of fields) {
        field.error.hidden = true;
        field.input.removeAttribute("aria-invalid");
      }
    },
  };
}

/** Show why a command was refused: field errors beside their fields, the rest (or the
 * failure itself) in the form's error line. */
export function reportFailure(app: App, fields: ParamForm, error: HTMLElement, failure: unknown): void {
  const problem = failure instanceof ApiError ? failure.problem : null;
  const unplaced = (problem?.errors ?? []).filter((e) => !fields.showError(e.field, e.message));
  error.textContent = unplaced.length
    ? unplaced.map((e) => `${e.field}: ${e.message}`).join("; ")
    : problem?.errors?.length
      ? app.t("form.fix")
      : failure instanceof Error
        ? failure.message
        : String(failure);
  error.hidden = false;
}
