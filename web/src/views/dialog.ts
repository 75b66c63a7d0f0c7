// A modal form for the few actions that need more than a click (a reason, a duration, a
// note). Built on <dialog>, so focus is trapped and Escape cancels without extra code.
import type { App } from "../app";
import { h } from "./dom";

export interface Field {
  name: string;
  label: string;
  kind?: "text" | "textarea" | "number" | "select" | "datetime-local";
  required?: boolean;
  minLength?: number;
  min?: number;
  max?: number;
  value?: string;
  options?: [string, string][];
}

/** Shows the form; resolves to the values entered, or null when cancelled. */
export function askForm(
  app: App,
  title: string,
  fields: Field[],
  submitLabel: string,
): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const inputs = fields.map((f) => {
      const id = `dialog-${f.name}`;
      const common = {
        id,
        name: f.name,
        "data-testid": id,
        required: f.required ?? false,
        value: f.value,
      };
      let input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
      if (f.kind === "textarea") {
        input = h("textarea", { ...common, rows: 3, minlength: f.minLength });
      } else if (f.kind === "select") {
        input = h("select", common, ...(f.options ?? []).map(([v, l]) => h("option", { value: v }, l)));
      } else {
        input = h("input", {
          ...common,
          type: f.kind ?? "text",
          minlength: f.minLength,
          min: f.min,
          max: f.max,
        });
      }
      return h("div", { class: "v-field" }, h("label", { for: id }, f.label), input);
    });
    const dialog = h("dialog", { class: "v-dialog", "data-testid": "dialog" });
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, title),
      ...inputs,
      h(
        "div",
        { class: "v-dialog-buttons" },
        h("button", { type: "button", "data-testid": "dialog-cancel", onclick: () => dialog.close() }, app.t("views.cancel")),
        h("button", { type: "submit", class: "v-primary", "data-testid": "dialog-submit" }, submitLabel),
      ),
    );
    let result: Record<string, string> | null = null;
    form.addEventListener("submit", () => {
      result = Object.fromEntries(
        [...new FormData(form).entries()].map(([k, v]) => [k, String(v)]),
      );
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    dialog.appendChild(form);
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}
