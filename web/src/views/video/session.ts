// An agent's viewing: their habilitations, the cameras those in force cover, a session
// opened with a reason (the reason dialog), the wall of its cameras and their steering.
// The wall shows the simulated VMS's signed URLs as placeholders and asks the session
// again for fresh ones before they expire.
import type { App } from "../../app";
import { askForm } from "../dialog";
import { attempt, errorText, h } from "../dom";
import type { Schema } from "../../schemas";

type Habilitation = Schema<"HabilitationOut">;
type Session = Schema<"SessionOut">;
type Stream = Schema<"Stream">;
type Asset = Schema<"AssetOut">;

// Fresh URLs this long before the current ones expire; never more often than the floor.
const REFRESH_AHEAD_MS = 20_000;
const REFRESH_FLOOR_MS = 5_000;
// A relative PTZ move's step, in ONVIF's normalised units.
const STEP = 0.1;
// The assets API's largest JSON page.
const CAMERA_PAGE = 1000;

/** Whether a habilitation in force covers a camera: its communes, or its own list. */
export function covers(habilitations: Habilitation[], camera: Asset): boolean {
  return habilitations.some((hab) => hab.active && (hab.communes.includes(camera.commune) || hab.cameras.includes(camera.id)));
}

export function sessionTab(root: HTMLElement, app: App): () => void {
  const t = app.t;
  const status = h("p", { class: "v-muted", role: "status", "data-testid": "video-status" });
  const side = h("div", { class: "vd-side" });
  const main = h("div", { class: "vd-main", "data-testid": "video-session" });
  root.replaceChildren(status, h("div", { class: "vd-columns" }, side, main));
  let timer: number | undefined;
  let alive = true;

  async function load(): Promise<void> {
    try {
      const [habilitations, open] = await Promise.all([
        app.api.get<Habilitation[]>("/video/habilitations"),
        app.api.get<Session[]>("/video/sessions", { open: true }),
      ]);
      const cameras = habilitations.some((hab) => hab.active) ? await coveredCameras(habilitations) : [];
      if (!alive) return;
      status.textContent = "";
      side.replaceChildren(habilitationList(habilitations), cameraPicker(cameras));
      showSession(open[0] ?? null);
    } catch (error) {
      if (alive) status.textContent = errorText(app, error);
    }
  }

  async function coveredCameras(habilitations: Habilitation[]): Promise<Asset[]> {
    const cameras: Asset[] = [];
    let cursor: string | undefined;
    do {
      const page = await app.api.get<Schema<"AssetPage">>("/assets", { type: "camera", limit: CAMERA_PAGE, cursor });
      cameras.push(...page.items.filter((camera) => covers(habilitations, camera)));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return cameras;
  }

  function habilitationList(habilitations: Habilitation[]): HTMLElement {
    const items = habilitations.map((hab) =>
      h("li", { class: "v-card", "data-testid": "video-habilitation", "data-active": String(hab.active) },
        h("h3", {}, `${hab.authority} — ${hab.reference}`),
        h("p", {}, t("video.covers", { what: [...hab.communes, ...hab.cameras].join(", ") })),
        h("p", { class: "v-card-meta" }, `${t("video.validity", { from: app.formatTime(hab.valid_from), until: app.formatTime(hab.valid_until) })} · ${t(hab.active ? "video.active" : "video.inactive")}`),
        hab.revoked_at ? h("p", { class: "v-card-meta" }, t("video.revoked", { at: app.formatTime(hab.revoked_at), by: hab.revoked_by ?? "", reason: hab.revoke_reason ?? "" })) : null,
      ),
    );
    return h("section", {}, h("h2", {}, t("video.mine")),
      items.length ? h("ul", { class: "l-list" }, items) : h("p", { class: "v-muted" }, t("video.noHabilitation")));
  }

  function cameraPicker(cameras: Asset[]): HTMLElement {
    const boxes = cameras.map((camera) =>
      h("input", { type: "checkbox", value: camera.id, id: `video-cam-${camera.id}`, "data-testid": `video-camera-${camera.id}` }),
    );
    const start = h("button", { type: "button", class: "v-primary", "data-testid": "video-start", disabled: cameras.length === 0 }, t("video.start"));
    start.addEventListener("click", () => void openSession(boxes.filter((box) => box.checked).map((box) => box.value)));
    return h("section", {}, h("h2", {}, t("video.cameras")),
      cameras.length
        ? h("ul", { class: "vd-cameras" }, cameras.map((camera, i) => h("li", {}, boxes[i], " ", h("label", { for: `video-cam-${camera.id}` }, `${camera.name} (${camera.id})`))))
        : h("p", { class: "v-muted" }, t("video.noCamera")),
      start);
  }

  /** The reason dialog, then the session: its reason is the register's. */
  async function openSession(cameras: string[]): Promise<void> {
    if (!cameras.length) {
      app.toast(t("video.pickCamera"), "error");
      return;
    }
    let reasons: string[];
    try {
      reasons = await app.api.get<string[]>("/video/reasons");
    } catch (error) {
      app.toast(errorText(app, error), "error");
      return;
    }
    const form = await askForm(app, t("video.reasonTitle"), [
      { name: "reason", label: t("video.reason"), kind: "select", required: true, options: reasons.map((r) => [r, r]) },
      { name: "reason_text", label: t("video.reasonText"), kind: "textarea" },
    ], t("video.start"));
    if (!form) return;
    await attempt(app, async () => {
      const session = await app.api.post<Session>("/video/sessions", { cameras, reason: form.reason, reason_text: form.reason_text || null });
      app.toast(t("video.opened"));
      showSession(session);
    });
  }

  function showSession(session: Session | null): void {
    window.clearTimeout(timer);
    if (!alive) return;
    if (!session || !session.open) {
      main.replaceChildren();
      main.dataset.session = "";
      return;
    }
    main.dataset.session = String(session.id);
    const end = h("button", { type: "button", "data-testid": "video-end" }, t("video.end"));
    end.addEventListener("click", async () => {
      if (await attempt(app, () => app.api.post(`/video/sessions/${session.id}/end`))) {
        app.toast(t("video.ended"));
        showSession(null);
      }
    });
    main.replaceChildren(
      h("header", { class: "v-head" },
        h("h2", {}, t("video.session", { id: session.id, reason: session.reason })),
        h("span", { class: "v-muted" }, t("video.sessionUntil", { start: app.formatTime(session.started_at), end: app.formatTime(session.expires_at) })),
        end),
      h("div", { class: "vd-wall", "data-testid": "video-wall" }, (session.streams ?? []).map((stream) => tile(session, stream))),
    );
    scheduleRefresh(session);
  }

  /** Before the first URL expires, ask the session again (fresh URLs, or its end). */
  function scheduleRefresh(session: Session): void {
    const expiries = (session.streams ?? []).flatMap((s) => (s.expires_at ? [Date.parse(s.expires_at)] : []));
    const next = Math.min(Date.parse(session.expires_at), ...expiries) - REFRESH_AHEAD_MS;
    timer = window.setTimeout(async () => {
      try {
        showSession(await app.api.get<Session>(`/video/sessions/${session.id}`));
      } catch (error) {
        status.textContent = errorText(app, error);
      }
    }, Math.max(REFRESH_FLOOR_MS, next - Date.now()));
  }

  function tile(session: Session, stream: Stream): HTMLElement {
    const screen = stream.url
      ? h("div", { class: "vd-screen", "data-stream": "url" },
          h("strong", {}, stream.name),
          h("span", {}, t("video.placeholder")),
          h("span", { class: "vd-url", "data-testid": "video-url" }, stream.url),
          h("span", { "data-testid": "video-expiry", "data-expires": stream.expires_at ?? "" }, t("video.streamExpires", { time: app.formatTime(stream.expires_at ?? "") })))
      : h("div", { class: "vd-screen", "data-stream": "none" }, h("strong", {}, stream.name), h("span", {}, t("video.noStream")));
    return h("figure", { class: "vd-tile", "data-testid": "video-tile", "data-camera": stream.camera_id }, screen,
      stream.url ? steering(session, stream.camera_id) : null);
  }

  function steering(session: Session, camera: string): HTMLElement {
    const send = (name: string, params: Record<string, unknown> = {}) =>
      void attempt(app, async () => {
        await app.api.post(`/video/sessions/${session.id}/commands`, { camera_id: camera, name, params });
        app.toast(t("video.sent", { name }));
      });
    const move = (pan: number, tilt: number, zoom = 0) => () => send("ptz_move", { pan, tilt, zoom });
    const preset = h("input", { type: "number", min: 1, max: 255, value: 1, "aria-label": t("video.preset"), "data-testid": "video-preset" });
    const button = (label: string, testid: string, onclick: () => void) => h("button", { type: "button", "data-testid": testid, onclick }, label);
    return h("div", { class: "vd-steer" },
      h("label", {}, t("video.preset"), " ", preset),
      button(t("video.goto"), "video-goto", () => send("goto_preset", { preset: Number(preset.value) })),
      button(t("video.left"), "video-left", move(-STEP, 0)),
      button(t("video.right"), "video-right", move(STEP, 0)),
      button(t("video.up"), "video-up", move(0, STEP)),
      button(t("video.down"), "video-down", move(0, -STEP)),
      button(t("video.zoomIn"), "video-zoom-in", move(0, 0, STEP)),
      button(t("video.zoomOut"), "video-zoom-out", move(0, 0, -STEP)),
      button(t("video.stop"), "video-stop", () => send("ptz_stop")),
    );
  }

  void load();
  return () => {
    alive = false;
    window.clearTimeout(timer);
  };
}
