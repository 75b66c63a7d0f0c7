// The operations log ("main courante") as a side panel any desk opens from the top bar:
// the latest entries of the user's communes, live, and a form to write one or to amend
// one. Entries are never edited: an amendment follows its entry.
import type { App, StreamEvent } from "../app";
import { h, fill, throttle } from "../dom";
import { attempt, labelled, selectOf } from "../views/dom";
import type { Schema } from "../schemas";

type Entry = Schema<"LogEntryOut">;
type Page = Schema<"LogEntryPage">;

const DESKS = ["security", "police", "video", "traffic", "lighting", "roads", "citizen_line", "snow"];
const CATEGORIES = ["incident", "information", "intervention", "patrol", "call"];
const SHOWN = 30;
// The desk one writes from is remembered on this browser: a person sits at one desk.
const DESK_KEY = "beffroi.log.desk";
// A burst of entries (a crisis) is read again once, not once per entry.
const REFRESH_MS = 400;

export class LogPanel {
  readonly element: HTMLElement;
  readonly toggle: HTMLButtonElement;
  private readonly list = h("ol", { class: "log-entries", "data-testid": "log-entries" });
  private readonly status = h("p", { class: "v-muted", role: "status", "data-testid": "log-status" });
  private readonly refresh = throttle(() => void this.load(), REFRESH_MS);
  private loaded = false;

  constructor(private readonly app: App) {
    const t = app.t;
    this.toggle = h("button", { type: "button", class: "log-toggle", "data-testid": "log-toggle", "aria-expanded": "false", "aria-controls": "log-panel" }, t("log.toggle"));
    this.toggle.addEventListener("click", () => this.show(this.toggle.getAttribute("aria-expanded") !== "true"));
    const close = h("button", { type: "button", class: "panel-close", "aria-label": t("log.close"), "data-testid": "log-close" }, "×");
    close.addEventListener("click", () => this.show(false));
    this.element = h("aside", { class: "log-panel", id: "log-panel", "data-testid": "log-panel", "aria-labelledby": "log-panel-title", hidden: true },
      h("div", { class: "panel-header" }, h("h2", { id: "log-panel-title" }, t("log.title")), close),
      h("div", { class: "panel-content" }, app.can("opslog:write") ? this.form() : null, this.status, this.list),
    );
  }

  /** Live events: a new entry or amendment in the user's scope is read again. */
  apply(events: StreamEvent[]): void {
    if (this.toggle.getAttribute("aria-expanded") === "true" && events.some((e) => e.kind === "opslog_record" || e.kind === "resync")) this.refresh.call();
  }

  private show(open: boolean): void {
    this.element.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    if (open) void this.load();
  }

  private form(): HTMLElement {
    const t = this.app.t;
    const communes = this.app.catalogue.allCommunes().filter((c) => this.app.me.user.communes == null || this.app.me.user.communes.includes(c.code));
    const desk = selectOf({ id: "log-desk", "data-testid": "log-desk", required: true }, null, DESKS.map((d) => [d, t(`log.desk.${d}`)]));
    desk.value = localStorage.getItem(DESK_KEY) ?? DESKS[0];
    const category = selectOf({ id: "log-category", "data-testid": "log-category", required: true }, null, CATEGORIES.map((c) => [c, t(`log.category.${c}`)]));
    const commune = selectOf({ id: "log-commune", "data-testid": "log-commune", required: true }, null, communes.map((c) => [c.code, c.name]));
    const text = h("textarea", { id: "log-text", "data-testid": "log-text", rows: 3, maxlength: 4000, required: true });
    const form = h("form", { class: "log-form", "data-testid": "log-form" },
      labelled("log-desk", t("log.desk"), desk),
      labelled("log-category", t("log.category"), category),
      labelled("log-commune", t("log.commune"), commune),
      labelled("log-text", t("log.text"), text),
      h("button", { type: "submit", class: "v-primary", "data-testid": "log-submit" }, t("log.write")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      localStorage.setItem(DESK_KEY, desk.value);
      const body = { desk: desk.value, category: category.value, commune: commune.value, text: text.value.trim() };
      if (await attempt(this.app, () => this.app.api.post<Entry>("/opslog/entries", body))) {
        text.value = "";
        await this.load();
      }
    });
    return form;
  }

  private async load(): Promise<void> {
    try {
      const page = await this.app.api.get<Page>("/opslog/entries", { limit: SHOWN });
      fill(this.list, page.items.map((e) => this.entry(e)));
      this.status.textContent = page.items.length ? "" : this.app.t("log.none");
      this.loaded = true;
    } catch (error) {
      if (!this.loaded) this.status.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  private entry(e: Entry): HTMLElement {
    const t = this.app.t;
    const amendments = e.amendments.map((a) =>
      h("li", { class: "log-amendment", "data-testid": "log-amendment" },
        h("span", { class: "log-meta" }, `${this.app.formatTime(a.recorded_at)} · ${a.author}`), " ", a.text));
    const amend = this.app.can("opslog:write")
      ? h("button", { type: "button", class: "log-amend", "data-testid": "log-amend" }, t("log.amend"))
      : null;
    const item = h("li", { class: `log-entry log-${e.category}`, "data-testid": "log-entry", "data-entry": e.id },
      h("div", { class: "log-meta" },
        `${this.app.formatTime(e.occurred_at)} · ${t(`log.desk.${e.desk}`)} · ${t(`log.category.${e.category}`)} · ${this.app.catalogue.communeName(e.commune)} · ${e.author}`),
      h("p", { class: "log-text" }, e.text),
      amendments.length ? h("ol", { class: "log-amendments" }, amendments) : null,
      amend);
    amend?.addEventListener("click", () => amend.replaceWith(this.amendForm(e.id)));
    return item;
  }

  private amendForm(id: number): HTMLElement {
    const t = this.app.t;
    const text = h("textarea", { "data-testid": "log-amend-text", rows: 2, maxlength: 4000, required: true, "aria-label": t("log.amend") });
    const form = h("form", { class: "log-amend-form" }, text, h("button", { type: "submit", "data-testid": "log-amend-submit" }, t("log.amend.save")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { text: text.value.trim() };
      if (await attempt(this.app, () => this.app.api.post<Entry>(`/opslog/entries/${id}/amendments`, body))) await this.load();
    });
    return form;
  }
}
