// An asset's connection problems: the logins the brokers and HTTP ingest refused it, and
// the messages of its topics the gateways rejected, read when the panel opens and on
// "Refresh" (they are rare and nothing announces them live). Only for who may read ingest.
import type { App } from "../app";
import { fill, h } from "../dom";
import { numberFormatter } from "../format";
import type { Schema } from "../schemas";

/** Refused logins of one username, for one reason, over one path (GET /ingest/login-failures). */
type LoginFailure = Schema<"LoginFailureOut">;

/** A rejected message kept for inspection (GET /ingest/rejections). */
type Rejected = Schema<"RejectedOut">;

const HOURS = 24 * 7;
const LOGINS = 20;
const REJECTED = 10;

/** Bytes of the payload sample the API kept (the whole payload may be longer). */
function sampleBytes(r: Rejected): number {
  if (r.payload_encoding === "utf-8") return new TextEncoder().encode(r.payload).length;
  try {
    return atob(r.payload).length;
  } catch {
    return r.payload_size;
  }
}

export class ConnectionProblems {
  readonly element: HTMLElement;
  private readonly logins = h("ul", { class: "problem-list", "data-testid": "login-failures" });
  private readonly rejected = h("ul", { class: "problem-list", "data-testid": "rejected-messages" });
  private readonly loginsNote = h("span", { class: "problem-note" });
  private readonly rejectedNote = h("span", { class: "problem-note" });
  private readonly refresh: HTMLButtonElement;
  private readonly number: (value: number) => string;
  private loads = 0;

  constructor(
    private readonly app: App,
    private readonly assetId: string,
  ) {
    const t = app.t;
    this.number = numberFormatter(app.lang);
    this.refresh = h("button", { type: "button", class: "problems-refresh", "data-testid": "problems-refresh", "aria-label": t("problems.refresh.aria") },
      t("problems.refresh"));
    this.refresh.addEventListener("click", () => void this.load());
    this.element = h("section", { class: "connection-problems", "aria-labelledby": "panel-h-problems", "data-testid": "connection-problems" },
      h("div", { class: "section-head" }, h("h3", { id: "panel-h-problems" }, t("problems.title")), this.refresh),
      h("h4", {}, t("problems.logins"), " ", this.loginsNote),
      this.logins,
      h("h4", {}, t("problems.rejections"), " ", this.rejectedNote),
      this.rejected,
    );
  }

  /** Read both lists again; a failure shows in the list it concerns. */
  async load(): Promise<void> {
    const asked = ++this.loads;
    const params = { asset_id: this.assetId, hours: HOURS };
    this.refresh.disabled = true;
    this.element.setAttribute("aria-busy", "true");
    const [logins, rejected] = await Promise.allSettled([
      this.app.api.get<Schema<"LoginFailuresOut">>("/ingest/login-failures", { ...params, limit: LOGINS }),
      this.app.api.get<Schema<"RejectionsOut">>("/ingest/rejections", { ...params, limit: REJECTED }),
    ]);
    // A slower, older answer must not replace a newer one.
    if (asked !== this.loads) return;
    this.refresh.disabled = false;
    this.element.removeAttribute("aria-busy");
    this.element.dataset.loaded = String(asked);
    if (logins.status === "fulfilled") this.showLogins(logins.value.items);
    else this.failed(this.logins, this.loginsNote, logins.reason);
    if (rejected.status === "fulfilled") this.showRejected(rejected.value.recent);
    else this.failed(this.rejected, this.rejectedNote, rejected.reason);
  }

  private failed(list: HTMLElement, note: HTMLElement, error: unknown): void {
    note.textContent = "";
    fill(list, h("li", { class: "form-error" }, error instanceof Error ? error.message : String(error)));
  }

  /** A reason's words, or its code where this console does not know it yet. */
  private label(prefix: string, code: string): string {
    const key = `${prefix}.${code}`;
    const text = this.app.t(key);
    return text === key ? code : text;
  }

  private latest(note: HTMLElement, shown: number, limit: number): void {
    note.textContent = shown >= limit ? `(${this.app.t("problems.latest", { n: limit })})` : "";
  }

  private showLogins(items: LoginFailure[]): void {
    const t = this.app.t;
    this.latest(this.loginsNote, items.length, LOGINS);
    fill(this.logins, items.length ? items.map((f) => {
      const when = f.first_at === f.last_at
        ? t("problems.at", { at: this.app.formatTime(f.last_at) })
        : t("problems.between", { first: this.app.formatTime(f.first_at), last: this.app.formatTime(f.last_at) });
      const where = [
        f.client_id !== null ? t("problems.client_id", { client_id: f.client_id }) : null,
        f.peer ? t("problems.peer", { peer: f.peer }) : null,
      ].filter((part): part is string => part !== null);
      return h("li", { class: "problem-row", "data-testid": "login-failure", "data-reason": f.reason, "data-source": f.source, "data-count": f.count },
        h("div", { class: "problem-line" },
          h("strong", { "data-testid": "login-failure-reason", title: f.reason }, this.label("login.reason", f.reason)),
          h("span", { class: "source-tag", "data-testid": "login-failure-source" }, f.source.toUpperCase()),
          h("span", { class: "problem-count", "data-testid": "login-failure-count" }, f.count === 1 ? t("problems.once") : t("problems.times", { n: this.number(f.count) })),
        ),
        h("div", { class: "problem-meta", "data-testid": "login-failure-times" }, when),
        where.length ? h("div", { class: "problem-meta", "data-testid": "login-failure-where" }, where.join(" · ")) : null,
      );
    }) : h("li", { class: "empty", "data-testid": "login-failures-none" }, t("problems.logins.none", { days: HOURS / 24 })));
  }

  private showRejected(items: Rejected[]): void {
    const t = this.app.t;
    this.latest(this.rejectedNote, items.length, REJECTED);
    fill(this.rejected, items.length ? items.map((r) => {
      const base64 = r.payload_encoding === "base64";
      return h("li", { class: "problem-row", "data-testid": "rejected-message", "data-reason": r.reason, "data-encoding": r.payload_encoding, "data-size": r.payload_size },
        h("div", { class: "problem-line" },
          h("strong", { "data-testid": "rejected-reason", title: r.reason }, this.label("reject.reason", r.reason)),
          h("span", { class: "problem-time" }, this.app.formatTime(r.received_at)),
        ),
        r.detail ? h("div", { class: "problem-detail", "data-testid": "rejected-detail" }, r.detail) : null,
        // The device's bytes, as text: never markup.
        h("pre", { class: "payload", "data-testid": "rejected-payload", title: r.topic }, r.payload),
        h("div", { class: "problem-meta" },
          h("span", { "data-testid": "rejected-size" }, t("problems.bytes", { n: this.number(r.payload_size) })),
          sampleBytes(r) < r.payload_size ? ` · ${t("problems.cut")}` : null,
          base64 ? " · " : null,
          base64 ? h("span", { class: "encoding-tag", "data-testid": "payload-base64", title: t("problems.base64.title") }, t("problems.base64")) : null,
        ),
      );
    }) : h("li", { class: "empty", "data-testid": "rejected-messages-none" }, t("problems.rejections.none", { days: HOURS / 24 })));
  }
}
