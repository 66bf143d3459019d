// The draft agreement, read live by everyone in its space, and the signing step (one-time
// code and a drawn signature). The server renders the preview; it is copied here through
// an allow-list of plain elements with no attributes, so no markup from the document can
// run or restyle the page.

import { clear, h, toast } from "../dom";
import { t } from "../i18n";
import type { RoomClient } from "../room";
import { icon } from "../ui";
import { draftEditor } from "./drafting";

interface DraftEvent { draft_id: string; kind: string; version: number; digest: string; html: string; caucus_id: string | null; changes: string[]; esign_applies: boolean }
interface Signer { signer_id: string; name: string; role_label: string; participant_id: string | null; signed: boolean }
interface SignatureEvent { event: string; ceremony_id: string; draft_id: string; version: number; digest: string; status: string; signers: Signer[]; missing: string[] }

const ALLOWED = new Set(["H1", "H2", "H3", "H4", "P", "OL", "UL", "LI", "TABLE", "THEAD", "TBODY", "TR", "TD", "TH",
  "STRONG", "EM", "B", "I", "BR", "DIV", "SPAN", "SECTION", "ARTICLE", "HEADER", "FOOTER", "DL", "DT", "DD", "HR"]);

function sanitize(html: string): DocumentFragment {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const out = document.createDocumentFragment();
  const copy = (src: Node, dst: Node): void => {
    for (const n of Array.from(src.childNodes)) {
      if (n.nodeType === Node.TEXT_NODE) { dst.appendChild(document.createTextNode(n.textContent ?? "")); continue; }
      if (n.nodeType !== Node.ELEMENT_NODE) continue;
      const el = n as Element;
      if (["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT"].includes(el.tagName)) continue;
      if (!ALLOWED.has(el.tagName)) { copy(el, dst); continue; }
      // Document headings sit below the panel's own h2.
      const tag = /^H[1-4]$/.test(el.tagName) ? `h${Math.min(6, Number(el.tagName[1]) + 2)}` : el.tagName.toLowerCase();
      const c = document.createElement(tag);
      for (const a of ["colspan", "rowspan"]) if (el.hasAttribute(a)) c.setAttribute(a, el.getAttribute(a)!);
      copy(el, c);
      dst.appendChild(c);
    }
  };
  copy(doc.body, out);
  return out;
}

class AgreementState {
  drafts = new Map<string, DraftEvent>();
  ceremonies = new Map<string, SignatureEvent>();
  views = new Set<() => void>();
  sentTo = new Map<string, string>();

  constructor(public room: RoomClient) {
    room.on("draft", (d: DraftEvent) => { this.drafts.set(d.draft_id, d); this.changed(); });
    room.on("signature", (s: SignatureEvent) => { this.ceremonies.set(s.ceremony_id, s); this.changed(); });
    room.on("sealed", () => { toast(t("sealedNotice")); });
    const load = async (): Promise<void> => {
      const a = await room.call("draft_list", {});
      if (!a.ok) return;
      for (const d of (a.drafts ?? []) as { draft_id: string }[]) {
        const g = await room.call("draft_get", { draft_id: d.draft_id });
        if (!g.ok) continue;
        if (g.draft) this.drafts.set(g.draft.draft_id, g.draft);
        for (const c of g.signing ?? []) this.ceremonies.set(c.ceremony_id, c);
      }
      this.changed();
    };
    room.on("phase", (p) => { if (p === "room") void load(); });
    if (room.phase === "room") void load();
  }

  changed(): void { for (const f of this.views) f(); }

  latest(): DraftEvent | null {
    const all = [...this.drafts.values()];
    return all.length ? all[all.length - 1] : null;
  }

  ceremonyFor(d: DraftEvent): SignatureEvent | null {
    const list = [...this.ceremonies.values()].filter((c) => c.draft_id === d.draft_id && c.status !== "void");
    return list.length ? list[list.length - 1] : null;
  }
}

const states = new WeakMap<RoomClient, AgreementState>();

export function agreementPanel(room: RoomClient, editor: boolean, sessionId = ""): HTMLElement {
  let st = states.get(room);
  if (!st) { st = new AgreementState(room); states.set(room, st); }
  const state = st;
  const body = h("div", { class: "agreement-body" });
  const el = h("section", { class: "panel agreement", "aria-labelledby": "agr-h" },
    h("h2", { id: "agr-h" }, icon("doc"), t("agreement")),
    editor ? draftEditor(room, sessionId, () => state.latest()) : null, body);
  const render = (): void => {
    if (!el.isConnected && body.childNodes.length) { state.views.delete(render); return; }
    const d = state.latest();
    if (!d) { clear(body, h("p", { class: "muted" }, t("agreementNone"))); return; }
    const c = state.ceremonyFor(d);
    const me = room.me?.participant_id;
    const mine = c?.signers.find((s) => s.participant_id === me);
    clear(body,
      h("p", { class: "muted" }, `v${d.version}${d.changes.length ? ` · ${d.changes.slice(0, 3).join("、")}` : ""}`),
      h("div", { class: "agreement-doc", tabindex: "0", role: "document", "aria-label": t("agreement") }, sanitize(d.html)),
      c ? h("ul", { class: "list signers" }, c.signers.map((s) => h("li", { class: "row" },
        h("span", {}, h("strong", {}, s.name), ` · ${s.role_label}`),
        h("span", { class: s.signed ? "badge st-live" : "badge" }, s.signed ? t("signed") : t("notSigned"))))) : null,
      editor ? h("div", { class: "row-actions" },
        !c ? h("button", { class: "btn btn-primary", type: "button", id: "signing-open", onclick: async () => {
          const a = await room.call("signing_open", { draft_id: d.draft_id });
          if (!a.ok) toast(a.error?.message ?? "", "error");
        } }, t("startSigning")) : null,
        c && !c.missing.length ? h("button", { class: "btn", type: "button", onclick: async () => {
          const a = await room.call("draft_seal", { draft_id: d.draft_id });
          if (!a.ok) toast(a.error?.message ?? "", "error");
        } }, t("seal")) : null) : null,
      c && mine && !mine.signed ? signForm(room, state, c) : null);
  };
  state.views.add(render);
  render();
  return el;
}

function signForm(room: RoomClient, state: AgreementState, c: SignatureEvent): HTMLElement {
  const canvas = h("canvas", { class: "sigpad", width: "600", height: "220", "aria-label": t("signHint") });
  const g = canvas.getContext("2d")!;
  g.lineWidth = 4; g.lineCap = "round"; g.strokeStyle = "#111";
  let drawing = false, drawn = false;
  const pos = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); g.beginPath(); g.moveTo(...pos(e)); });
  canvas.addEventListener("pointermove", (e) => { if (!drawing) return; g.lineTo(...pos(e)); g.stroke(); drawn = true; });
  canvas.addEventListener("pointerup", () => { drawing = false; });
  const typed = h("input", { type: "text", id: "sig-typed", maxlength: "60", autocomplete: "name" });
  const code = h("input", { type: "text", id: "sig-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "12" });
  const sent = h("p", { class: "hint", role: "status" }, state.sentTo.get(c.ceremony_id) ?? "");
  const err = h("p", { class: "form-error", role: "alert" });
  return h("form", { class: "sign-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    const payload: Record<string, string> = { ceremony_id: c.ceremony_id, code: code.value.trim(), version_digest: c.digest };
    if (drawn) payload.image_png_b64 = canvas.toDataURL("image/png").split(",")[1];
    else if (typed.value.trim()) payload.typed_name = typed.value.trim();
    else { err.textContent = t("signHint"); return; }
    const a = await room.call("sign", payload);
    if (!a.ok) err.textContent = a.error?.message ?? "";
  } },
    h("h3", {}, t("signTitle")),
    h("button", { class: "btn", type: "button", onclick: async () => {
      const a = await room.call("signing_send_code", { ceremony_id: c.ceremony_id });
      if (!a.ok) { err.textContent = a.error?.message ?? ""; return; }
      const msg = `${t("codeSent")} ${a.sent_to ?? ""}`;
      state.sentTo.set(c.ceremony_id, msg);
      sent.textContent = msg;
    } }, t("getCode")), sent,
    h("div", { class: "field" }, h("label", { for: "sig-code" }, t("code")), code, h("p", { class: "hint" }, t("codeHint"))),
    h("p", {}, t("signHint")), canvas,
    h("button", { class: "btn btn-small", type: "button", onclick: () => { g.clearRect(0, 0, canvas.width, canvas.height); drawn = false; } }, t("clearSig")),
    h("div", { class: "field" }, h("label", { for: "sig-typed" }, t("typedName")), typed),
    err, h("button", { class: "btn btn-primary btn-block", type: "submit", id: "sign-submit" }, t("submitSig")));
}
