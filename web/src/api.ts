// Calls to /api/v1 with the session cookie; changes carry the CSRF token the sign-in gave.
import { ApiError, type Api, type Me, type Problem } from "./app";

const BASE = "/api/v1";

type Params = Record<string, string | number | boolean | undefined>;

function url(path: string, params?: Params): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return `${BASE}${path}${text ? `?${text}` : ""}`;
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = (await response.json()) as Partial<Problem>;
    return { ...body, status: response.status };
  } catch {
    return { status: response.status, title: response.statusText };
  }
}

async function call<T>(method: string, path: string, csrf: string | null | undefined, body?: unknown, params?: Params): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(url(path, params), {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401) window.dispatchEvent(new CustomEvent("beffroi:signed-out"));
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** The API as the signed-in user; the token is the one sign-in (or /auth/me) gave. */
export function createApi(csrf: string | null | undefined): Api {
  return {
    get: <T>(path: string, params?: Params) => call<T>("GET", path, csrf, undefined, params),
    post: <T>(path: string, body?: unknown) => call<T>("POST", path, csrf, body ?? {}),
    patch: <T>(path: string, body?: unknown) => call<T>("PATCH", path, csrf, body ?? {}),
    put: <T>(path: string, body?: unknown) => call<T>("PUT", path, csrf, body ?? {}),
    del: (path: string) => call<void>("DELETE", path, csrf),
  };
}

/** Who is signed in, or null when nobody is. */
export async function whoAmI(): Promise<Me | null> {
  const response = await fetch(url("/auth/me"), { credentials: "same-origin" });
  if (response.status === 401) return null;
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return (await response.json()) as Me;
}

export async function signIn(username: string, password: string): Promise<Me> {
  return call<Me>("POST", "/auth/login", null, { username, password });
}

export async function signOut(csrf: string | null | undefined): Promise<void> {
  await call<unknown>("POST", "/auth/logout", csrf, {});
}
