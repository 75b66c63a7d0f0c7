// Small DOM helpers shared by the views: building elements and turning API errors into text.
import { ApiError, type App } from "../app";

type AttrValue = string | number | boolean | null | undefined;
type Child = Node | string | null | undefined | false;
export type Attrs = Record<string, AttrValue | ((event: Event) => void)>;

/** Builds an element: "on…" attributes become listeners, false/null/undefined are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else if (value !== false && value !== null && value !== undefined && name !== "value") {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  // A select only takes its value once its options exist.
  if ("value" in attrs && attrs.value !== undefined && attrs.value !== null && "value" in el) {
    (el as HTMLInputElement).value = String(attrs.value);
  }
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

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

/** Calls fn at most once per interval, the last call winning (for bursts of live events). */
export function throttle(fn: () => void, intervalMs: number): { call(): void; cancel(): void } {
  let timer: number | undefined;
  let last = 0;
  return {
    call() {
      if (timer !== undefined) return;
      const wait = Math.max(0, last + intervalMs - Date.now());
      timer = window.setTimeout(() => {
        timer = undefined;
        last = Date.now();
        fn();
      }, wait);
    },
    cancel() {
      window.clearTimeout(timer);
      timer = undefined;
    },
  };
}
