// REST under /api/v1. Staff are authenticated by the HttpOnly login cookie; every
// change carries the CSRF token that login returned (kept for this tab only).

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) { super(message); }
}

const CSRF_KEY = "tj.csrf";

export function csrf(): string { return sessionStorage.getItem(CSRF_KEY) ?? ""; }

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf();
  const r = await fetch(path.startsWith("/") ? path : `/api/v1/${path}`, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const ct = r.headers.get("Content-Type") ?? "";
  const data = ct.includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    const e = (data && typeof data === "object" && (data as any).error) || {};
    throw new ApiError(r.status, e.code ?? "http_error", e.message ?? `HTTP ${r.status}`);
  }
  return data as T;
}

export interface User { id: string; username: string; display_name: string; role: string; office_id: string; office_time_zone?: string }

export async function login(username: string, password: string): Promise<User> {
  const out = await api<{ user: User; csrf_token: string }>("POST", "auth/login", { username, password });
  sessionStorage.setItem(CSRF_KEY, out.csrf_token);
  return out.user;
}

export async function logout(): Promise<void> {
  try { await api("POST", "auth/logout"); } finally { sessionStorage.removeItem(CSRF_KEY); }
}

/** The logged-in user, or null. A cookie without this tab's CSRF token counts as logged out,
 * because every change would be refused. */
export async function me(): Promise<User | null> {
  if (!csrf()) return null;
  try { return await api<User>("GET", "auth/me"); } catch { return null; }
}

let spec: Promise<Set<string>> | null = null;
/** Paths the server offers (from its OpenAPI document): optional packages add routes. */
export function apiPaths(): Promise<Set<string>> {
  spec ??= fetch("/api/openapi.json").then((r) => r.json())
    .then((d) => new Set(Object.keys(d.paths ?? {}))).catch(() => new Set<string>());
  return spec;
}

export async function hasApi(fragment: string): Promise<boolean> {
  for (const p of await apiPaths()) if (p.includes(fragment)) return true;
  return false;
}

export interface CaseOut { id: string; number: string; dispute_type: string; summary: string; status: string; mediator_id: string | null; allowed_moves: string[]; created_at: string }
export interface SessionOut { id: string; case_id: string; title: string; status: string; language: string; created_at: string; scheduled_at?: string | null; expected_minutes?: number | null; started_at: string | null; ended_at: string | null }
export interface InviteOut { id: string; session_id: string; role: string; side: string | null; label: string; expires_at: string; uses: number; max_uses: number; revoked: boolean; contact_masked?: string | null; notified?: string | null;
  declined_at?: string | null; decline_reason?: string | null }
export interface InviteCreated { id: string; url: string; token: string; role: string; side: string | null; label: string; expires_at: string }
