// The clerk's console: find cases, read a session's joint record (what was said in a
// caucus is never shown here), and downloads and verification once the agreements
// package offers them.

import { api, csrf, hasApi, type CaseOut, type SessionOut, type User } from "../api";
import { clear, fmtTime, h, toast } from "../dom";
import { caseBadge, casePanel } from "../caseStates";
import { eventLabel } from "../eventlabels";
import { statusName, t } from "../i18n";
import { prefs } from "../prefs";
import { LocalMedia, MediaSession } from "../media";
import { RoomClient } from "../room";
import { onRerender, page } from "../ui";
import { RoomView } from "./roomview";
import { transcriptReview } from "./transcriptreview";
import { documentsList } from "./documents";
import { logoutButton, requireUser } from "./login";

interface EventOut { seq: number; at: string; kind: string; actor_id: string | null; caucus_id: string | null; payload: Record<string, unknown> }

export async function clerkPage(app: HTMLElement): Promise<void> {
  const user = await requireUser();
  if (!user) return;
  const sid = new URLSearchParams(location.search).get("session");
  if (sid) { clerkRoom(app, user, sid); return; }
  render(app, user);
  onRerender(() => render(app, user));
}

function render(app: HTMLElement, user: User): void {
  const results = h("ul", { class: "list", id: "clerk-cases" });
  const detail = h("div", { class: "clerk-detail", id: "clerk-detail" });
  const q = h("input", { type: "search", id: "clerk-q", placeholder: t("searchCases"), "aria-label": t("searchCases") });
  const search = async (): Promise<void> => {
    try {
      const { items } = await api<{ items: CaseOut[] }>("GET", `cases?q=${encodeURIComponent(q.value)}`);
      clear(results, items.length ? items.map((c) => h("li", {}, h("button", { class: "row-link", type: "button",
        onclick: () => void showCase(c, user, detail) },
        h("strong", {}, c.number), h("span", { class: "muted" }, ` · ${c.dispute_type} `), caseBadge(c.status))))
        : h("li", { class: "muted" }, t("noCases")));
    } catch (x) { toast((x as Error).message, "error"); }
  };
  const verifyBody = h("div", {}, h("p", { class: "muted" }, t("verifySoon")));
  const verify = h("section", { class: "card", "aria-labelledby": "vf-h" }, h("h2", { id: "vf-h" }, t("verify")), verifyBody);
  void hasApi("documents/verify").then((yes) => { if (yes) verifyBody.replaceChildren(verifyForm()); });
  clear(app, page(t("clerkConsole"), [h("h1", { class: "page-title" }, t("clerkConsole")),
    h("div", { class: "columns" },
      h("section", { class: "card", "aria-labelledby": "cs-h" }, h("h2", { id: "cs-h" }, t("cases")),
        h("form", { class: "inline-form", role: "search", onsubmit: (e: Event) => { e.preventDefault(); void search(); } },
          q, h("button", { class: "btn btn-primary", type: "submit" }, t("search"))), results),
      h("div", {}, detail, verify))],
    [h("span", { class: "user" }, user.display_name), logoutButton()]));
  void search();
}

function verifyForm(): HTMLElement {
  const file = h("input", { type: "file", id: "verify-file", accept: "application/pdf,.pdf" });
  const out = h("div", { id: "verify-result", role: "status", "aria-live": "polite" });
  return h("form", { onsubmit: async (e: Event) => {
    e.preventDefault();
    const f = file.files?.[0];
    if (!f) return;
    out.textContent = "…";
    const r = await fetch("/api/v1/documents/verify", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/pdf", "X-CSRF-Token": csrf() }, body: f });
    const d = await r.json().catch(() => ({}));
    if (!r.ok) { clear(out, h("p", { class: "form-error" }, d?.error?.message ?? `HTTP ${r.status}`)); return; }
    clear(out, h("p", { class: d.authentic ? "verdict ok" : "verdict bad" }, d.authentic ? t("authentic") : t("notAuthentic")),
      d.signer ? h("p", {}, `${t("signer")}：${d.signer}`) : null,
      h("p", { class: "muted mono" }, `SHA-256 ${d.document_sha256}`),
      (d.reasons ?? []).length ? h("ul", {}, (d.reasons as string[]).map((x) => h("li", {}, x))) : null);
  } }, h("p", {}, t("verifyHint")), h("label", { for: "verify-file" }, t("verifyFile")), file,
    h("button", { class: "btn btn-primary", type: "submit", id: "verify-btn" }, t("verify")), out);
}

async function showCase(c: CaseOut, user: User, el: HTMLElement): Promise<void> {
  const { items } = await api<{ items: SessionOut[] }>("GET", `cases/${c.id}/sessions`);
  const log = h("ul", { class: "transcript-list" });
  const review = h("div", { id: "transcript-review" });
  const state = await casePanel(c, user, () => {});
  clear(el, h("section", { class: "card", "aria-labelledby": "cd-h" }, h("h2", { id: "cd-h" }, c.number, caseBadge(c.status)),
    c.summary ? h("p", {}, c.summary) : null, state,
    h("ul", { class: "list" }, items.map((s) => h("li", { class: "row" },
      h("span", {}, s.title || s.id, h("span", { class: `badge st-${s.status}` }, statusName(s.status))),
      s.status === "live" ? h("a", { class: "btn btn-small btn-primary", href: `/clerk?session=${s.id}` }, t("enterRoom")) : null,
      h("button", { class: "btn btn-small", type: "button", onclick: async () => {
        const ev = await api<{ items: EventOut[] }>("GET", `sessions/${s.id}/events`);
        clear(log, ev.items.map((e) => h("li", { "data-kind": e.kind }, h("span", { class: "muted" }, fmtTime(e.at)), " ",
          h("strong", { title: e.kind }, eventLabel(e.kind)), " ",
          typeof e.payload.text === "string" ? e.payload.text : typeof e.payload.name === "string" ? e.payload.name : "")));
      } }, t("events")),
      h("button", { class: "btn btn-small", type: "button", "data-review": s.id,
        onclick: () => void transcriptReview(s.id, review) }, prefs.lang === "en" ? "Review transcript" : "转录校对")))),
    await documentsList(c.id),
    review,
    h("h3", {}, t("events")), h("div", { class: "transcript", tabindex: "0", role: "region", "aria-label": t("events") }, log)));
}

/** The clerk in a live session: the room as a participant sees it (the recorder signs). */
function clerkRoom(app: HTMLElement, user: User, sessionId: string): void {
  const room = new RoomClient({ kind: "staff", session_id: sessionId });
  const local = new LocalMedia();
  const media = new MediaSession(room, local);
  let view: RoomView | null = null;
  const render = (): void => {
    if (room.phase !== "room") {
      clear(app, page(t("clerkConsole"), [h("div", { class: "card end" },
        h("h1", { id: "end-title" }, room.phase === "ended" ? t("sessionEnded") : room.phase === "connecting" ? t("joining") : t("leftTitle")),
        room.lastError ? h("p", {}, room.lastError.message) : null,
        h("a", { class: "btn btn-primary", href: "/clerk" }, t("back")))], [h("span", { class: "user" }, user.display_name), logoutButton()]));
      return;
    }
    view ??= new RoomView(room, media, local);
    view.render();
    clear(app, page(t("clerkConsole"), [view.el], [h("span", { class: "user" }, user.display_name), logoutButton()], "main main-room"));
  };
  onRerender(render);
  room.on("phase", render);
  room.on("joined", () => { render(); if (media.status === "off") void local.open().then(() => media.start()); });
  room.connect();
  render();
}
