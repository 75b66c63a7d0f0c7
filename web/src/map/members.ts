// The list of the assets at one spot of the map: a cluster that zooming in cannot split, or
// symbols stacked on one another. Each row opens the asset panel; the list stays open so the
// operator can go through them one by one. Arrow keys move between rows, Escape closes it.
import type { App } from "../app";
import { fill, h } from "../dom";
import { LOOKS, type AssetStore } from "./store";
import { lookColour, shapeOf, symbolIcon } from "./symbols";

// Rows listed at most; beyond, the list says how many it leaves out.
const SHOWN = 100;
// Pixels kept between the list and the edges of the map.
const EDGE = 8;

interface Row {
  asset: number;
  button: HTMLButtonElement;
}

export class MemberList {
  readonly element: HTMLElement;
  private rows: Row[] = [];
  /** The point it was opened at, in pixels of the map area. */
  private anchor: [number, number] = [0, 0];

  constructor(
    private readonly app: App,
    private readonly store: AssetStore,
    /** Where the focus goes back when the list is closed from the keyboard. */
    private readonly returnFocus: HTMLElement,
  ) {
    this.element = h("section", {
      class: "member-list", role: "dialog", "aria-labelledby": "member-list-title", "data-testid": "cluster-list", hidden: true,
    });
    this.element.addEventListener("keydown", (event) => this.keydown(event));
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  /** List these assets beside a point of the map area (pixels) and focus the first. */
  open(assets: ArrayLike<number>, x: number, y: number): void {
    const sorted = worstFirst(this.store, Array.from(assets));
    const shown = sorted.slice(0, SHOWN);
    this.rows = shown.map((asset) => ({ asset, button: this.rowButton(asset) }));
    const close = h("button", { type: "button", class: "member-close", "aria-label": this.app.t("action.close"), "data-testid": "cluster-list-close" }, "×");
    close.addEventListener("click", () => this.close(true));
    fill(this.element,
      h("header", {},
        h("h2", { id: "member-list-title" }, this.app.t("map.members.title", { n: sorted.length })),
        close,
      ),
      h("ul", {}, this.rows.map((row) => h("li", {}, row.button))),
      sorted.length > shown.length ? h("p", { class: "member-more" }, this.app.t("map.members.more", { n: sorted.length - shown.length })) : null,
    );
    this.element.hidden = false;
    this.anchor = [x, y];
    this.keepInside();
    this.rows[0]?.button.focus();
  }

  close(giveFocusBack = false): void {
    if (this.element.hidden) return;
    const hadFocus = this.element.contains(document.activeElement);
    this.element.hidden = true;
    this.element.replaceChildren();
    this.rows = [];
    if (giveFocusBack || hadFocus) this.returnFocus.focus();
  }

  /** Show the listed assets' new states (live events). */
  refresh(): void {
    for (const row of this.rows) {
      if (row.button.dataset.look !== String(this.store.looks[row.asset])) this.paint(row.button, row.asset);
    }
  }

  private rowButton(asset: number): HTMLButtonElement {
    const button = h("button", { type: "button", class: "member", "data-testid": "cluster-member", "data-asset-id": this.store.ids[asset] });
    this.paint(button, asset);
    button.addEventListener("click", () => this.choose(button, asset));
    return button;
  }

  /** A row's content: the map's symbol, id, name and state. */
  private paint(button: HTMLButtonElement, asset: number): void {
    const store = this.store;
    const look = store.looks[asset];
    button.dataset.look = String(look);
    button.replaceChildren(
      symbolIcon(shapeOf(store.typeOf(asset)), lookColour(look)),
      h("span", { class: "result-id" }, store.ids[asset]),
      h("span", { class: "result-name" }, store.names[asset]),
      h("span", { class: "result-state" }, this.app.t(`look.${LOOKS[look] ?? "unknown"}`)),
    );
  }

  private choose(button: HTMLButtonElement, asset: number): void {
    for (const row of this.rows) row.button.removeAttribute("aria-current");
    button.setAttribute("aria-current", "true");
    this.app.openAsset(this.store.ids[asset]);
  }

  /** Beside its point, turned back inside the map area (which the asset panel narrows). */
  keepInside(): void {
    if (this.element.hidden) return;
    const [x, y] = this.anchor;
    const area = this.element.offsetParent as HTMLElement | null;
    const { offsetWidth: width, offsetHeight: height } = this.element;
    const maxLeft = (area?.clientWidth ?? Infinity) - width - EDGE;
    const maxTop = (area?.clientHeight ?? Infinity) - height - EDGE;
    const left = x + EDGE <= maxLeft ? x + EDGE : x - EDGE - width;
    this.element.style.left = `${Math.max(EDGE, Math.min(left, maxLeft))}px`;
    this.element.style.top = `${Math.max(EDGE, Math.min(y - height / 2, maxTop))}px`;
  }

  private keydown(event: KeyboardEvent): void {
    const buttons = this.rows.map((row) => row.button);
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    let next: number | null = null;
    if (event.key === "Escape") {
      this.close(true);
    } else if (event.key === "ArrowDown") next = at < 0 ? 0 : (at + 1) % buttons.length;
    else if (event.key === "ArrowUp") next = at <= 0 ? buttons.length - 1 : at - 1;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = buttons.length - 1;
    else return;
    event.preventDefault();
    // Escape must not also close the asset panel or anything else listening further up.
    event.stopPropagation();
    if (next !== null) buttons[next]?.focus();
  }
}

/** Alarms first (the worst at the top), then by id: what an operator looks for first. */
function worstFirst(store: AssetStore, assets: number[]): number[] {
  return assets.sort((a, b) => store.looks[b] - store.looks[a] || store.ids[a].localeCompare(store.ids[b]));
}
