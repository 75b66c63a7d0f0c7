// A group command's progress bar: counts per state from GET /command-batches/{id}, read again
// when the stream says one of its commands moved (at most once a second) until all are final.
import type { App, StreamEvent } from "../app";
import { fill, h } from "../dom";
import type { Schema } from "../schemas";

export type Batch = Schema<"BatchOut">;

const FINAL = ["succeeded", "failed", "rejected", "expired", "cancelled"];
const BATCH_OVER = new Set(["done", "rejected", "expired", "cancelled"]);
const READ_EVERY_MS = 1000;
// Without news from the stream the batch is still read now and then (approval may come).
const QUIET_READ_MS = 3000;
const ORDER = ["awaiting_approval", "created", "queued", "sent", "accepted", ...FINAL];

export class BatchProgress {
  readonly element: HTMLElement;
  private readonly bar = h("progress", { max: 1, value: 0 });
  private readonly text = h("p", { class: "batch-counts", "data-testid": "batch-counts" });
  private readonly note = h("p", { class: "awaiting-approval", "data-testid": "batch-awaiting", hidden: true });
  private lastRead = 0;
  private timer: number | undefined;
  private finished = false;

  constructor(
    private readonly app: App,
    private batch: Batch,
  ) {
    this.element = h("div", { class: "batch-progress", "data-testid": "batch-progress", "data-batch-id": batch.id, role: "status" },
      h("label", {}, app.t("batch.progress", { name: batch.name, total: batch.total }), this.bar),
      this.note,
      this.text,
    );
    this.render();
    this.schedule(QUIET_READ_MS);
  }

  get done(): boolean {
    return this.finished;
  }

  apply(events: StreamEvent[]): void {
    if (this.finished) return;
    if (events.some((e) => (e.kind === "command" && e.batch_id === this.batch.id) || e.kind === "resync")) {
      this.schedule(Math.max(0, this.lastRead + READ_EVERY_MS - performance.now()));
    }
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.finished = true;
  }

  private schedule(ms: number): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.read(), ms);
  }

  private async read(): Promise<void> {
    this.lastRead = performance.now();
    try {
      this.batch = await this.app.api.get<Batch>(`/command-batches/${encodeURIComponent(this.batch.id)}`);
      this.render();
    } catch {
      // Read again later: the stream or the network may be back.
    }
    if (!this.finished) this.schedule(QUIET_READ_MS);
  }

  private render(): void {
    const b = this.batch;
    const done = FINAL.reduce((sum, state) => sum + (b.counts[state] ?? 0), 0);
    this.finished = done >= b.total || BATCH_OVER.has(b.state);
    if (this.finished) window.clearTimeout(this.timer);
    this.bar.max = Math.max(b.total, 1);
    this.bar.value = done;
    this.element.dataset.done = String(done);
    this.element.dataset.total = String(b.total);
    this.element.dataset.state = b.state;
    this.element.classList.toggle("finished", this.finished);
    const t = this.app.t;
    this.note.hidden = b.state !== "awaiting_approval";
    this.note.textContent = t("batch.awaiting", { until: this.app.formatTime(b.approval_expires_at) });
    const parts = ORDER.filter((state) => b.counts[state]).map((state) => `${t(`command.state.${state}`)} ${b.counts[state]}`);
    fill(this.text,
      `${done} / ${b.total} · ${t(`batch.state.${b.state}`)}`,
      parts.length ? ` — ${parts.join(", ")}` : null,
    );
  }
}
