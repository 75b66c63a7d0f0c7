// The report form's logic without the DOM: what a report must hold before it is sent, the
// multipart body Open311 expects, and its answers read back. Kept pure so it is checked
// on its own (tests/browser/test_portal_report.py).

export interface Draft {
  serviceCode: string;
  lat: number | null;
  long: number | null;
  description: string;
  photo: Blob | null;
  // The service's extra questions (Open311 attributes) and the answers given, by code.
  questions: Question[];
  answers: Record<string, string>;
}

export interface Question {
  code: string;
  datatype: string;
  required: boolean;
  description: string;
  order: number;
  values: { key: string; name: string }[];
}

/** Something a draft lacks: the field Open311 names it by, and the sentence's key. */
export interface Lack {
  field: string;
  key: string;
}

export interface Service {
  service_code: string;
  service_name: string;
  description: string;
  group: string;
  metadata: boolean; // true: the service asks extra questions (services/{code}.json)
}

export interface Step {
  status: string;
  at: string;
  note: string;
}

export interface Request {
  service_request_id: string;
  status: "open" | "closed";
  status_notes: string;
  service_name: string;
  requested_datetime: string;
  expected_datetime: string | null;
  address: string;
  progress: Step[];
}

/** What is missing from a draft (empty when it may be sent). The server checks again;
 * this only spares a round trip. */
export function missing(draft: Draft): Lack[] {
  const lacks: Lack[] = [];
  if (!draft.serviceCode) lacks.push({ field: "service_code", key: "report.needService" });
  if (draft.lat === null || draft.long === null) lacks.push({ field: "lat", key: "report.needPlace" });
  if (!draft.description.trim()) lacks.push({ field: "description", key: "report.needDescription" });
  for (const question of draft.questions) {
    const answer = (draft.answers[question.code] ?? "").trim();
    if (question.required && !answer) lacks.push({ field: `attribute[${question.code}]`, key: "report.needAnswer" });
    else if (answer && question.datatype === "number" && !Number.isFinite(Number(answer))) {
      lacks.push({ field: `attribute[${question.code}]`, key: "report.needNumber" });
    }
  }
  return lacks;
}

/** The multipart body of POST requests.json: Open311's field names, the photo as `media`. */
export function formOf(draft: Draft): FormData {
  const form = new FormData();
  form.set("service_code", draft.serviceCode);
  // Six decimals are ~10 cm: more is noise from the device, not precision.
  form.set("lat", (draft.lat ?? 0).toFixed(6));
  form.set("long", (draft.long ?? 0).toFixed(6));
  form.set("description", draft.description.trim());
  // Only the current service's questions: answers left from another service are not sent.
  for (const question of draft.questions) {
    const answer = (draft.answers[question.code] ?? "").trim();
    if (answer) form.set(`attribute[${question.code}]`, answer);
  }
  if (draft.photo) form.set("media", draft.photo);
  return form;
}

/** Open311's errors (`[{code, description}]`) as sentences; anything else as its status. */
export function errorsOf(status: number, body: unknown): string[] {
  if (Array.isArray(body)) {
    const said = body
      .map((item) => (item && typeof item === "object" ? (item as { description?: unknown }).description : null))
      .filter((text): text is string => typeof text === "string" && text.length > 0);
    if (said.length) return said;
  }
  return [`HTTP ${status}`];
}

/** The ticket in the answer to a posted request (`[{service_request_id, …}]`), or null. */
export function ticketOf(body: unknown): string | null {
  const first: unknown = Array.isArray(body) ? body[0] : null;
  const id = first && typeof first === "object" ? (first as { service_request_id?: unknown }).service_request_id : null;
  return typeof id === "string" && id ? id : null;
}

/** The one request of GET requests/{id}.json (the spec answers a list), or null. */
export function requestOf(body: unknown): Request | null {
  const first: unknown = Array.isArray(body) ? body[0] : body;
  if (!first || typeof first !== "object" || !("service_request_id" in first)) return null;
  const request = first as Request;
  return { ...request, progress: Array.isArray(request.progress) ? request.progress : [] };
}
