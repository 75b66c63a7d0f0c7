// Citizen reports: the citizen line's form (an operator records a phone call, with
// report:record) and the reports of the user's communes, newest first, with the public
// status the citizen reads. The services and their questions are Open311's own list.
import type { Mount } from "../app";
import type { Schema } from "../schemas";
import { fill } from "../dom";
import { communeNames, communeOptions } from "./communes";
import { attempt, errorText, h, labelled, selectOf } from "./dom";
import "./views.css";

type Report = Schema<"ReportOut">;
type Page = Schema<"ReportPage">;
type Detail = Schema<"ReportDetail">;
type Service = Schema<"ServiceOut">;
type Definition = Schema<"ServiceDefinition">;

async function open311<T>(path: string): Promise<T> {
  const response = await fetch(`/open311/v2/${path}`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.json()) as T;
}

export const mount: Mount = (root, app) => {
  const t = app.t;
  const status = h("p", { class: "v-muted", role: "status" });
  const list = h("div", { class: "v-scroll", "data-testid": "reports-list" });
  const more = h("button", { type: "button", hidden: true, "data-testid": "reports-more" }, t("reports.more"));
  const form = h("form", { class: "v-form", "data-testid": "report-form", hidden: true });
  root.replaceChildren(
    h("section", { class: "v-view" },
      h("header", { class: "v-head" }, h("h1", {}, t("reports.title"))),
      form, status, list, more),
  );
  const shown: Report[] = [];
  let cursor: string | null = null;
  let names = new Map<string, string>();
  let services: Service[] = [];

  async function load(reset: boolean): Promise<void> {
    try {
      const page = await app.api.get<Page>("/reports", { limit: 50, cursor: reset ? undefined : cursor ?? undefined });
      if (reset) shown.length = 0;
      shown.push(...page.items);
      cursor = page.next_cursor;
      more.hidden = cursor === null;
      render();
      status.textContent = shown.length ? "" : t("reports.none");
    } catch (error) {
      status.textContent = errorText(app, error);
    }
  }

  function render(): void {
    const serviceName = new Map(services.map((s) => [s.service_code, s.service_name]));
    fill(list, h("table", { class: "v-table v-compact" },
      h("thead", {}, h("tr", {}, ...["reports.when", "reports.ticket", "reports.service", "reports.commune", "reports.status", "reports.work"].map((k) => h("th", {}, t(k))))),
      h("tbody", {}, ...shown.map((r) => h("tr", { "data-testid": "report-row", "data-id": r.id },
        h("td", {}, app.formatTime(r.created_at)),
        h("td", {}, h("code", {}, r.ticket), r.channel === "phone" ? ` · ${t("reports.phone")}` : ""),
        h("td", {}, serviceName.get(r.service_code) ?? r.service_code, r.address_string ? ` — ${r.address_string}` : ""),
        h("td", {}, names.get(r.commune) ?? r.commune),
        h("td", { "data-testid": "report-status" }, `${t(`reports.public.${r.status}`)} · ${r.status_notes}`),
        h("td", {}, h("a", { href: "#/interventions", title: t("reports.workTitle") }, `#${r.intervention_id}`), r.joined ? ` (${t("reports.joined")})` : ""),
      )))));
  }

  function buildForm(): void {
    const service = selectOf({ id: "r-service", name: "service_code", required: true }, null,
      services.map((s) => [s.service_code, `${s.group} — ${s.service_name}`]));
    const commune = selectOf({ id: "r-commune", name: "commune", required: true }, null, communeOptions(names));
    const questions = h("div", { class: "v-form-row" });
    const input = (id: string, name: string, attrs: Record<string, string | number | boolean> = {}) =>
      h("input", { id, name, ...attrs });
    const description = h("textarea", { id: "r-description", name: "description", maxlength: 4000, rows: 3 });
    const address = input("r-address", "address_string", { maxlength: 300 });
    const caller = ["first_name", "last_name", "phone", "email"].map((name) =>
      labelled(`r-${name}`, t(`reports.caller.${name}`), input(`r-${name}`, name, { maxlength: name === "phone" ? 40 : 100, type: name === "email" ? "email" : "text" })));
    const submit = h("button", { type: "submit", "data-testid": "report-submit" }, t("reports.record"));

    async function showQuestions(): Promise<void> {
      const chosen = services.find((s) => s.service_code === service.value);
      if (!chosen?.metadata) { fill(questions); return; }
      const definition = await open311<Definition>(`services/${encodeURIComponent(chosen.service_code)}.json`);
      fill(questions, ...definition.attributes.map((a) => labelled(`r-a-${a.code}`, a.description,
        a.values.length
          ? selectOf({ id: `r-a-${a.code}`, "data-attribute": a.code, required: a.required }, a.required ? null : "—", a.values.map((v) => [v.key, v.name]))
          : h("input", { id: `r-a-${a.code}`, "data-attribute": a.code, required: a.required, maxlength: 200 }))));
    }
    service.addEventListener("change", () => void showQuestions());
    fill(form,
      h("h2", {}, t("reports.line")),
      labelled("r-service", t("reports.service"), service),
      labelled("r-commune", t("reports.commune"), commune),
      labelled("r-address", t("reports.address"), address),
      questions,
      labelled("r-description", t("reports.description"), description),
      ...caller,
      h("p", { class: "v-muted" }, t("reports.privacy")),
      h("div", { class: "v-dialog-buttons" }, submit));
    form.hidden = false;
    void showQuestions();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const attributes: Record<string, string> = {};
      for (const el of questions.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[data-attribute]")) {
        if (el.value) attributes[el.dataset.attribute ?? ""] = el.value;
      }
      const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
      const body = {
        service_code: service.value, commune: commune.value, address_string: address.value.trim(),
        description: description.value.trim(), attributes,
        caller: { first_name: value("first_name"), last_name: value("last_name"), phone: value("phone"), email: value("email") },
      };
      submit.disabled = true;
      void attempt(app, async () => {
        const made = await app.api.post<Detail>("/reports", body);
        app.toast(t(made.joined ? "reports.recordedJoined" : "reports.recorded", { ticket: made.ticket, work: made.intervention_id }));
        form.reset();
        await load(true);
      }).finally(() => { submit.disabled = false; });
    });
  }

  more.addEventListener("click", () => void load(false));
  void (async () => {
    names = await communeNames(app);
    try {
      services = await open311<Service[]>("services.json");
    } catch (error) {
      status.textContent = errorText(app, error);
    }
    if (app.can("report:record") && services.length) buildForm();
    await load(true);
  })();
  return () => undefined;
};
