// The register's search for auditors: filters by camera, agent, kind and period, newest
// first a page at a time; the same filters as CSV or PDF exports; the chain's verification.
import type { App } from "../../app";
import { attempt, errorText, h, labelled, selectOf } from "../dom";
import type { Schema } from "../../schemas";

type EntryPage = Schema<"EntryPage">;
type Entry = Schema<"EntryOut">;
type Check = Schema<"RegisterCheck">;

const KINDS = ["view.start", "view.end", "steering", "extraction", "transmission", "deletion", "hold.placed", "hold.lifted", "mask"];

/** A datetime-local field's value as an instant (the browser's zone), or undefined. */
function instant(value: string): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}

export function registerTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const camera = h("input", { id: "register-camera", "data-testid": "register-camera", maxlength: 64 });
  const agent = h("input", { id: "register-agent", "data-testid": "register-agent", maxlength: 200 });
  const kind = selectOf({ id: "register-kind", "data-testid": "register-kind" }, t("views.all"), KINDS.map((k) => [k, k]));
  const since = h("input", { id: "register-since", type: "datetime-local", "data-testid": "register-since" });
  const until = h("input", { id: "register-until", type: "datetime-local", "data-testid": "register-until" });
  const csv = h("a", { "data-testid": "register-csv", download: "" }, t("register.csv"));
  const pdf = h("a", { "data-testid": "register-pdf", download: "" }, t("register.pdf"));
  const verdict = h("p", { class: "vd-verify", "data-testid": "register-verdict", role: "status" });
  const verify = h("button", { type: "button", "data-testid": "register-verify" }, t("register.verify"));
  const status = h("p", { class: "v-muted", role: "status", "data-testid": "register-status" });
  const rows = h("tbody", { "data-testid": "register-rows" });
  const more = h("button", { type: "button", "data-testid": "register-more", hidden: true }, t("register.more"));
  const form = h("form", { class: "v-filters", "data-testid": "register-filters" },
    labelled("register-camera", t("register.camera"), camera),
    labelled("register-agent", t("register.agent"), agent),
    labelled("register-kind", t("register.kind"), kind),
    labelled("register-since", t("register.since"), since),
    labelled("register-until", t("register.until"), until),
    h("button", { type: "submit", class: "v-primary", "data-testid": "register-search" }, t("register.search")),
    csv, pdf, verify);
  root.replaceChildren(form, verdict, status,
    h("table", { class: "v-table" },
      h("thead", {}, h("tr", {}, ["register.seq", "register.ts", "register.kind", "register.camera", "register.agent", "register.reason", "register.outcome", "register.session", "register.details"].map((k) => h("th", {}, t(k))))),
      rows),
    more);
  let seq = 0;
  let shown = 0;
  let next: number | null = null;

  function filters(): Record<string, string | undefined> {
    return { camera_id: camera.value.trim(), agent: agent.value.trim(), kind: kind.value, since: instant(since.value), until: instant(until.value) };
  }

  function exportLink(format: string): string {
    const query = new URLSearchParams({ format });
    for (const [name, value] of Object.entries(filters())) if (value) query.set(name, value);
    return `/api/v1/video/register/export?${query.toString()}`;
  }

  async function search(before?: number): Promise<void> {
    const mine = ++seq;
    csv.href = exportLink("csv");
    pdf.href = exportLink("pdf");
    try {
      const page = await app.api.get<EntryPage>("/video/register", { ...filters(), before, limit: 100 });
      if (mine !== seq) return;
      if (before === undefined) {
        rows.replaceChildren();
        shown = 0;
      }
      rows.append(...page.items.map(row));
      shown += page.items.length;
      next = page.next_before;
      more.hidden = next === null;
      status.textContent = shown ? t("register.count", { n: shown }) : t("register.none");
    } catch (error) {
      if (mine === seq) status.textContent = errorText(app, error);
    }
  }

  function row(e: Entry): HTMLElement {
    return h("tr", { "data-testid": "register-row", "data-kind": e.kind, "data-outcome": e.outcome, "data-seq": e.seq },
      h("td", {}, e.seq),
      h("td", {}, app.formatTime(e.ts)),
      h("td", {}, e.kind),
      h("td", {}, e.camera_id ?? "—"),
      h("td", {}, e.agent),
      h("td", {}, e.reason ?? "—"),
      h("td", {}, e.outcome),
      h("td", {}, e.session_id ?? "—"),
      h("td", { class: "vd-details" }, Object.keys(e.details).length ? JSON.stringify(e.details) : ""),
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void search();
  });
  more.addEventListener("click", () => void (next !== null && search(next)));
  verify.addEventListener("click", () => void attempt(app, async () => {
    const check = await app.api.get<Check>("/video/register/verify");
    verdict.dataset.ok = String(check.ok);
    verdict.textContent = check.ok
      ? t("register.verifyOk", { n: check.checked })
      : t("register.verifyBad", { n: check.checked, problems: check.problems.join("; ") });
  }));
  void search();
  return () => {
    seq++;
  };
}
