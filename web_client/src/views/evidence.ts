// Evidence (证据) in the room: a party uploads a file (PNG, JPEG or PDF) that only the
// mediator sees at first; the mediator shows it to the space they are in, and everyone
// there gets an item they can download. Downloads need the seat header (a plain link
// cannot carry it), so they are fetched and saved through a blob URL.

import { csrf } from "../api";
import { announce, clear, h, newId, toast } from "../dom";
import { prefs } from "../prefs";
import { RoomClient, type CurrentExhibit } from "../room";
import { exhibitViewer, type ExhibitViewer } from "./exhibitviewer";

const zh = {
  evidence: "证据", showEvidence: "出示证据", evTitle: "证据名称", evFile: "文件（PNG、JPEG 或 PDF，不超过 10 MB）",
  evUpload: "上传证据", evUploaded: "已上传“{title}”。调解员将决定向谁出示。", evUploading: "正在上传…",
  evNoFile: "请选择一个文件。", unsupported_type: "只能上传 PNG、JPEG 图片或 PDF 文件。",
  payload_too_large: "文件太大：证据文件不能超过 10 MB。", not_in_room: "您尚未进入调解室，暂不能上传。",
  evFailed: "上传失败：", evInSession: "本场次已上传的证据", evNone: "还没有上传的证据。", evRefresh: "刷新列表",
  evShowHere: "向当前房间出示", evShown: "已出示", evReceived: "已出示的证据", evNoneShown: "还没有出示的证据。",
  evDownload: "下载", evDownloadFailed: "下载失败：", evNewShown: "新证据：{title}",
  evView: "查看", evPresent: "向当前房间展示", evNewUpload: "新上传的证据：{title}",
};
const en: typeof zh = {
  evidence: "Evidence", showEvidence: "Show evidence", evTitle: "Title", evFile: "File (PNG, JPEG or PDF, at most 10 MB)",
  evUpload: "Upload evidence", evUploaded: "“{title}” uploaded. The mediator will decide who sees it.", evUploading: "Uploading…",
  evNoFile: "Please choose a file.", unsupported_type: "Only PNG or JPEG images and PDF files can be uploaded.",
  payload_too_large: "The file is too large: evidence may be at most 10 MB.", not_in_room: "You are not in the room yet, so you cannot upload.",
  evFailed: "Upload failed: ", evInSession: "Evidence uploaded in this session", evNone: "No evidence uploaded yet.", evRefresh: "Refresh list",
  evShowHere: "Show here", evShown: "Shown", evReceived: "Evidence shown", evNoneShown: "No evidence shown yet.",
  evDownload: "Download", evDownloadFailed: "Download failed: ", evNewShown: "New evidence: {title}",
  evView: "View", evPresent: "Present to this room", evNewUpload: "New upload: {title}",
};
type K = keyof typeof zh;
function tt(key: K, vars: Record<string, string> = {}): string {
  let s = (prefs.lang === "en" ? en : zh)[key];
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

const MAX_BYTES = 10 * 1024 * 1024;

export interface EvidenceItem { id: string; title: string; content_type: string; size: number; sha256: string; download: string }
interface Uploaded { id: string; title: string; uploader: string; seq: number; content_type?: string }

/** Headers that prove who is asking: the seat (parties) and the login's CSRF token (staff). */
export function authHeaders(): Record<string, string> {
  const out: Record<string, string> = {};
  const seat = RoomClient.resumeToken();
  if (seat) out["X-Seat-Token"] = seat;
  const c = csrf();
  if (c) out["X-CSRF-Token"] = c;
  return out;
}

async function errorText(r: Response): Promise<{ code: string; message: string }> {
  const d = await r.json().catch(() => ({}));
  // A body refused before the application sees it (proxy, server limit) has no JSON error.
  const code = d?.error?.code ?? (r.status === 413 ? "payload_too_large" : r.status === 415 ? "unsupported_type" : "http_error");
  return { code, message: d?.error?.message ?? `HTTP ${r.status}` };
}

function explain(e: { code: string; message: string }): string {
  return e.code in zh ? tt(e.code as K) : e.message;
}

function extOf(ct: string): string {
  return ct === "image/png" ? "png" : ct === "image/jpeg" ? "jpg" : ct === "application/pdf" ? "pdf" : "bin";
}

/** The bytes of a piece of evidence, for the in-page viewer (same checks as a download). */
export async function fetchEvidence(id: string): Promise<Blob> {
  const r = await fetch(`/api/v1/evidence/${encodeURIComponent(id)}`, { credentials: "same-origin", headers: authHeaders() });
  if (!r.ok) throw new Error(explain(await errorText(r)));
  return await r.blob();
}

/** The room's exhibit viewer (views/exhibitviewer.ts), fed through the evidence route. */
export function roomExhibitViewer(room: RoomClient): ExhibitViewer {
  return exhibitViewer(room, fetchEvidence);
}

export async function downloadEvidence(id: string, title: string, contentType = ""): Promise<void> {
  const r = await fetch(`/api/v1/evidence/${encodeURIComponent(id)}`, { credentials: "same-origin", headers: authHeaders() });
  if (!r.ok) { toast(tt("evDownloadFailed") + explain(await errorText(r)), "error"); return; }
  const blob = await r.blob();
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: `${title || "evidence"}.${extOf(contentType)}`, class: "sr-only" });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function fmtSize(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

/** What a room keeps across re-renders: evidence shown to me, evidence uploaded (mediator). */
class EvidenceState {
  shown: EvidenceItem[] = [];
  uploaded: Uploaded[] = [];
  shownIds = new Set<string>();
  after = 0;
  views = new Set<() => void>();
  constructor(public room: RoomClient) {
    room.on("evidence", (e: EvidenceItem) => {
      if (!this.shown.some((x) => x.id === e.id)) this.shown.push(e);
      this.shownIds.add(e.id);
      announce(tt("evNewShown", { title: e.title }));
      // Shown to my space: open it here and follow the presenter's page.
      const viewer = roomExhibitViewer(room);
      if (!(viewer.presenter && viewer.current?.id === e.id)) void viewer.open(e, false);
      this.changed();
    });
    // Shown before I joined (or while I was away): the welcome or admission carries it.
    const current = (x: CurrentExhibit): void => {
      const e = x.evidence;
      if (!this.shown.some((s) => s.id === e.id)) this.shown.push(e);
      this.shownIds.add(e.id);
      const viewer = roomExhibitViewer(room);
      if (viewer.current?.id === e.id) void viewer.go(x.page, false);
      else void viewer.open(e, room.me?.grants?.room_admin === true, x.page);
      this.changed();
    };
    room.on("exhibit", current);
    if (room.exhibit) current(room.exhibit);
    // A new upload reaches the mediator over the socket at once (no polling).
    room.on("evidence_uploaded", (e: { id: string; title: string; uploader: string; content_type: string }) => {
      if (!this.uploaded.some((u) => u.id === e.id)) {
        this.uploaded.push({ id: e.id, title: e.title, uploader: e.uploader, seq: 0, content_type: e.content_type });
        announce(tt("evNewUpload", { title: e.title }));
        this.changed();
      }
    });
  }
  changed(): void { for (const v of [...this.views]) v(); }
  async refresh(sessionId: string): Promise<void> {
    const r = await fetch(`/api/v1/sessions/${encodeURIComponent(sessionId)}/events?after=${this.after}`,
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) return;
    const d = await r.json() as { items: { seq: number; kind: string; payload: Record<string, unknown> }[] };
    for (const e of d.items) {
      this.after = Math.max(this.after, e.seq);
      if (e.kind === "evidence.uploaded" && typeof e.payload.evidence_id === "string"
          && !this.uploaded.some((u) => u.id === e.payload.evidence_id)) {
        this.uploaded.push({ id: e.payload.evidence_id, title: String(e.payload.title ?? ""),
          uploader: String(e.payload.uploader ?? ""), seq: e.seq, content_type: String(e.payload.content_type ?? "") });
      }
      if (e.kind === "evidence.shown" && typeof e.payload.evidence_id === "string") this.shownIds.add(e.payload.evidence_id);
    }
    this.changed();
  }
}
const states = new WeakMap<RoomClient, EvidenceState>();

/** The evidence panel: upload (parties and staff who are not mediators), the session's
 * uploads with "show here" (mediator), and the pieces shown to my space (everyone). */
export function evidencePanel(room: RoomClient, admin: boolean): HTMLElement {
  let st = states.get(room);
  if (!st) { st = new EvidenceState(room); states.set(room, st); }
  const state = st;
  const sessionId = room.me?.session_id ?? "";
  const shownList = h("ul", { class: "list evidence-list", id: "evidence-shown" });
  const uploadedList = h("ul", { class: "list evidence-list", id: "evidence-uploaded" });
  const el = h("section", { class: "panel evidence", "aria-labelledby": "ev-h" },
    h("h2", { id: "ev-h" }, tt("evidence")),
    uploadForm(room),
    admin ? h("div", { class: "evidence-admin" },
      h("h3", {}, tt("evInSession")),
      h("button", { class: "btn btn-small", type: "button", id: "evidence-refresh",
        onclick: () => void state.refresh(sessionId) }, tt("evRefresh")),
      uploadedList) : null,
    h("h3", {}, tt("evReceived")), shownList);
  const render = (): void => {
    if (!el.isConnected && el.dataset.mounted) { state.views.delete(render); return; }
    clear(shownList, state.shown.length ? state.shown.map((e) => h("li", { class: "row evidence-item", "data-id": e.id },
      h("span", {}, h("strong", {}, e.title), h("span", { class: "muted" }, ` · ${extOf(e.content_type).toUpperCase()} · ${fmtSize(e.size)}`)),
      h("span", { class: "row-actions" },
        h("button", { class: "btn btn-small", type: "button", "aria-label": `${tt("evView")} ${e.title}`, "data-act": "view",
          onclick: () => void roomExhibitViewer(room).open(e, admin) }, tt("evView")),
        h("button", { class: "btn btn-small", type: "button", "aria-label": `${tt("evDownload")} ${e.title}`,
          onclick: () => void downloadEvidence(e.id, e.title, e.content_type) }, tt("evDownload")))))
      : h("li", { class: "muted" }, tt("evNoneShown")));
    if (admin) {
      clear(uploadedList, state.uploaded.length ? state.uploaded.map((u) => h("li", { class: "row evidence-upload", "data-id": u.id },
        h("span", {}, h("strong", {}, u.title), state.shownIds.has(u.id) ? h("span", { class: "muted" }, ` · ${tt("evShown")}`) : null),
        h("span", { class: "row-actions" },
          h("button", { class: "btn btn-small", type: "button", "aria-label": `${tt("evDownload")} ${u.title}`,
            onclick: () => void downloadEvidence(u.id, u.title) }, tt("evDownload")),
          h("button", { class: "btn btn-small btn-primary", type: "button", "aria-label": `${tt("evShowHere")}: ${u.title}`,
            onclick: async () => {
              // Open it as the presenter first, so that my own "evidence" echo does not
              // turn me into a follower.
              const viewer = roomExhibitViewer(room);
              const opening = viewer.open({ id: u.id, title: u.title, content_type: u.content_type ?? "" }, true);
              const a = await room.call("evidence_show", { evidence_id: u.id });
              if (!a.ok) { toast(a.error?.message ?? "", "error"); viewer.close(); return; }
              state.shownIds.add(u.id); state.changed();
              await opening;
            } }, tt("evShowHere")))))
        : h("li", { class: "muted" }, tt("evNone")));
    }
    el.dataset.mounted = "1";
  };
  state.views.add(render);
  render();
  // Uploads made before this page opened come from the session log; new ones arrive
  // over the socket (evidence_uploaded).
  if (admin && sessionId) void state.refresh(sessionId);
  return el;
}

function uploadForm(room: RoomClient): HTMLElement {
  const title = h("input", { type: "text", id: newId("ev-title"), maxlength: "120", autocomplete: "off" });
  const file = h("input", { type: "file", id: newId("ev-file"), accept: "image/png,image/jpeg,application/pdf" });
  const out = h("p", { class: "hint evidence-status", role: "status", "aria-live": "polite" });
  const submit = h("button", { class: "btn btn-primary", type: "submit", id: "evidence-upload" }, tt("evUpload"));
  const form = h("form", { class: "evidence-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    const f = file.files?.[0];
    out.className = "hint evidence-status";
    if (!f) { out.className = "form-error evidence-status"; out.textContent = tt("evNoFile"); file.focus(); return; }
    if (f.size > MAX_BYTES) { out.className = "form-error evidence-status"; out.textContent = tt("evFailed") + tt("payload_too_large"); return; }
    const name = title.value.trim() || f.name.replace(/\.[^.]*$/, "");
    const sid = room.me?.session_id ?? "";
    out.textContent = tt("evUploading");
    submit.disabled = true;
    try {
      const r = await fetch(`/api/v1/sessions/${encodeURIComponent(sid)}/evidence?title=${encodeURIComponent(name)}`, {
        method: "POST", credentials: "same-origin", body: f,
        headers: { ...authHeaders(), "Content-Type": "application/octet-stream" } });
      if (!r.ok) {
        out.className = "form-error evidence-status";
        out.textContent = tt("evFailed") + explain(await errorText(r));
        return;
      }
      const d = await r.json() as { title: string };
      out.textContent = tt("evUploaded", { title: d.title });
      title.value = ""; file.value = "";
    } catch (x) {
      out.className = "form-error evidence-status";
      out.textContent = tt("evFailed") + (x as Error).message;
    } finally { submit.disabled = false; }
  } },
  h("div", { class: "field" }, h("label", { for: title.id }, tt("evTitle")), title),
  h("div", { class: "field" }, h("label", { for: file.id }, tt("evFile")), file),
  submit, out);
  return h("details", { class: "evidence-upload-box" }, h("summary", { id: "evidence-open" }, tt("showEvidence")), form);
}
