// The live stream: one WebSocket, reopened with growing waits when it drops, and a banner
// that says so while it is down.
import type { StreamEvent } from "./app";

type Listener = (events: StreamEvent[]) => void;
export type LinkState = "connecting" | "open" | "reconnecting" | "refused";

interface Frame {
  kind: string;
  events?: StreamEvent[];
}

const FIRST_WAIT_MS = 500;
const LONGEST_WAIT_MS = 15_000;
// Without even a ping for this long the connection is dead though the socket says open.
const SILENCE_MS = 50_000;
// The server closes with these when the session has ended or the user may not read assets.
const SIGNED_OUT = 4401;
const FORBIDDEN = 4403;

export class Stream {
  private socket: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private watched: string[] = [];
  private wait = FIRST_WAIT_MS;
  private retry: number | undefined;
  private watchdog: number | undefined;
  private stopped = false;
  private everOpened = false;

  constructor(
    private readonly banner: HTMLElement,
    private readonly text: (state: LinkState) => string,
  ) {
    this.show("connecting");
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retry);
    window.clearTimeout(this.watchdog);
    this.socket?.close(1000);
    this.socket = null;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ask for the telemetry of these assets (the server sends none otherwise). */
  watch(ids: string[]): void {
    this.watched = ids;
    this.send({ kind: "watch", assets: ids });
  }

  private send(message: unknown): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private open(): void {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream`);
    this.socket = socket;
    socket.onopen = () => {
      this.wait = FIRST_WAIT_MS;
      this.show("open");
      if (this.watched.length) this.send({ kind: "watch", assets: this.watched });
      // What changed while the connection was down is lost: everyone reloads.
      if (this.everOpened) this.deliver([{ kind: "resync" }]);
      this.everOpened = true;
      this.heard();
    };
    socket.onmessage = (message: MessageEvent<string>) => {
      this.heard();
      let frame: Frame;
      try {
        frame = JSON.parse(message.data) as Frame;
      } catch {
        return;
      }
      if (frame.kind === "events" && frame.events?.length) this.deliver(frame.events);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      window.clearTimeout(this.watchdog);
      if (this.stopped) return;
      if (event.code === SIGNED_OUT) {
        window.dispatchEvent(new CustomEvent("beffroi:signed-out"));
        return;
      }
      if (event.code === FORBIDDEN) {
        this.show("refused");
        return;
      }
      this.show("reconnecting");
      this.retry = window.setTimeout(() => this.open(), this.wait * (0.75 + Math.random() / 2));
      this.wait = Math.min(this.wait * 2, LONGEST_WAIT_MS);
    };
  }

  private heard(): void {
    window.clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => this.socket?.close(), SILENCE_MS);
  }

  private deliver(events: StreamEvent[]): void {
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (error) {
        console.error("stream listener failed", error);
      }
    }
  }

  private show(state: LinkState): void {
    this.banner.dataset.state = state === "open" ? "open" : "closed";
    this.banner.hidden = state === "open";
    this.banner.textContent = this.text(state);
  }
}
