// Moving between the portal's pages without reloading: its addresses live under /open/.
import type { Lang } from "../format";
import { h } from "../dom";
import type { Translate } from "./i18n";

export const BASE = "/open";

/** What every page is given: the words and the language. */
export interface Portal {
  lang: Lang;
  t: Translate;
}

let renderer: () => void = () => undefined;

/** The function drawing the page of the current address (the portal's own router). */
export function onNavigate(render: () => void): void {
  renderer = render;
}

/** Shows another page of the portal (`path` under /open). */
export function go(path: string): void {
  history.pushState(null, "", `${BASE}${path}`);
  renderer();
}

/** A link inside the portal: followed without reloading, unless opened in a new tab. */
export function link(to: string, text: string, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return h(
    "a",
    {
      href: `${BASE}${to}`,
      ...attrs,
      onclick: (event: Event) => {
        const mouse = event as MouseEvent;
        if (mouse.ctrlKey || mouse.metaKey || mouse.shiftKey || mouse.button !== 0) return;
        event.preventDefault();
        go(to);
      },
    },
    text,
  );
}
