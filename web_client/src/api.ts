// REST under /api/v1. Staff are authenticated by the HttpOnly login cookie; every
// change carries the CSRF token that login returned (kept for this tab only).
//
// The shapes of the server's replies come from its OpenAPI document: api-types.ts is
// generated from the server's models (`npm run gen:api`; never edit it by hand, a test
// checks it is current), so a field renamed on the server fails `tsc` where it is read.

import type { components } from "./api-types";

/** A model of the server's API, by its name in the OpenAPI document (`CaseOut`, `SessionList`). */
export type Schema<N extends keyof components["schemas"]> = components["schemas"][N];

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

/** Who is logged in: login answers `UserOut`, `auth/me` adds the office's time zone. */
export type User = Schema<"UserOut"> & Partial<Pick<Schema<"MeOut">, "office_time_zone">>;

export async function login(username: string, password: string): Promise<User> {
  const out = await api<Schema<"LoginOut">>("POST", "auth/login", { username, password } satisfies Schema<"LoginIn">);
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
  try { return await api<Schema<"MeOut">>("GET", "auth/me"); } catch { return null; }
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

export type CaseOut = Schema<"CaseOut">;
export type SessionOut = Schema<"SessionOut">;
export type InviteOut = Schema<"InviteOut">;
export type InviteCreated = Schema<"InviteCreated">;
