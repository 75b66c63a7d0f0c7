// Helpers shared by the views: selects, and API errors turned into text.
import { ApiError, type App } from "../app";
import { h, type Attrs } from "../dom";

export { append, h, throttle } from "../dom";
export type { Attrs } from "../dom";

/** A select whose first option means "any"; options are [value, label] pairs. */
export function selectOf(
  attrs: Attrs,
  anyLabel: string | null,
  options: [string, string][],
): HTMLSelectElement {
  const first = anyLabel === null ? null : h("option", { value: "" }, anyLabel);
  return h("select", attrs, first, ...options.map(([v, label]) => h("option", { value: v }, label)));
}

/** What to tell the user about a failed call: the server's detail when it gave one. */
export function errorText(app: App, error: unknown): string {
  if (error instanceof ApiError) {
    const fields = (error.problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
    const main = error.problem.detail ?? error.problem.title ?? app.t("views.error", { status: error.status });
    return fields.length ? `${main} (${fields.join("; ")})` : main;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Runs an action and reports its failure as an error toast; resolves to whether it worked. */
export async function attempt(app: App, action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (error) {
    app.toast(errorText(app, error), "error");
    return false;
  }
}

/** A control with its label, as the views' forms lay them out. */
export function labelled(id: string, text: string, control: HTMLElement): HTMLElement {
  return h("div", { class: "v-field" }, h("label", { for: id }, text), control);
}
