// The draft agreement, read live by everyone in its space; each party's check of what it
// says about them (on their own device); the signing step (one-time code and a drawn or
// typed signature); and, once sealed, each party's own copy. The server renders the
// preview; it is copied here through an allow-list (docview.ts).

import { ta, type TKey } from "../agreementText";
import { csrf } from "../api";
import { clear, h, toast } from "../dom";
import * as check from "../identity";
import { t } from "../i18n";
import { prefs } from "../prefs";
import { RoomClient } from "../room";
import { icon } from "../ui";
import { downloadCopy, kindName, sendCopy, verifyLine } from "./copies";
import { sanitize } from "./docview";
import { draftEditor } from "./drafting";
import { createRecordFromTranscript, openRecordEditor } from "./recordEditor";

interface DraftEvent { draft_id: string; kind: string; version: number; digest: string; html: string; caucus_id: string | null;
  changes: string[]; esign_applies: boolean; data?: any; language?: string; case_number?: string }
interface Signer { signer_id: string; name: string; acting_name?: string; role_label: string; participant_id: string | null; signed: boolean }
interface SignatureEvent { event: string; ceremony_id: string; draft_id: string; version: number; digest: string; status: string; signers: Signer[]; missing: string[] }
interface Sealed { draft_id: string; document_id: string; short_id?: string | null }
interface MyParty { party_id: string; acting_as: string; kind: string; details: any; printed: any; state: string }
interface Mine { draft_id: string; version: number; parties: MyParty[] }

class AgreementState {
  drafts = new Map<string, DraftEvent>();
  ceremonies = new Map<string, SignatureEvent>();
  sealed = new Map<string, Sealed>();
  mine = new Map<string, Mine>();
  views = new Set<() => void>();
  sentTo = new Map<string, string>();
  copyDays = 30;
  confirmations = new Map<string, Record<string, any>>();
  /** The draft the reader picked in the panel's list; null follows the newest. */
  selected: string | null = null;

  constructor(public room: RoomClient) {
    room.on("draft", (d: DraftEvent) => { this.drafts.set(d.draft_id, d); void this.loadMine(d); this.changed(); });
    room.on("signature", (s: SignatureEvent) => { this.ceremonies.set(s.ceremony_id, s); this.changed(); });
    room.on("party_confirmation", (c: any) => {
      const all = this.confirmations.get(c.draft_id) ?? {};
      all[c.party_id] = c;
      this.confirmations.set(c.draft_id, all);
      this.changed();
    });
    room.on("sealed", (s: Sealed) => { this.sealed.set(s.draft_id, s); toast(t("sealedNotice")); this.changed(); });
    const load = async (): Promise<void> => {
      const a = await room.call("draft_list", {});
      if (!a.ok) return;
      if (typeof a.copy_days === "number") this.copyDays = a.copy_days;
      for (const d of (a.drafts ?? []) as { draft_id: string; document_id: string | null; short_id?: string | null }[]) {
        if (d.document_id) this.sealed.set(d.draft_id, { draft_id: d.draft_id, document_id: d.document_id, short_id: d.short_id });
        const g = await room.call("draft_get", { draft_id: d.draft_id });
        if (!g.ok) continue;
        if (g.draft) { this.drafts.set(g.draft.draft_id, g.draft); await this.loadMine(g.draft); }
        if (g.confirmations) this.confirmations.set(d.draft_id, g.confirmations);
        for (const c of g.signing ?? []) this.ceremonies.set(c.ceremony_id, c);
      }
      this.changed();
    };
    room.on("phase", (p) => { if (p === "room") void load(); });
    if (room.phase === "room") void load();
  }

  isParty(): boolean { return ["party", "representative"].includes(this.room.me?.role ?? ""); }

  async loadMine(d: DraftEvent): Promise<void> {
    if (!this.isParty() || d.kind !== "agreement") return;
    const a = await this.room.call("party_details_get", { draft_id: d.draft_id });
    if (a.ok) { this.mine.set(d.draft_id, a as unknown as Mine); this.changed(); }
  }

  changed(): void { for (const f of this.views) f(); }

  latest(): DraftEvent | null {
    const all = [...this.drafts.values()];
    return all.length ? all[all.length - 1] : null;
  }

  /** The draft the panel shows: the one picked, else the newest. */
  current(): DraftEvent | null {
    return (this.selected ? this.drafts.get(this.selected) : undefined) ?? this.latest();
  }

  /** The agreement the editor works on: the one shown if it is an agreement, else the newest one. */
  agreement(): DraftEvent | null {
    const cur = this.current();
    if (cur?.kind === "agreement") return cur;
    const all = [...this.drafts.values()].filter((d) => d.kind === "agreement");
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
    editor ? draftEditor(room, sessionId, () => state.agreement()) : null,
    editor ? h("button", { class: "btn", type: "button", id: "record-from-transcript", onclick: async () => {
      const id = await createRecordFromTranscript(room);
      if (!id) return;
      state.selected = id;
      state.changed();
      await openRecordEditor(room, id);
    } }, ta("recordFromTranscript")) : null, body);
  const render = (): void => {
    if (!el.isConnected && body.childNodes.length) { state.views.delete(render); return; }
    const d = state.current();
    if (!d) { clear(body, h("p", { class: "muted" }, t("agreementNone"))); return; }
    const c = state.ceremonyFor(d);
    const me = room.me?.participant_id;
    const mine = c?.signers.find((s) => s.participant_id === me);
    const sealed = state.sealed.get(d.draft_id);
    // Opening signing, sealing and sending copies are the mediator's (the room admin's).
    const admin = editor && !!room.me?.grants?.room_admin;
    const myParties = state.mine.get(d.draft_id);
    const needsCheck = !editor && !sealed && myParties && myParties.version === d.version && !(mine && c)
      ? myParties.parties : [];
    clear(body,
      documentList(state, d),
      editor && d.kind === "record" && !c && !sealed ? h("button", { class: "btn", type: "button", id: "record-edit",
        onclick: () => void openRecordEditor(room, d.draft_id) }, ta("recordTitle")) : null,
      h("p", { class: "muted" }, `v${d.version}${d.changes.length ? ` · ${d.changes.slice(0, 3).join("、")}` : ""}`),
      needsCheck.map((p) => confirmCard(room, state, d, p)),
      h("div", { class: "agreement-doc", tabindex: "0", role: "document", "aria-label": t("agreement") }, sanitize(d.html)),
      editor && !c && !sealed ? confirmationList(d, state.confirmations.get(d.draft_id) ?? {}) : null,
      c ? h("ul", { class: "list signers" }, c.signers.map((s) => h("li", { class: "row", "data-signer": s.signer_id },
        h("span", {}, h("strong", {}, s.name), s.acting_name ? ` · ${ta("agentN", { n: "" }).trim()} ${s.acting_name}` : "", ` · ${s.role_label}`),
        h("span", { class: s.signed ? "badge st-live" : "badge" }, s.signed ? t("signed") : t("notSigned"))))) : null,
      admin && !sealed ? h("div", { class: "row-actions" },
        !c ? h("button", { class: "btn btn-primary", type: "button", id: "signing-open", onclick: async () => {
          const a = await room.call("signing_open", { draft_id: d.draft_id });
          if (!a.ok) toast(a.error?.message ?? "", "error");
        } }, t("startSigning")) : null,
        c && !c.missing.length ? h("button", { class: "btn", type: "button", onclick: async () => {
          const a = await room.call("draft_seal", { draft_id: d.draft_id });
          if (!a.ok) toast(a.error?.message ?? "", "error");
        } }, t("seal")) : null) : null,
      c && mine && !mine.signed && !sealed ? signForm(room, state, c, mine) : null,
      editor && !d.esign_applies && !sealed ? wetInk(d) : null,
      sealed && admin ? sendCopies(d, sealed) : null,
      sealed && state.isParty() ? myCopy(d, sealed, state.copyDays) : null);
  };
  state.views.add(render);
  render();
  return el;
}

/** The session's drafts the reader may see (agreement, record, oral register), to switch
 * between them: a new record no longer hides the agreement. Shown once there are two. */
function documentList(state: AgreementState, shown: DraftEvent): HTMLElement | null {
  const all = [...state.drafts.values()];
  if (all.length < 2) return null;
  const count = new Map<string, number>();
  return h("nav", { class: "doc-list", "aria-label": ta("docs") }, h("ul", { class: "list" }, all.map((d) => {
    const n = (count.get(d.kind) ?? 0) + 1;
    count.set(d.kind, n);
    const same = all.filter((x) => x.kind === d.kind).length > 1;
    const sealed = state.sealed.has(d.draft_id);
    const label = `${kindName(d.kind)}${same ? ` ${n}` : ""}`;
    const current = d.draft_id === shown.draft_id;
    return h("li", { class: "row" }, h("button", {
      class: current ? "btn btn-small btn-primary" : "btn btn-small", type: "button",
      "data-draft": d.draft_id, "data-kind": d.kind, "aria-current": current ? "true" : null,
      onclick: () => { state.selected = d.draft_id; state.changed(); },
    }, label), h("span", { class: sealed ? "badge st-live" : "badge" },
      sealed ? ta("docSealed") : ta("docDraft", { n: d.version })),
    d.caucus_id ? h("span", { class: "badge" }, ta("docCaucus")) : null);
  })));
}

function confirmationList(d: DraftEvent, states: Record<string, any>): HTMLElement {
  const parties: any[] = d.data?.parties ?? [];
  return h("section", { class: "confirmations", "aria-labelledby": "cf-list-h" }, h("h3", { id: "cf-list-h" }, ta("confirmState")),
    h("ul", { class: "list" }, parties.map((p) => {
      const st = states[p.party_id]?.status ?? "pending";
      return h("li", { class: "row", "data-party": p.party_id }, h("span", {}, p.name),
        h("span", { class: `badge st-${st === "confirmed" ? "live" : st}` }, ta(`st_${st}` as TKey)));
    })));
}

function confirmCard(room: RoomClient, state: AgreementState, d: DraftEvent, p: MyParty): HTMLElement {
  const done = p.state === "confirmed" ? ta("confirmedNote") : p.state === "corrected" ? ta("correctedNote") : "";
  const agentIndex = p.acting_as.startsWith("agent:") ? Number(p.acting_as.split(":")[1]) : -1;
  const agent = agentIndex >= 0 ? p.details.agents[agentIndex] : null;
  const printed = h("div", { class: "printed" }, h("p", {}, h("strong", {}, `${p.printed.role_label}：${p.printed.name}`),
    p.printed.details ? `，${p.printed.details}` : ""),
    p.printed.representative ? h("p", {}, `${ta("legalRep")}：${p.printed.representative}`) : null,
    (p.printed.agents ?? []).map((line: string) => h("p", {}, line)));
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const err = h("p", { class: "form-error", role: "alert", id: "confirm-error" });
  const fld = (scope: "party" | "agent", key: string, label: string, value: string, type = "text",
               checkFn?: (v: string) => check.Problem | null, options?: [string, string][]): HTMLElement => {
    const id = `cf-${scope === "agent" ? "agent-" : ""}${key.replace(/_/g, "-")}`;
    const control = options ? h("select", { id }, options.map(([v, l]) => h("option", { value: v }, l)))
      : h("input", { id, type, value, autocomplete: "off" });
    control.value = value;
    inputs.set(`${scope}.${key}`, control);
    const fe = h("p", { class: "field-error", id: `${id}-err` });
    control.setAttribute("aria-describedby", fe.id);
    control.addEventListener("input", () => {
      const prob = checkFn && control.value.trim() ? checkFn(control.value) : null;
      fe.textContent = prob ? (prefs.lang === "en" ? prob.en : prob.zh) : "";
      if (prob) control.setAttribute("aria-invalid", "true"); else control.removeAttribute("aria-invalid");
    });
    return h("div", { class: "field" }, h("label", { for: id }, label), control, fe);
  };
  const s = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
  const x = p.details;
  const signerPhoneCheck = (v: string) => check.phone(v, true);
  const partyFields = p.kind === "organisation" ? [
    fld("party", "name", ta("orgName"), s(x.name)), fld("party", "id_number", ta("uscc"), s(x.id_number), "text", check.uscc),
    fld("party", "address", ta("orgAddress"), s(x.address)), fld("party", "legal_representative", ta("legalRep"), s(x.legal_representative)),
    fld("party", "phone", ta("phone"), s(x.phone), "tel", (v) => check.phone(v)),
  ] : [
    fld("party", "name", ta("name"), s(x.name)),
    fld("party", "sex", ta("sex"), s(x.sex), "text", undefined, [["", ta("sexNone")], ["male", ta("male")], ["female", ta("female")]]),
    fld("party", "ethnicity", ta("ethnicity"), s(x.ethnicity)), fld("party", "birth_date", ta("birthDate"), s(x.birth_date), "date"),
    fld("party", "occupation", ta("occupation"), s(x.occupation)),
    fld("party", "id_number", ta("idNumber"), s(x.id_number), "text", (v) => (x.id_type === "resident_id" ? check.residentId(v) : null)),
    fld("party", "address", ta("address"), s(x.address)),
    fld("party", "phone", agent ? ta("phone") : ta("signingPhone"), s(x.phone), "tel", agent ? (v) => check.phone(v) : signerPhoneCheck),
    fld("party", "email", ta("email"), s(x.email), "email", check.email),
  ];
  const agentFields = agent ? [
    h("h4", {}, ta("myAgentDetails")),
    fld("agent", "name", ta("name"), s(agent.name)),
    fld("agent", "id_number", ta("idNumber"), s(agent.id_number), "text", (v) => (agent.id_type === "resident_id" ? check.residentId(v) : null)),
    fld("agent", "phone", ta("signingPhone"), s(agent.phone), "tel", signerPhoneCheck),
    fld("agent", "email", ta("email"), s(agent.email), "email", check.email),
  ] : [];
  const diff = (scope: "party" | "agent", original: any): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, c] of inputs) {
      const [sc, key] = k.split(".");
      if (sc === scope && c.value.trim() !== s(original[key])) out[key] = c.value.trim();
    }
    return out;
  };
  const submit = async (fix: boolean): Promise<void> => {
    err.textContent = "";
    const payload: Record<string, unknown> = { draft_id: d.draft_id, version: d.version, party_id: p.party_id };
    if (fix) {
      const dp = diff("party", x), da = agent ? diff("agent", agent) : {};
      if (Object.keys(dp).length) payload.details = dp;
      if (Object.keys(da).length) payload.agent = da;
    }
    const a = await room.call("party_confirm", payload);
    if (!a.ok) {
      const problems = (a.error as any)?.details?.problems ?? [];
      err.textContent = problems.length ? problems.map((q: any) => (prefs.lang === "en" ? q.message_en : q.message)).join("；") : a.error?.message ?? "";
      return;
    }
    await state.loadMine(d);
  };
  return h("section", { class: "confirm-card", id: `confirm-${p.party_id}`, "aria-labelledby": `confirm-h-${p.party_id}` },
    h("h3", { id: `confirm-h-${p.party_id}` }, ta("confirmTitle")),
    agent ? h("p", {}, ta("confirmAsAgent", { party: p.details.name })) : null,
    h("p", { class: "hint" }, ta("confirmIntro")),
    h("h4", {}, ta("printedAs")), printed,
    done ? h("p", { class: `confirm-done st-${p.state}`, role: "status" }, done) : null,
    h("form", { class: "confirm-form", onsubmit: (e: Event) => { e.preventDefault(); void submit(false); } },
      ...partyFields, ...agentFields, err,
      h("div", { class: "row-actions" },
        h("button", { class: "btn btn-primary", type: "submit", id: "confirm-ok" }, ta("confirmOk")),
        h("button", { class: "btn", type: "button", id: "confirm-fix", onclick: () => void submit(true) }, ta("confirmFix")))));
}

function signForm(room: RoomClient, state: AgreementState, c: SignatureEvent, me: Signer): HTMLElement {
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
  const typed = h("input", { type: "text", id: "sig-typed", maxlength: "60", autocomplete: "name", placeholder: me.acting_name || me.name });
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
    me.acting_name ? h("p", {}, ta("confirmAsAgent", { party: me.name })) : null,
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

/** Marriage, adoption and inheritance (电子签名法 art. 3): print, sign on paper, archive the scan. */
function wetInk(d: DraftEvent): HTMLElement {
  const file = h("input", { type: "file", id: "wet-ink-file", accept: "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png" });
  const out = h("p", { id: "wet-ink-result", role: "status", "aria-live": "polite" });
  return h("section", { class: "wet-ink", "aria-labelledby": "wet-h" }, h("h3", { id: "wet-h" }, ta("wetInk")),
    h("p", { class: "muted" }, ta("wetInkIntro")),
    h("a", { class: "btn btn-small", id: "wet-ink-print", href: `/api/v1/drafts/${d.draft_id}/print-copy`, download: "" }, ta("wetInkPrint")),
    h("form", { onsubmit: async (e: Event) => {
      e.preventDefault();
      const f = file.files?.[0];
      if (!f) return;
      out.textContent = "…";
      const r = await fetch(`/api/v1/drafts/${d.draft_id}/wet-ink`, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": f.type || "application/octet-stream", "X-CSRF-Token": csrf() }, body: f });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) { out.className = "form-error"; out.textContent = body?.error?.message ?? `HTTP ${r.status}`; return; }
      out.className = "mono";
      out.textContent = ta("wetInkArchived", { sha: body.sha256 });
    } }, h("label", { for: "wet-ink-file" }, ta("wetInkScan")), file,
      h("button", { class: "btn btn-small btn-primary", type: "submit", id: "wet-ink-upload" }, ta("wetInkUpload")), out));
}

function sendCopies(d: DraftEvent, sealed: Sealed): HTMLElement {
  const parties: any[] = d.data?.parties ?? [];
  return h("section", { class: "send-copies", "aria-labelledby": "send-h" }, h("h3", { id: "send-h" }, ta("sendCopy")),
    h("ul", { class: "list" }, parties.map((p) => h("li", { class: "row", "data-party": p.party_id },
      h("strong", {}, p.name),
      h("span", { class: "row-actions" },
        h("button", { class: "btn btn-small", type: "button", "aria-label": `${ta("sendSms")}：${p.name}`,
          onclick: () => void sendCopy(sealed.document_id, p.party_id, "sms") }, ta("sendSms")),
        h("button", { class: "btn btn-small", type: "button", "aria-label": `${ta("sendEmail")}：${p.name}`,
          onclick: () => void sendCopy(sealed.document_id, p.party_id, "email") }, ta("sendEmail")))))));
}

function myCopy(d: DraftEvent, sealed: Sealed, days: number): HTMLElement | null {
  const seat = RoomClient.resumeToken();
  if (!seat) return null;
  const link = `${location.origin}/copy#s=${seat}`;
  const linkInput = h("input", { type: "text", id: "copy-link", readonly: true, value: link });
  return h("section", { class: "my-copy", "aria-labelledby": "copy-h" }, h("h3", { id: "copy-h" }, ta("myCopy")),
    h("button", { class: "btn btn-primary btn-block", type: "button", id: "my-copy",
      onclick: () => void downloadCopy({ seat }, { id: sealed.document_id, kind: d.kind, case_number: d.case_number }) }, ta("myCopy")),
    verifyLine(sealed.short_id),
    h("div", { class: "field" }, h("label", { for: "copy-link" }, ta("copyKeep", { days })), linkInput,
      h("button", { class: "btn btn-small", type: "button", onclick: async () => {
        try { await navigator.clipboard.writeText(link); toast(ta("copyCopied")); } catch { linkInput.select(); }
      } }, ta("copyLinkBtn"))));
}
