// The approval queue: critical commands and group commands waiting for a second person
// (four-eyes rule). The server refuses a requester approving their own; we show why.
import type { Mount, StreamEvent } from "../app";
import { paramsText } from "../format";
import { everySecond, formatDuration } from "./countdown";
import { askForm } from "./dialog";
import { attempt, errorText, h, throttle } from "./dom";
import type { Schema } from "../schemas";
import "./views.css";

type Command = Schema<"beffroi__commands__schemas__CommandOut">;
type Batch = Schema<"BatchOut">;
type PlanRun = Schema<"RunOut">;

/** One line of the queue, whichever kind it is. */
interface Request {
  kind: "command" | "batch" | "plan";
  id: string;
  what: string;
  target: string;
  reason: string | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
}

export const mount: Mount = (root, app) => {
  const list = h("div", { class: "v-approvals", "data-testid": "approval-queue", "aria-live": "polite" });
  const status = h("p", { class: "v-muted", role: "status" });
  root.replaceChildren(
    h("section", { class: "v-view" }, h("header", { class: "v-head" }, h("h1", {}, app.t("approvals.title"))), status, list),
  );
  if (!app.can("command:approve")) {
    status.textContent = app.t("approvals.forbidden");
    return () => undefined;
  }

  let loadSeq = 0;

  async function load(): Promise<void> {
    const seq = ++loadSeq;
    try {
      const [commands, batches, runs] = await Promise.all([
        app.api.get<Schema<"CommandPage">>("/commands", { state: "awaiting_approval", limit: 500 }),
        // The batch list has no state filter: the newest ones, the waiting ones picked here.
        app.api.get<Batch[]>("/command-batches", { limit: 500 }),
        // Crisis plans started and waiting for their one approval (docs/plans.md).
        app.can("plan:read") ? app.api.get<PlanRun[]>("/plans/runs", { state: "awaiting_approval" }) : Promise.resolve([]),
      ]);
      if (seq !== loadSeq) return;
      const requests = [
        ...runs.map(fromRun),
        ...batches.filter((b) => b.state === "awaiting_approval").map(fromBatch),
        // A batch's children are approved with their batch.
        ...commands.items.filter((c) => c.batch_id === null).map(fromCommand),
      ].sort((a, b) => (a.expiresAt ?? "").localeCompare(b.expiresAt ?? ""));
      render(requests);
    } catch (error) {
      if (seq === loadSeq) status.textContent = errorText(app, error);
    }
  }

  function fromCommand(c: Command): Request {
    return {
      kind: "command",
      id: c.id,
      what: `${c.name} ${inParentheses(paramsText(c.params))}`,
      target: `${c.asset_id} (${c.asset_type}, ${c.commune})`,
      reason: c.reason,
      createdAt: c.created_at,
      createdBy: c.created_by,
      expiresAt: c.approval_expires_at,
    };
  }

  function fromRun(r: PlanRun): Request {
    return {
      kind: "plan",
      id: String(r.id),
      what: `${r.plan_name} (${app.t("plans.level", { n: r.level })})`,
      target: r.steps.map((s) => s.title).join(" · "),
      reason: r.reason,
      createdAt: r.started_at,
      createdBy: r.started_by,
      expiresAt: null,
    };
  }

  function fromBatch(b: Batch): Request {
    return {
      kind: "batch",
      id: b.id,
      what: `${b.name} ${inParentheses(paramsText(b.params))}`,
      target: app.t("approvals.batchTarget", {
        n: b.total,
        type: b.type,
        kind: String(b.target.kind ?? ""),
        communes: b.communes.join(", "),
      }),
      reason: b.reason,
      createdAt: b.created_at,
      createdBy: b.created_by,
      expiresAt: b.approval_expires_at,
    };
  }

  function render(requests: Request[]): void {
    status.textContent = requests.length ? app.t("approvals.count", { n: requests.length }) : app.t("approvals.none");
    list.replaceChildren(...requests.map(item));
    tick();
  }

  function item(r: Request): HTMLElement {
    const own = r.createdBy === app.me.user.username;
    return h(
      "article",
      { class: "v-card v-approval", "data-testid": "approval-item", "data-kind": r.kind, "data-id": r.id },
      h("h2", {}, `${app.t(`approvals.kind.${r.kind}`)} — ${r.what}`),
      h(
        "dl",
        { class: "v-dl" },
        h("dt", {}, app.t("approvals.target")),
        h("dd", {}, r.target),
        h("dt", {}, app.t("approvals.requester")),
        h("dd", {}, `${r.createdBy}${own ? ` (${app.t("approvals.yours")})` : ""} · ${app.formatTime(r.createdAt)}`),
        h("dt", {}, app.t("approvals.reason")),
        h("dd", {}, r.reason ?? "—"),
        h("dt", {}, app.t("approvals.expires")),
        h("dd", { "data-testid": "approval-expiry", "data-expires": r.expiresAt ?? "" }),
      ),
      h(
        "div",
        { class: "v-actions" },
        h("button", { type: "button", class: "v-primary", "data-testid": "approve", onclick: () => void approve(r) }, app.t("approvals.approve")),
        h("button", { type: "button", "data-testid": "deny", onclick: () => void deny(r) }, app.t("approvals.deny")),
      ),
    );
  }

  function tick(): void {
    const now = Date.now();
    for (const el of list.querySelectorAll<HTMLElement>("[data-testid=approval-expiry]")) {
      const at = el.dataset.expires;
      if (!at) {
        el.textContent = "—";
        continue;
      }
      const left = Date.parse(at) - now;
      el.classList.toggle("v-overdue", left <= 0);
      el.textContent =
        left > 0
          ? app.t("approvals.expiresIn", { left: formatDuration(left, app.lang), time: app.formatTime(at) })
          : app.t("approvals.expired");
    }
  }

  const path = (r: Request) =>
    r.kind === "plan" ? `/plans/runs/${r.id}` : `/${r.kind === "batch" ? "command-batches" : "commands"}/${r.id}`;

  async function approve(r: Request): Promise<void> {
    if (await attempt(app, () => app.api.post(`${path(r)}/approve`, {}))) {
      app.toast(app.t("approvals.approved"));
      void load();
    }
  }

  async function deny(r: Request): Promise<void> {
    const form = await askForm(
      app,
      app.t("approvals.denyTitle"),
      [{ name: "reason", label: app.t("approvals.reason"), kind: "textarea", required: true }],
      app.t("approvals.deny"),
    );
    if (form && (await attempt(app, () => app.api.post(`${path(r)}/${r.kind === "plan" ? "refuse" : "deny"}`, { reason: form.reason })))) {
      app.toast(app.t("approvals.denied"));
      void load();
    }
  }

  const reload = throttle(() => void load(), 1000);
  const unsubscribe = app.onEvents((events: StreamEvent[]) => {
    // A command entering or leaving the queue changes it; progress of running ones does not.
    if (events.some((e) => e.kind === "resync" || e.kind === "plan_run" || (e.kind === "command" && ["awaiting_approval", "queued", "rejected", "expired", "cancelled"].includes(e.state)))) {
      reload.call();
    }
  });
  const stopTicking = everySecond(tick);
  void load();

  return () => {
    loadSeq++;
    unsubscribe();
    reload.cancel();
    stopTicking();
  };
};

function inParentheses(text: string): string {
  return text ? `(${text})` : "";
}
