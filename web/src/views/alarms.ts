// The alarm list: what operators watch and handle all day. Root causes with their grouped
// alarms folded under them, sortable, filterable, kept live by the stream, and usable from
// the keyboard alone.
import type { Mount, StreamEvent } from "../app";
import { Beeper } from "./beep";
import { communeNames, communeOptions } from "./communes";
import { askForm } from "./dialog";
import { attempt, errorText, h, labelled, selectOf, throttle } from "./dom";
import { SEVERITIES, severityBadge, severityRank } from "./severity";
import type { Schema } from "../schemas";
import "./views.css";

type Alarm = Schema<"AlarmOut">;
type AlarmDetail = Schema<"AlarmDetail">;
type AlarmPage = Schema<"AlarmPage">;
type Summary = Schema<"Summary">;

const STATES = ["active_unacknowledged", "active_acknowledged", "cleared_unacknowledged", "cleared_acknowledged"];
// What the server lists when no state is asked for: active, or cleared and not yet seen.
const OPEN_STATES = STATES.slice(0, 3);
const PAGE = 500;
const MAX_ROWS = 2000;
// Beyond this many changed alarms in one go, reloading the list is cheaper than fetching each.
const MAX_FETCHES = 40;
const SHELVE_MINUTES = [15, 60, 240, 480, 1440];

type SortKey = "severity" | "time" | "asset" | "type" | "commune" | "state";
const COLUMNS: SortKey[] = ["severity", "time", "asset", "type", "commune", "state"];

const isAcknowledged = (a: Alarm) => !a.state.endsWith("_unacknowledged");
const isActive = (a: Alarm) => a.state.startsWith("active_");

export const mount: Mount = (root, app) => {
  const filters = { severity: "", state: "", commune: "", type: "", text: "", shelved: false };
  let sort: { key: SortKey; dir: 1 | -1 } = { key: "severity", dir: 1 };
  let roots = new Map<number, Alarm>();
  const children = new Map<number, Alarm[]>();
  const expanded = new Set<number>();
  let selectedId: number | null = null;
  let names = new Map<string, string>();
  let loadSeq = 0;
  let truncated = false;
  const beeper = new Beeper();
  // An alarm is handled with the permission, and in one of the user's domains (the API's rule).
  const canHandle = (a: Alarm) => app.can("alarm:handle") && (!a.domain || app.worksIn(a.domain));
  const canCreateWork = app.can("intervention:manage");

  // --- layout ------------------------------------------------------------------------------
  const summary = h("div", { class: "v-summary", "data-testid": "alarm-summary", role: "status" });
  const soundButton = h("button", {
    type: "button",
    "data-testid": "alarm-sound",
    "aria-pressed": "false",
    onclick: () => {
      if (beeper.enabled) beeper.disable();
      else beeper.enable();
      renderSound();
    },
  });
  const communeSelect = selectOf({ id: "alarm-f-commune", "data-testid": "alarm-filter-commune" }, app.t("views.all"), []);
  const typeList = h("datalist", { id: "alarm-types" });
  const filterBar = h(
    "form",
    { class: "v-filters", onsubmit: (e: Event) => e.preventDefault() },
    labelled(
      "alarm-f-severity",
      app.t("alarms.severity"),
      selectOf(
        { id: "alarm-f-severity", "data-testid": "alarm-filter-severity" },
        app.t("views.all"),
        SEVERITIES.map((s) => [s, app.t(`views.severity.${s}`)]),
      ),
    ),
    labelled(
      "alarm-f-state",
      app.t("alarms.state"),
      selectOf(
        { id: "alarm-f-state", "data-testid": "alarm-filter-state" },
        app.t("alarms.openStates"),
        STATES.map((s) => [s, app.t(`alarms.state.${s}`)]),
      ),
    ),
    labelled("alarm-f-commune", app.t("alarms.commune"), communeSelect),
    labelled(
      "alarm-f-type",
      app.t("alarms.type"),
      h("input", { id: "alarm-f-type", list: "alarm-types", "data-testid": "alarm-filter-type", size: 16 }),
    ),
    typeList,
    labelled(
      "alarm-f-text",
      app.t("alarms.search"),
      h("input", { id: "alarm-f-text", type: "search", "data-testid": "alarm-filter-text", size: 16 }),
    ),
    h(
      "label",
      { class: "v-check" },
      h("input", { type: "checkbox", id: "alarm-f-shelved", "data-testid": "alarm-filter-shelved" }),
      app.t("alarms.showShelved"),
    ),
  );
  filterBar.addEventListener("change", (e) => {
    const t = e.target as HTMLInputElement;
    if (t.id === "alarm-f-text") return;
    filters.severity = value("alarm-f-severity");
    filters.state = value("alarm-f-state");
    filters.commune = value("alarm-f-commune");
    filters.type = value("alarm-f-type").trim();
    filters.shelved = (filterBar.querySelector("#alarm-f-shelved") as HTMLInputElement).checked;
    void load();
  });
  filterBar.addEventListener("input", (e) => {
    if ((e.target as HTMLElement).id !== "alarm-f-text") return;
    filters.text = value("alarm-f-text").trim().toLowerCase();
    render();
  });

  const headRow = h("tr", {}, h("th", { scope: "col" }, h("span", { class: "v-sr" }, app.t("alarms.group"))));
  const tbody = h("tbody");
  const table = h(
    "table",
    {
      class: "v-table v-alarms",
      "data-testid": "alarm-list",
      tabindex: 0,
      role: "grid",
      "aria-label": app.t("alarms.title"),
      "aria-describedby": "alarm-keys",
    },
    h("thead", {}, headRow),
    tbody,
  );
  const status = h("p", { class: "v-muted", role: "status", "data-testid": "alarm-status" });
  const detail = h("aside", { class: "v-drawer", "data-testid": "alarm-detail", hidden: true, "aria-label": app.t("alarms.detail") });

  root.replaceChildren(
    h(
      "section",
      { class: "v-view v-alarms-view" },
      h("header", { class: "v-head" }, h("h1", {}, app.t("alarms.title")), summary, soundButton),
      filterBar,
      h("p", { id: "alarm-keys", class: "v-muted v-keys" }, app.t("alarms.keys")),
      h("div", { class: "v-scroll" }, table),
      status,
      detail,
    ),
  );

  for (const key of COLUMNS) {
    headRow.appendChild(
      h(
        "th",
        { scope: "col", "data-sort": key },
        h("button", { type: "button", class: "v-sort", "data-testid": `alarm-sort-${key}`, onclick: () => sortBy(key) }, app.t(`alarms.col.${key}`)),
      ),
    );
  }
  headRow.appendChild(h("th", { scope: "col" }, app.t("alarms.actions")));

  function sortBy(key: SortKey): void {
    sort = { key, dir: sort.key === key ? (-sort.dir as 1 | -1) : 1 };
    render();
  }

  function value(id: string): string {
    return (filterBar.querySelector(`#${id}`) as HTMLInputElement | HTMLSelectElement).value;
  }

  // --- data --------------------------------------------------------------------------------
  async function load(): Promise<void> {
    const seq = ++loadSeq;
    const params = {
      severity: filters.severity || undefined,
      state: filters.state || undefined,
      commune: filters.commune || undefined,
      alarm_type: filters.type || undefined,
      shelved: filters.shelved || undefined,
      limit: PAGE,
    };
    status.textContent = app.t("views.loading");
    try {
      const items: Alarm[] = [];
      let cursor: string | null = null;
      do {
        const page: AlarmPage = await app.api.get<AlarmPage>("/alarms", { ...params, cursor: cursor ?? undefined });
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor && items.length < MAX_ROWS);
      const kids = await Promise.all([...expanded].map((id) => fetchChildren(id)));
      if (seq !== loadSeq) return;
      truncated = cursor !== null;
      roots = new Map(items.map((a) => [a.id, a]));
      children.clear();
      [...expanded].forEach((id, i) => children.set(id, kids[i]));
      typeList.replaceChildren(
        ...[...new Set(items.map((a) => a.alarm_type))].sort().map((t) => h("option", { value: t })),
      );
      render();
    } catch (error) {
      if (seq === loadSeq) status.textContent = errorText(app, error);
    }
  }

  async function fetchChildren(parentId: number): Promise<Alarm[]> {
    const page = await app.api.get<AlarmPage>("/alarms", {
      parent_id: parentId,
      grouped: true,
      state: STATES.join(","),
      shelved: true,
      limit: PAGE,
    });
    return page.items;
  }

  const refreshSummary = throttle(() => {
    app.api
      .get<Summary>("/alarms/summary")
      .then(renderSummary)
      .catch(() => undefined); // the list shows the connection problems; the strip keeps its last counts
  }, 2000);

  function matches(a: Alarm): boolean {
    const states = filters.state ? [filters.state] : OPEN_STATES;
    return (
      states.includes(a.state) &&
      (!filters.severity || a.severity === filters.severity) &&
      (!filters.commune || a.commune === filters.commune) &&
      (!filters.type || a.alarm_type === filters.type) &&
      (filters.shelved || !a.shelved)
    );
  }

  /** Puts a fresh copy of an alarm where it belongs (or takes it off the list). */
  function apply(a: Alarm): void {
    if (a.parent_id === null) {
      if (matches(a)) roots.set(a.id, a);
      else roots.delete(a.id);
      return;
    }
    roots.delete(a.id); // it has just been grouped under a root cause
    const list = children.get(a.parent_id);
    if (!list) return;
    const i = list.findIndex((c) => c.id === a.id);
    if (i >= 0) list[i] = a;
    else list.push(a);
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
        app.api.get<Alarm>(`/alarms/${id}`).then(
          (a) => apply(a),
          () => roots.delete(id), // gone from our scope
        ),
      ),
    ).then(render);
  }, 1000);

  function onEvents(events: StreamEvent[]): void {
    for (const e of events) {
      if (e.kind === "resync") {
        void load();
        refreshSummary.call();
        return;
      }
      if (e.kind !== "alarm") continue;
      pending.add(e.alarm_id);
      if (e.parent_id !== null) pending.add(e.parent_id); // its count of grouped alarms moved
      if (e.severity === "critical" && e.action === "raised") beeper.beep();
    }
    if (pending.size) {
      fetchPending.call();
      refreshSummary.call();
    }
  }

  // --- rendering ---------------------------------------------------------------------------
  function compare(a: Alarm, b: Alarm): number {
    const by: Record<SortKey, () => number> = {
      severity: () => severityRank(a.severity) - severityRank(b.severity) || b.raised_at.localeCompare(a.raised_at),
      time: () => b.raised_at.localeCompare(a.raised_at),
      asset: () => a.asset_id.localeCompare(b.asset_id),
      type: () => a.alarm_type.localeCompare(b.alarm_type),
      commune: () => communeName(a.commune).localeCompare(communeName(b.commune), "fr"),
      state: () => STATES.indexOf(a.state) - STATES.indexOf(b.state),
    };
    return sort.dir * by[sort.key]() || b.id - a.id;
  }

  function visible(a: Alarm): boolean {
    if (!filters.text) return true;
    return [a.asset_id, a.asset_type, a.alarm_type, communeName(a.commune), String(a.id)].some((s) =>
      s.toLowerCase().includes(filters.text),
    );
  }

  function communeName(code: string): string {
    return names.get(code) ?? code;
  }

  function render(): void {
    const rows: HTMLTableRowElement[] = [];
    const shown = [...roots.values()].filter(visible).sort(compare);
    for (const a of shown) {
      rows.push(row(a, false));
      if (expanded.has(a.id)) {
        for (const c of [...(children.get(a.id) ?? [])].sort(compare)) rows.push(row(c, true));
      }
    }
    tbody.replaceChildren(...rows);
    if (selectedId !== null && !rowOf(selectedId)) selectedId = null;
    markSelection();
    for (const th of headRow.querySelectorAll<HTMLElement>("th[data-sort]")) {
      const dir = sort.dir === 1 ? "ascending" : "descending";
      if (th.dataset.sort === sort.key) th.setAttribute("aria-sort", dir);
      else th.removeAttribute("aria-sort");
    }
    status.textContent = shown.length
      ? truncated
        ? app.t("alarms.truncated", { n: roots.size })
        : app.t("alarms.count", { n: shown.length })
      : app.t("alarms.none");
  }

  function row(a: Alarm, isChild: boolean): HTMLTableRowElement {
    const toggle =
      !isChild && a.children > 0
        ? h(
            "button",
            {
              type: "button",
              class: "v-expand",
              "data-testid": "alarm-expand",
              "aria-expanded": String(expanded.has(a.id)),
              "aria-label": app.t("alarms.children", { n: a.children }),
              onclick: () => void toggleChildren(a.id),
            },
            `${expanded.has(a.id) ? "▾" : "▸"} ${a.children}`,
          )
        : isChild
          ? h("span", { "aria-label": app.t("alarms.grouped"), class: "v-muted" }, "↳")
          : null;
    const stateText = [app.t(`alarms.state.${a.state}`)];
    if (a.shelved) stateText.push(app.t("alarms.shelvedUntil", { time: app.formatTime(a.shelved_until) }));
    if (a.assigned_to) stateText.push(app.t("alarms.assignedTo", { user: a.assigned_to }));
    return h(
      "tr",
      {
        id: `alarm-row-${a.id}`,
        "data-testid": "alarm-row",
        "data-alarm-id": a.id,
        "data-state": a.state,
        "data-severity": a.severity,
        "aria-selected": "false",
        class: [
          `v-row-${a.severity}`,
          isChild ? "v-child" : "",
          isAcknowledged(a) ? "" : "v-unack",
          a.shelved ? "v-shelved" : "",
        ].join(" "),
        onclick: () => select(a.id),
      },
      h("td", {}, toggle),
      h("td", {}, severityBadge(app, a.severity)),
      h(
        "td",
        { title: app.t("alarms.lastSeen", { time: app.formatTime(a.last_seen_at), n: a.occurrences }) },
        h("time", { datetime: a.raised_at }, app.formatTime(a.raised_at)),
        a.occurrences > 1 ? h("span", { class: "v-muted" }, ` ×${a.occurrences}`) : null,
      ),
      h(
        "td",
        {},
        h("button", { type: "button", class: "v-link", "data-testid": "alarm-asset", onclick: () => app.openAsset(a.asset_id) }, a.asset_id),
        h("div", { class: "v-muted" }, a.asset_type),
      ),
      h("td", {}, a.alarm_type),
      h("td", {}, communeName(a.commune)),
      h("td", {}, stateText.join(" · ")),
      h("td", { class: "v-actions" }, ...actionButtons(a, "alarm")),
    );
  }

  /** The actions one alarm offers; testids start with prefix (row or detail drawer). */
  function actionButtons(a: Alarm, prefix: string): HTMLButtonElement[] {
    const button = (action: string, label: string, run: () => void) =>
      h("button", { type: "button", "data-testid": `${prefix}-${action}`, onclick: (e: Event) => (e.stopPropagation(), run()) }, label);
    const out: HTMLButtonElement[] = [];
    if (canHandle(a)) {
      if (!isAcknowledged(a)) out.push(button("ack", app.t("alarms.ack"), () => void acknowledge(a)));
      if (isActive(a)) out.push(button("clear", app.t("alarms.clear"), () => void clear(a)));
      out.push(button("comment", app.t("alarms.comment"), () => void comment(a)));
      out.push(
        a.shelved
          ? button("unshelve", app.t("alarms.unshelve"), () => void post(a, "unshelve", {}, "alarms.unshelved"))
          : button("shelve", app.t("alarms.shelve"), () => void shelve(a)),
      );
      if (canCreateWork) out.push(button("create-intervention", app.t("alarms.createIntervention"), () => createIntervention(a)));
    }
    out.push(button("open-asset", app.t("alarms.openAsset"), () => app.openAsset(a.asset_id)));
    return out;
  }

  function renderSummary(s: Summary): void {
    summary.replaceChildren(
      ...SEVERITIES.map((sev) =>
        h(
          "span",
          { class: "v-count", "data-testid": `alarm-summary-${sev}` },
          severityBadge(app, sev, ` ${s.by_severity[sev] ?? 0}`),
        ),
      ),
      h("span", { class: "v-count", "data-testid": "alarm-summary-unack" }, app.t("alarms.unackCount", { n: s.unacknowledged })),
      h("span", { class: "v-count v-muted" }, app.t("alarms.shelvedCount", { n: s.shelved })),
    );
  }

  function renderSound(): void {
    soundButton.setAttribute("aria-pressed", String(beeper.enabled));
    soundButton.textContent = beeper.enabled ? `🔔 ${app.t("alarms.soundOn")}` : `🔕 ${app.t("alarms.soundOff")}`;
  }

  // --- selection and keyboard --------------------------------------------------------------
  function rowOf(id: number): HTMLTableRowElement | null {
    return tbody.querySelector<HTMLTableRowElement>(`tr[data-alarm-id="${id}"]`);
  }

  function alarmOf(id: number): Alarm | undefined {
    return roots.get(id) ?? [...children.values()].flat().find((c) => c.id === id);
  }

  function select(id: number): void {
    selectedId = id;
    markSelection();
    rowOf(id)?.scrollIntoView({ block: "nearest" });
  }

  /** One selected row; only its buttons are in the tab order, so Tab does not walk the whole list. */
  function markSelection(): void {
    for (const tr of tbody.rows) {
      const selected = Number(tr.dataset.alarmId) === selectedId;
      tr.setAttribute("aria-selected", String(selected));
      for (const b of tr.querySelectorAll("button")) b.tabIndex = selected ? 0 : -1;
    }
    if (selectedId === null) table.removeAttribute("aria-activedescendant");
    else table.setAttribute("aria-activedescendant", `alarm-row-${selectedId}`);
  }

  function move(step: number): void {
    const rows = [...tbody.rows];
    const at = rows.findIndex((r) => Number(r.dataset.alarmId) === selectedId);
    selectAt(at < 0 ? (step > 0 ? 0 : rows.length - 1) : at + step);
  }

  function selectAt(index: number): void {
    const rows = tbody.rows;
    if (!rows.length) return;
    select(Number(rows[Math.min(rows.length - 1, Math.max(0, index))].dataset.alarmId));
  }

  table.addEventListener("keydown", (e) => {
    if (e.target !== table) return; // keys inside a row's buttons keep their own meaning
    const selected = selectedId === null ? undefined : alarmOf(selectedId);
    switch (e.key) {
      case "ArrowDown":
        move(1);
        break;
      case "ArrowUp":
        move(-1);
        break;
      case "Home":
        selectAt(0);
        break;
      case "End":
        selectAt(tbody.rows.length - 1);
        break;
      case "ArrowRight":
      case "ArrowLeft":
        if (selected && selected.parent_id === null && selected.children > 0 && expanded.has(selected.id) !== (e.key === "ArrowRight")) {
          void toggleChildren(selected.id);
        }
        break;
      case "Enter":
        if (selected) void openDetail(selected.id);
        break;
      case "a":
        if (selected && canHandle(selected) && !isAcknowledged(selected)) void acknowledge(selected);
        break;
      case "Escape":
        closeDetail();
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  async function toggleChildren(id: number): Promise<void> {
    if (expanded.has(id)) {
      expanded.delete(id);
      children.delete(id);
    } else {
      const ok = await attempt(app, async () => children.set(id, await fetchChildren(id)));
      if (ok) expanded.add(id);
    }
    render();
  }

  // --- details -----------------------------------------------------------------------------
  async function openDetail(id: number): Promise<void> {
    let a: AlarmDetail;
    try {
      a = await app.api.get<AlarmDetail>(`/alarms/${id}`);
    } catch (error) {
      app.toast(errorText(app, error), "error");
      return;
    }
    const close = h("button", { type: "button", "data-testid": "alarm-detail-close", onclick: closeDetail }, app.t("views.close"));
    detail.replaceChildren(
      h("header", { class: "v-head" }, h("h2", {}, `${a.alarm_type} — ${a.asset_id}`), close),
      h(
        "dl",
        { class: "v-dl" },
        ...pair(app.t("alarms.col.severity"), severityBadge(app, a.severity)),
        ...pair(app.t("alarms.col.state"), app.t(`alarms.state.${a.state}`)),
        ...pair(app.t("alarms.raised"), app.formatTime(a.raised_at)),
        ...pair(app.t("alarms.lastSeenLabel"), `${app.formatTime(a.last_seen_at)} (×${a.occurrences})`),
        ...pair(app.t("alarms.col.commune"), communeName(a.commune)),
        ...(a.clear_reason ? pair(app.t("alarms.clearReason"), a.clear_reason) : []),
        ...(a.shelve_reason ? pair(app.t("alarms.shelveReason"), a.shelve_reason) : []),
      ),
      h("div", { class: "v-actions" }, ...actionButtons(a, "alarm-detail")),
      h("h3", {}, app.t("alarms.history")),
      h(
        "ol",
        { class: "v-history" },
        ...a.history.map((line) =>
          h(
            "li",
            {},
            h("time", { datetime: line.ts }, app.formatTime(line.ts)),
            ` — ${line.action} · ${line.actor}`,
            typeof line.detail.text === "string" ? h("q", {}, line.detail.text) : null,
            typeof line.detail.reason === "string" ? h("q", {}, line.detail.reason) : null,
          ),
        ),
      ),
    );
    detail.hidden = false;
    close.focus();
  }

  function closeDetail(): void {
    if (detail.hidden) return;
    detail.hidden = true;
    detail.replaceChildren();
    table.focus();
  }

  detail.addEventListener("keydown", (e) => {
    if (e.key === "Escape") closeDetail();
  });

  function pair(term: string, value: string | Node): HTMLElement[] {
    return [h("dt", {}, term), h("dd", {}, value)];
  }

  // --- actions -----------------------------------------------------------------------------
  async function post(a: Alarm, action: string, body: unknown, doneKey: string): Promise<void> {
    const ok = await attempt(app, async () => apply(await app.api.post<Alarm>(`/alarms/${a.id}/${action}`, body)));
    if (!ok) return;
    app.toast(app.t(doneKey, { id: a.id }));
    render();
    refreshSummary.call();
    if (!detail.hidden) void openDetail(a.id);
  }

  function acknowledge(a: Alarm): Promise<void> {
    return post(a, "acknowledge", {}, "alarms.acknowledged");
  }

  async function clear(a: Alarm): Promise<void> {
    const form = await askForm(
      app,
      app.t("alarms.clearTitle", { id: a.id }),
      [{ name: "reason", label: app.t("alarms.reason"), kind: "textarea", required: true, minLength: 3 }],
      app.t("alarms.clear"),
    );
    if (form) await post(a, "clear", { reason: form.reason }, "alarms.cleared");
  }

  async function comment(a: Alarm): Promise<void> {
    const form = await askForm(
      app,
      app.t("alarms.commentTitle", { id: a.id }),
      [{ name: "text", label: app.t("alarms.commentText"), kind: "textarea", required: true }],
      app.t("alarms.comment"),
    );
    if (form) await post(a, "comments", { text: form.text }, "alarms.commented");
  }

  async function shelve(a: Alarm): Promise<void> {
    const form = await askForm(
      app,
      app.t("alarms.shelveTitle", { id: a.id }),
      [
        {
          name: "minutes",
          label: app.t("alarms.duration"),
          kind: "select",
          value: "60",
          options: SHELVE_MINUTES.map((m) => [String(m), app.t("alarms.minutes", { n: m })]),
        },
        { name: "reason", label: app.t("alarms.reason"), kind: "textarea", required: true, minLength: 3 },
      ],
      app.t("alarms.shelve"),
    );
    if (form) await post(a, "shelve", { minutes: Number(form.minutes), reason: form.reason }, "alarms.shelved");
  }

  function createIntervention(a: Alarm): void {
    sessionStorage.setItem(
      "beffroi.newIntervention",
      JSON.stringify({ alarm_id: a.id, asset_id: a.asset_id, commune: a.commune }),
    );
    app.navigate("interventions");
  }

  // --- start -------------------------------------------------------------------------------
  renderSound();
  communeNames(app)
    .then((n) => {
      names = n;
      communeSelect.append(...communeOptions(n).map(([code, name]) => h("option", { value: code }, name)));
      render();
    })
    .catch(() => undefined); // codes are shown instead of names
  void load();
  refreshSummary.call();
  const unsubscribe = app.onEvents(onEvents);

  return () => {
    unsubscribe();
    fetchPending.cancel();
    refreshSummary.cancel();
    beeper.disable();
    loadSeq++;
  };
};
