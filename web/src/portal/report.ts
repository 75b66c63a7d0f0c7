// "Report a problem" and "follow my report", over Open311 GeoReport v2 (/open311/v2/):
// the citizen picks a service, places the problem (their device's position or a click on
// the map), describes it, may add a photo, and gets a ticket to follow the work with.
import { h } from "../dom";
import { getJson, HttpError, OPEN311 } from "./api";
import { pickMap } from "./map";
import { link, go, type Portal } from "./nav";
import { errorsOf, formOf, missing, requestOf, ticketOf, type Draft, type Question, type Service } from "./open311";

export async function reportPage(main: HTMLElement, portal: Portal): Promise<void> {
  const { t } = portal;
  const draft: Draft = { serviceCode: "", lat: null, long: null, description: "", photo: null, questions: [], answers: {} };
  const questions = h("div", { class: "portal-form", "data-testid": "report-questions" });
  const service = h("select", { id: "report-service", required: true, "data-testid": "report-service" });
  const where = h("p", { class: "portal-muted", "aria-live": "polite", "data-testid": "report-where" }, t("report.where"));
  const mapBox = h("div", { class: "portal-map", "data-testid": "report-map" });
  const description = h("textarea", { id: "report-description", rows: 4, maxlength: 4000, required: true, "data-testid": "report-description" });
  const photo = h("input", { id: "report-photo", type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", "data-testid": "report-photo" });
  const problems = h("ul", { class: "portal-error", role: "alert", "data-testid": "report-errors" });
  const send = h("button", { type: "submit", class: "portal-button", "data-testid": "report-send" }, t("report.send"));
  const locate = h("button", { type: "button", "data-testid": "report-locate" }, t("report.locate"));
  const form = h(
    "form",
    { class: "portal-form", novalidate: true },
    h("label", { for: "report-service" }, t("report.service")),
    service,
    questions,
    where,
    locate,
    mapBox,
    h("label", { for: "report-description" }, t("report.description")),
    description,
    h("label", { for: "report-photo" }, t("report.photo")),
    photo,
    problems,
    send,
  );
  main.replaceChildren(h("h1", {}, t("report.title")), form);

  const say = (lines: string[]): void => problems.replaceChildren(...lines.map((line) => h("li", {}, line)));
  const map = pickMap(mapBox, (lat, lon) => {
    draft.lat = lat;
    draft.long = lon;
    where.textContent = t("report.located", { lat: lat.toFixed(5), long: lon.toFixed(5) });
  });
  locate.addEventListener("click", () => {
    if (!("geolocation" in navigator)) return say([t("report.noLocation")]);
    navigator.geolocation.getCurrentPosition(
      (position) => map.place(position.coords.latitude, position.coords.longitude),
      () => say([t("report.noLocation")]),
      { enableHighAccuracy: true, timeout: 15_000 },
    );
  });

  let services: Service[] = [];
  service.addEventListener("change", () => {
    const chosen = services.find((s) => s.service_code === service.value);
    draft.questions = [];
    questions.replaceChildren();
    if (!chosen?.metadata) return;
    const code = chosen.service_code;
    getJson<{ attributes: Question[] }>(`${OPEN311}/services/${encodeURIComponent(code)}.json`).then(
      (definition) => {
        if (service.value !== code) return; // another service was chosen meanwhile
        draft.questions = [...definition.attributes].sort((a, b) => a.order - b.order);
        questions.replaceChildren(...draft.questions.flatMap((q) => questionField(q, portal)));
      },
      (error: unknown) => say([t("common.error", { status: error instanceof HttpError ? error.status : 0 })]),
    );
  });
  try {
    services = await getJson<Service[]>(`${OPEN311}/services.json`);
    service.replaceChildren(
      h("option", { value: "" }, t("report.choose")),
      ...services.map((s) => h("option", { value: s.service_code, title: s.description }, s.service_name)),
    );
  } catch (error) {
    say([t("common.error", { status: error instanceof HttpError ? error.status : 0 })]);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    draft.serviceCode = service.value;
    draft.description = description.value;
    draft.photo = photo.files?.[0] ?? null;
    draft.answers = {};
    for (const q of draft.questions) {
      const input = questions.querySelector<HTMLInputElement | HTMLSelectElement>(`#${CSS.escape(`attribute-${q.code}`)}`);
      draft.answers[q.code] = input?.value ?? "";
    }
    const lacking = missing(draft);
    if (lacking.length) return say(lacking.map((lack) => t(lack.key, { field: lack.field })));
    say([]);
    send.disabled = true;
    send.textContent = t("report.sending");
    void submit(draft).then(
      (ticket) => main.replaceChildren(h("h1", {}, t("report.title")), done(ticket, portal)),
      (lines: string[]) => {
        say(lines);
        send.disabled = false;
        send.textContent = t("report.send");
      },
    );
  });
}

/** A label and an input for one of the service's questions: a list as a select, else a text or number. */
function questionField(q: Question, portal: Portal): HTMLElement[] {
  const { t } = portal;
  const id = `attribute-${q.code}`;
  const attrs = { id, required: q.required, "data-testid": `report-attribute-${q.code}` };
  const input =
    q.datatype === "singlevaluelist" || q.datatype === "multivaluelist"
      ? h("select", attrs, h("option", { value: "" }, t("report.choose")), ...q.values.map((v) => h("option", { value: v.key }, v.name)))
      : h("input", { ...attrs, type: "text", inputmode: q.datatype === "number" ? "decimal" : null, maxlength: 200 });
  return [h("label", { for: id }, q.required ? q.description : `${q.description} ${t("report.optional")}`), input];
}

/** Posts the report; resolves to its ticket, rejects with the sentences to show. */
async function submit(draft: Draft): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${OPEN311}/requests.json`, { method: "POST", body: formOf(draft), credentials: "omit" });
  } catch {
    throw ["HTTP 0"];
  }
  const body: unknown = await response.json().catch(() => null);
  const ticket = response.ok ? ticketOf(body) : null;
  if (ticket === null) throw errorsOf(response.status, body);
  return ticket;
}

function done(ticket: string, portal: Portal): HTMLElement {
  const { t } = portal;
  return h(
    "section",
    { class: "portal-done" },
    h("p", {}, t("report.thanks")),
    h("p", { class: "portal-ticket", "data-testid": "report-ticket" }, ticket),
    link(`/follow/${encodeURIComponent(ticket)}`, t("report.followIt")),
  );
}

export async function followPage(main: HTMLElement, portal: Portal, ticket: string): Promise<void> {
  const { t } = portal;
  const input = h("input", { id: "follow-ticket", value: ticket, required: true, autocomplete: "off", "data-testid": "follow-ticket" });
  const result = h("div", { "aria-live": "polite", "data-testid": "follow-result" });
  const form = h(
    "form",
    { class: "portal-form" },
    h("label", { for: "follow-ticket" }, t("follow.ticket")),
    input,
    h("button", { type: "submit", class: "portal-button", "data-testid": "follow-show" }, t("follow.show")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const asked = input.value.trim();
    if (asked) go(`/follow/${encodeURIComponent(asked)}`);
  });
  main.replaceChildren(h("h1", {}, t("follow.title")), form, result);
  if (!ticket) return;
  result.replaceChildren(h("p", {}, t("common.loading")));
  try {
    const request = requestOf(await getJson(`${OPEN311}/requests/${encodeURIComponent(ticket)}.json`));
    if (request === null) throw new HttpError(404, null);
    result.replaceChildren(status(request, portal));
  } catch (error) {
    const code = error instanceof HttpError ? error.status : 0;
    result.replaceChildren(h("p", { class: "portal-error", role: "alert" }, code === 404 ? t("follow.unknown") : t("common.error", { status: code })));
  }
}

function status(request: NonNullable<ReturnType<typeof requestOf>>, portal: Portal): HTMLElement {
  const { t, lang } = portal;
  const when = (iso: string) => new Date(iso).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB");
  return h(
    "section",
    { class: "portal-request" },
    h("h2", {}, request.service_name),
    h("p", {}, `${t("follow.status")} : `, h("strong", { "data-testid": "follow-status" }, t(`follow.${request.status}`)), " — ", request.status_notes),
    request.address ? h("p", {}, request.address) : null,
    request.expected_datetime && request.status === "open" ? h("p", {}, t("follow.expected", { date: when(request.expected_datetime) })) : null,
    h("h3", {}, t("follow.progress")),
    h(
      "ol",
      { class: "portal-progress", "data-testid": "follow-progress" },
      ...request.progress.map((step) =>
        h("li", { "data-status": step.status }, h("strong", {}, t(`step.${step.status}`)), ` · ${when(step.at)}`, step.note ? h("p", {}, step.note) : null),
      ),
    ),
  );
}
