// A few words to build plain DOM without a framework.

type AttrValue = string | number | boolean | null | undefined;
/** Attributes; a function under an "on…" name becomes an event listener. */
export type Attrs = Record<string, AttrValue | ((event: Event) => void)>;
export type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`class`, `data-*`, `aria-*`, listeners…) and children;
 * false, null and undefined attributes and children are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === null || value === undefined || value === false || name === "value") continue;
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  // A select only takes its value once its options exist, hence after the children.
  const value = attrs.value;
  if (value !== null && value !== undefined && value !== false && typeof value !== "function" && "value" in element) {
    (element as HTMLInputElement).value = String(value);
  }
  return element;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
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

/** Replace everything inside an element. */
export function fill(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}
