// The interventions board: work orders in columns by status, each card counting down to its
// due time, kept live by the stream. Work is created here, by hand or from an alarm.
import type { App, Mount, StreamEvent } from "../app";
import { communeNames, communeOptions } from "./communes";
import { everySecond, formatDuration } from "./countdown";
import { teamChoices } from "./crews";
import { askForm } from "./dialog";
import { attempt, errorText, h, labelled, selectOf, throttle } from "./dom";
import type { Schema } from "../schemas";
import "./views.css";

type Intervention = Schema<"InterventionOut">;
type Page = Schema<"InterventionPage">;
type Team = Schema<"TeamOut">;

/** What the alarm list leaves for the create form (sessionStorage "beffroi.newIntervention"). */
interface Prefill {
  alarm_id?: number;
  asset_id?: string;
  commune?: string;
}

const BOARD = ["new", "assigned", "in_progress", "on_hold", "resolved"];
const FINISHED = ["closed", "cancelled"];
const OPEN = ["new", "assigned", "in_progress", "on_hold"];
const CATEGORIES = ["lighting", "traffic", "video", "roads", "snow", "cleanliness"];
const PRIORITIES = ["critical", "high", "normal", "low"];
const PRIORITY_SHAPE: Record<string, string> = { critical: "◆", high: "▲", normal: "●", low: "○" };
// Moves that the server refuses without a reason.
const NEEDS_REASON = new Set(["on_hold", "cancelled"]);
const PREFILL_KEY = "beffroi.newIntervention";
const MAX_CARDS = 2000;
const MAX_FETCHES = 40;

export const mount: Mount = (root, app) => {
  const filters = { category: "", commune: "", team: "", priority: "", finished: false };
  let items = new Map<number, Intervention>();
  let teams = new Map<number, Team>();
  let names = new Map<string, string>();
  let loadSeq = 0;
  const canManage = app.can("intervention:manage");
  const canWork = canManage || app.can("intervention:work");

  const teamFilter = selectOf({ id: "iv-f-team", "data-testid": "intervention-filter-team" }, app.t("views.all"), []);
  const communeFilter = selectOf({ id: "iv-f-commune", "data-testid": "intervention-filter-commune" }, app.t("views.all"), []);
  const filterBar = h(
    "form",
    { class: "v-filters", onsubmit: (e: Event) => e.preventDefault() },
    labelled(
      "iv-f-category",
      app.t("interventions.category"),
      selectOf(
        { id: "iv-f-category", "data-testid": "intervention-filter-category" },
        app.t("views.all"),
        CATEGORIES.map((c) => [c, app.t(`interventions.category.${c}`)]),
      ),
    ),
    labelled("iv-f-commune", app.t("interventions.commune"), communeFilter),
    labelled("iv-f-team", app.t("interventions.team"), teamFilter),
    labelled(
      "iv-f-priority",
      app.t("interventions.priority"),
      selectOf(
        { id: "iv-f-priority", "data-testid": "intervention-filter-priority" },
        app.t("views.all"),
        PRIORITIES.map((p) => [p, app.t(`interventions.priority.${p}`)]),
      ),
    ),
    h(
      "label",
      { class: "v-check" },
      h("input", { type: "checkbox", id: "iv-f-finished", "data-testid": "intervention-show-finished" }),
      app.t("interventions.showFinished"),
    ),
  );
  filterBar.addEventListener("change", () => {
    const get = (id: string) => (filterBar.querySelector(`#${id}`) as HTMLSelectElement).value;
    const reload =
      filters.category !== get("iv-f-category") ||
      filters.commune !== get("iv-f-commune") ||
      filters.team !== get("iv-f-team") ||
      filters.finished !== (filterBar.querySelector("#iv-f-finished") as HTMLInputElement).checked;
    filters.category = get("iv-f-category");
    filters.commune = get("iv-f-commune");
    filters.team = get("iv-f-team");
    filters.priority = get("iv-f-priority");
    filters.finished = (filterBar.querySelector("#iv-f-finished") as HTMLInputElement).checked;
    if (reload) void load();
    else render();
  });

  const newButton = h(
    "button",
    { type: "button", class: "v-primary", "data-testid": "intervention-new", onclick: () => openCreate({}) },
    app.t("interventions.new"),
  );
  const createPanel = h("div", { class: "v-create", hidden: true });
  const board = h("div", { class: "v-board", "data-testid": "intervention-board" });
  const status = h("p", { class: "v-muted", role: "status" });
  root.replaceChildren(
    h(
      "section",
      { class: "v-view" },
      h("header", { class: "v-head" }, h("h1", {}, app.t("interventions.title")), canManage ? newButton : null),
      createPanel,
      filterBar,
      status,
      board,
    ),
  );

  // --- data --------------------------------------------------------------------------------
  async function load(): Promise<void> {
    const seq = ++loadSeq;
    const statuses = filters.finished ? [...BOARD, ...FINISHED] : BOARD;
    status.textContent = app.t("views.loading");
    try {
      const all: Intervention[] = [];
      let cursor: string | null = null;
      do {
        const page: Page = await app.api.get<Page>("/interventions", {
          status: statuses.join(","),
          category: filters.category || undefined,
          commune: filters.commune || undefined,
          team_id: filters.team || undefined,
          cursor: cursor ?? undefined,
          limit: 500,
        });
        all.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor !== null && all.length < MAX_CARDS);
      if (seq !== loadSeq) return;
      items = new Map(all.map((i) => [i.id, i]));
      status.textContent = cursor === null ? "" : app.t("interventions.truncated", { n: all.length });
      render();
    } catch (error) {
      if (seq === loadSeq) status.textContent = errorText(app, error);
    }
  }

  function matches(i: Intervention): boolean {
    return (
      (filters.finished || !FINISHED.includes(i.status)) &&
      (!filters.category || i.category === filters.category) &&
      (!filters.commune || i.commune === filters.commune) &&
      (!filters.team || String(i.team_id) === filters.team)
    );
  }

  function apply(i: Intervention): void {
    if (matches(i)) items.set(i.id, i);
    else items.delete(i.id);
  }

  const pending = new Set<number>();
  const fetchPending = throttle(() => {
    const ids = [...pending];
    pending.clear();
    if (ids.length > MAX_FETCHES) {
      void load();
      return;
    }
    void Promise.all(
      ids.map((id) =>
        app.api.get<Intervention>(`/interventions/${id}`).then(apply, () => items.delete(id)),
      ),
    ).then(render);
  }, 1000);

  function onEvents(events: StreamEvent[]): void {
    for (const e of events) {
      if (e.kind === "resync") {
        void load();
        return;
      }
      if (e.kind === "intervention") pending.add(e.intervention_id);
    }
    if (pending.size) fetchPending.call();
  }

  // --- rendering ---------------------------------------------------------------------------
  function render(): void {
    const shown = [...items.values()]
      .filter((i) => !filters.priority || i.priority === filters.priority)
      .sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.due_at.localeCompare(b.due_at));
    const columns = filters.finished ? [...BOARD, ...FINISHED] : BOARD;
    board.replaceChildren(
      ...columns.map((s) => {
        const cards = shown.filter((i) => i.status === s);
        return h(
          "section",
          { class: "v-column", "data-testid": "intervention-column", "data-status": s, "aria-label": app.t(`interventions.status.${s}`) },
          h("h2", {}, `${app.t(`interventions.status.${s}`)} (${cards.length})`),
          ...cards.map(card),
        );
      }),
    );
    tick();
  }

  function card(i: Intervention): HTMLElement {
    const team = i.team_id === null ? app.t("interventions.noTeam") : (teams.get(i.team_id)?.name ?? `#${i.team_id}`);
    const actions: HTMLElement[] = [];
    if (canManage && OPEN.includes(i.status)) {
      actions.push(button("intervention-assign", app.t("interventions.assign"), () => void assign(i)));
    }
    if (canWork) {
      for (const to of i.next_statuses.filter((s) => s !== "assigned")) {
        actions.push(
          h(
            "button",
            { type: "button", "data-testid": "intervention-move", "data-to": to, onclick: () => void move(i, to) },
            app.t(`interventions.move.${to}`),
          ),
        );
      }
    }
    if (canWork) actions.push(button("intervention-note", app.t("interventions.note"), () => void note(i)));
    return h(
      "article",
      {
        class: `v-card v-prio-${i.priority}`,
        "data-testid": "intervention-card",
        "data-id": i.id,
        "data-status": i.status,
        "aria-labelledby": `iv-title-${i.id}`,
      },
      h("h3", { id: `iv-title-${i.id}` }, `#${i.id} ${i.title}`),
      h(
        "p",
        { class: "v-card-meta" },
        h("span", { class: `v-prio v-prio-${i.priority}` }, h("span", { "aria-hidden": "true" }, PRIORITY_SHAPE[i.priority] ?? ""), ` ${app.t(`interventions.priority.${i.priority}`)}`),
        ` · ${app.t(`interventions.category.${i.category}`)}`,
      ),
      h("p", { class: "v-card-meta" }, `${names.get(i.commune) ?? i.commune} · ${team}`),
      i.asset_id
        ? h("button", { type: "button", class: "v-link", "data-testid": "intervention-asset", onclick: () => app.openAsset(i.asset_id ?? "") }, i.asset_id)
        : null,
      h("p", { class: "v-sla", "data-testid": "intervention-sla", "data-due": i.due_at, "data-status": i.status }),
      actions.length ? h("div", { class: "v-actions" }, ...actions) : null,
    );
  }

  /** Rewrites every countdown; called each second. */
  function tick(): void {
    const now = Date.now();
    for (const el of board.querySelectorAll<HTMLElement>("[data-testid=intervention-sla]")) {
      const left = Date.parse(el.dataset.due ?? "") - now;
      const open = OPEN.includes(el.dataset.status ?? "");
      const overdue = open && left < 0;
      el.classList.toggle("v-overdue", overdue);
      el.dataset.overdue = String(overdue);
      el.textContent = !open
        ? app.t("interventions.dueAt", { time: app.formatTime(el.dataset.due) })
        : overdue
          ? `⚠ ${app.t("interventions.overdue")} (${formatDuration(left, app.lang)})`
          : app.t("interventions.dueIn", { left: formatDuration(left, app.lang) });
    }
  }

  function button(testid: string, label: string, run: () => void): HTMLButtonElement {
    return h("button", { type: "button", "data-testid": testid, onclick: run }, label);
  }

  // --- card actions ------------------------------------------------------------------------
  async function change(i: Intervention, path: string, body: unknown, doneKey: string): Promise<void> {
    const ok = await attempt(app, async () => apply(await app.api.post<Intervention>(`/interventions/${i.id}/${path}`, body)));
    if (ok) {
      app.toast(app.t(doneKey, { id: i.id }));
      render();
    }
  }

  async function assign(i: Intervention): Promise<void> {
    const { options, preferred } = await teamChoices(app, i, teams.values());
    if (!options.length || preferred === null) {
      app.toast(app.t("interventions.noTeams"), "error");
      return;
    }
    const form = await askForm(
      app,
      app.t("interventions.assignTitle", { id: i.id }),
      [{ name: "team", label: app.t("interventions.team"), kind: "select", options, value: preferred }],
      app.t("interventions.assign"),
    );
    if (form) await change(i, "assign", { team_id: Number(form.team) }, "interventions.assigned");
  }

  async function move(i: Intervention, to: string): Promise<void> {
    let reason: string | undefined;
    if (NEEDS_REASON.has(to)) {
      const form = await askForm(
        app,
        app.t(`interventions.move.${to}`),
        [{ name: "reason", label: app.t("interventions.reason"), kind: "textarea", required: true }],
        app.t(`interventions.move.${to}`),
      );
      if (!form) return;
      reason = form.reason;
    }
    await change(i, "status", { status: to, reason }, "interventions.moved");
  }

  async function note(i: Intervention): Promise<void> {
    const form = await askForm(
      app,
      app.t("interventions.noteTitle", { id: i.id }),
      [{ name: "text", label: app.t("interventions.noteText"), kind: "textarea", required: true }],
      app.t("interventions.note"),
    );
    if (form) {
      const ok = await attempt(app, () => app.api.post(`/interventions/${i.id}/notes`, { text: form.text }));
      if (ok) app.toast(app.t("interventions.noted", { id: i.id }));
    }
  }

  // --- creating ----------------------------------------------------------------------------
  function openCreate(prefill: Prefill): void {
    const teamOptions = [...teams.values()].map((t): [string, string] => [String(t.id), t.name]);
    const communeSelect = selectOf(
      { id: "iv-c-commune", name: "commune", "data-testid": "intervention-commune", value: prefill.commune ?? "" },
      app.t("interventions.fromAsset"),
      communeOptions(names),
    );
    const alarmNote = prefill.alarm_id
      ? h("p", { "data-testid": "intervention-linked-alarm", "data-alarm-id": prefill.alarm_id }, app.t("interventions.linkedAlarm", { id: prefill.alarm_id }))
      : null;
    const form = h(
      "form",
      { class: "v-form", "data-testid": "intervention-create", "aria-label": app.t("interventions.new") },
      h("h2", {}, app.t("interventions.new")),
      alarmNote,
      labelled("iv-c-title", app.t("interventions.titleField"), h("input", { id: "iv-c-title", name: "title", required: true, maxlength: 200, "data-testid": "intervention-title", size: 40 })),
      labelled(
        "iv-c-category",
        app.t("interventions.category"),
        selectOf(
          { id: "iv-c-category", name: "category", "data-testid": "intervention-category", required: true },
          null,
          CATEGORIES.map((c) => [c, app.t(`interventions.category.${c}`)]),
        ),
      ),
      labelled(
        "iv-c-priority",
        app.t("interventions.priority"),
        selectOf(
          { id: "iv-c-priority", name: "priority", "data-testid": "intervention-priority", value: "normal" },
          null,
          PRIORITIES.map((p) => [p, app.t(`interventions.priority.${p}`)]),
        ),
      ),
      labelled(
        "iv-c-team",
        app.t("interventions.team"),
        selectOf({ id: "iv-c-team", name: "team_id", "data-testid": "intervention-team" }, app.t("interventions.noTeam"), teamOptions),
      ),
      labelled("iv-c-asset", app.t("interventions.asset"), h("input", { id: "iv-c-asset", name: "asset_id", value: prefill.asset_id ?? "", "data-testid": "intervention-asset-id", maxlength: 64 })),
      labelled("iv-c-commune", app.t("interventions.commune"), communeSelect),
      labelled("iv-c-description", app.t("interventions.description"), h("textarea", { id: "iv-c-description", name: "description", rows: 3, "data-testid": "intervention-description" })),
      h(
        "div",
        { class: "v-dialog-buttons" },
        h("button", { type: "button", "data-testid": "intervention-cancel", onclick: closeCreate }, app.t("views.cancel")),
        h("button", { type: "submit", class: "v-primary", "data-testid": "intervention-submit" }, app.t("interventions.create")),
      ),
    );
    if (prefill.asset_id) {
      const category = form.querySelector("#iv-c-category") as HTMLSelectElement;
      void categoryOf(app, prefill.asset_id).then((c) => {
        if (c) category.value = c;
      });
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void submit(form, prefill);
    });
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") closeCreate();
    });
    createPanel.replaceChildren(form);
    createPanel.hidden = false;
    (form.querySelector("#iv-c-title") as HTMLInputElement).focus();
  }

  function closeCreate(): void {
    createPanel.hidden = true;
    createPanel.replaceChildren();
  }

  async function submit(form: HTMLFormElement, prefill: Prefill): Promise<void> {
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    const body = {
      title: text("title"),
      category: text("category"),
      priority: text("priority"),
      description: text("description"),
      team_id: text("team_id") ? Number(text("team_id")) : undefined,
      asset_id: text("asset_id") || undefined,
      commune: text("commune") || undefined,
      alarm_ids: prefill.alarm_id ? [prefill.alarm_id] : [],
    };
    try {
      const created = await app.api.post<Intervention>("/interventions", body);
      apply(created);
      closeCreate();
      render();
      app.toast(app.t("interventions.created", { id: created.id }));
    } catch (error) {
      app.toast(errorText(app, error), "error");
    }
  }

  // --- start -------------------------------------------------------------------------------
  const stopTicking = everySecond(tick);
  const unsubscribe = app.onEvents(onEvents);
  void Promise.all([
    app.api.get<Team[]>("/teams").catch(() => [] as Team[]), // without team:manage, names fall back to ids
    communeNames(app).catch(() => new Map<string, string>()),
  ]).then(([teamList, communeMap]) => {
    teams = new Map(teamList.map((t) => [t.id, t]));
    names = communeMap;
    teamFilter.append(...teamList.map((t) => h("option", { value: t.id }, t.name)));
    communeFilter.append(...communeOptions(names).map(([code, name]) => h("option", { value: code }, name)));
    const prefill = sessionStorage.getItem(PREFILL_KEY);
    if (prefill !== null) {
      sessionStorage.removeItem(PREFILL_KEY);
      if (canManage) openCreate(parsePrefill(prefill));
    }
    return load();
  });

  return () => {
    loadSeq++;
    stopTicking();
    unsubscribe();
    fetchPending.cancel();
  };
};

function parsePrefill(raw: string): Prefill {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "object" && value !== null ? (value as Prefill) : {};
  } catch {
    return {};
  }
}

/** The trade an asset's repair most likely needs: its type's domain, when it is a category. */
async function categoryOf(app: App, assetId: string): Promise<string | null> {
  try {
    const asset = await app.api.get<Schema<"AssetOut">>(`/assets/${encodeURIComponent(assetId)}`);
    const domain = app.catalogue.type(asset.type)?.domain ?? "";
    return CATEGORIES.includes(domain) ? domain : null;
  } catch {
    return null; // the operator picks the category
  }
}
