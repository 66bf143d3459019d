// The mediator's (and clerk's) agreement editor: every 人民调解协议书 field (人民调解法 art.
// 29) — parties of every kind with their agents and the link each came in through, facts,
// disputed points, responsibility, any number of terms, other terms, copies, the matter
// and the recorder — checked as people type, with a live preview rendered by the server
// exactly as it will print. Saving creates the draft or a new version everyone in the
// space sees.

import { api } from "../api";
import { hasKey, MATTERS, matterName, ta, type TKey } from "../agreementText";
import { clear, h, toast } from "../dom";
import * as check from "../identity";
import { prefs } from "../prefs";
import type { RoomClient } from "../room";
import { sanitize } from "./docview";
import { openRecordEditor } from "./recordEditor";

type Problem = check.Problem | null;
type Check = (v: string) => Problem;

interface AgentData { name: string; kind: string; authority: string; id_type: string; id_number: string; phone: string; email: string; invite_id: string }
interface PartyData {
  party_id: string; role: string; kind: string; name: string; sex: string; ethnicity: string; birth_date: string;
  occupation: string; id_type: string; id_number: string; address: string; phone: string; email: string;
  legal_representative: string; legal_representative_title: string; agents: AgentData[]; invite_id: string;
}
interface ClauseData { obligor: string; obligee: string; obligation: string; amount: string; method: string; place: string; deadline: string }
interface EditorData {
  committee: string; matter: string; language: string; parties: PartyData[]; facts: string; disputed_points: string[];
  responsibility: string; clauses: ClauseData[]; other_terms: string[]; copies: string;
  mediator: { name: string; phone: string }; recorder: string; recorder_mode: string; signed_on: string;
}
interface Invite { id: string; role: string; side: string | null; label: string; revoked: boolean }
export interface DraftRef { draft_id: string; version: number; data?: any; language?: string; kind?: string }

const ID_TYPES = ["resident_id", "passport", "hk_macao_permit", "taiwan_permit", "foreign_permanent_id", "other"];
const AGENT_KINDS = ["lawyer", "legal_worker", "relative", "employee", "community", "other"];
const today = (): string => new Date().toISOString().slice(0, 10);
const s = (v: unknown): string => (v === null || v === undefined ? "" : String(v));

function emptyAgent(): AgentData {
  return { name: "", kind: "other", authority: "general", id_type: "resident_id", id_number: "", phone: "", email: "", invite_id: "" };
}
function emptyParty(id: string, role: string): PartyData {
  return { party_id: id, role, kind: "person", name: "", sex: "", ethnicity: "", birth_date: "", occupation: "",
    id_type: "resident_id", id_number: "", address: "", phone: "", email: "", legal_representative: "",
    legal_representative_title: "", agents: [], invite_id: "" };
}
function emptyClause(parties: PartyData[]): ClauseData {
  return { obligor: parties[1]?.party_id ?? parties[0]?.party_id ?? "", obligee: parties[0]?.party_id ?? "",
    obligation: "", amount: "", method: "", place: "", deadline: today() };
}

function fromData(d: any): EditorData {
  const parties: PartyData[] = (d.parties ?? []).map((p: any) => ({
    ...emptyParty(p.party_id, p.role ?? "applicant"), ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, k === "agents" ? v : s(v)])),
    agents: (p.agents ?? []).map((a: any) => ({ ...emptyAgent(), ...Object.fromEntries(Object.entries(a).map(([k, v]) => [k, s(v)])) })),
  }));
  return {
    committee: s(d.committee), matter: s(d.matter) || "other", language: "zh-CN", parties, facts: s(d.facts),
    disputed_points: [...(d.disputed_points ?? [])], responsibility: s(d.responsibility),
    clauses: (d.clauses ?? []).map((c: any) => ({ obligor: c.obligor, obligee: c.obligee, obligation: s(c.obligation),
      amount: s(c.amount), method: s(c.method), place: s(c.place), deadline: s(c.deadline) })),
    other_terms: [...(d.other_terms ?? [])], copies: s(d.copies),
    mediator: { name: s(d.mediator?.name), phone: s(d.mediator?.phone) },
    recorder: s(d.recorder?.name), recorder_mode: d.recorder?.name ? "other" : "none", signed_on: s(d.signed_on) || today(),
  };
}

/** The data as the server takes it: empty optional fields left out. */
function toPayload(e: EditorData): Record<string, unknown> {
  const opt = (v: string): string | null => (v.trim() ? v.trim() : null);
  return {
    committee: e.committee.trim(), matter: e.matter,
    parties: e.parties.map((p) => ({
      party_id: p.party_id, role: p.role, kind: p.kind, name: p.name.trim(), address: p.address.trim(),
      phone: opt(p.phone), email: opt(p.email), id_number: opt(p.id_number.toUpperCase()), invite_id: opt(p.invite_id),
      ...(p.kind === "person"
        ? { sex: opt(p.sex), ethnicity: opt(p.ethnicity), birth_date: opt(p.birth_date), occupation: opt(p.occupation), id_type: p.id_type }
        : { legal_representative: opt(p.legal_representative), legal_representative_title: opt(p.legal_representative_title) }),
      agents: p.agents.map((a) => ({ name: a.name.trim(), kind: a.kind, authority: a.authority, id_type: a.id_type,
        id_number: opt(a.id_number.toUpperCase()), phone: opt(a.phone), email: opt(a.email), invite_id: opt(a.invite_id) })),
    })),
    facts: e.facts.trim(), disputed_points: e.disputed_points.map((x) => x.trim()).filter(Boolean),
    responsibility: e.responsibility.trim(),
    clauses: e.clauses.map((c) => ({ obligor: c.obligor, obligee: c.obligee, obligation: c.obligation.trim(),
      ...(c.amount.trim() ? { amount: c.amount.trim().replace(/,/g, "") } : {}), method: c.method.trim(), place: c.place.trim(),
      deadline: c.deadline })),
    other_terms: e.other_terms.map((x) => x.trim()).filter(Boolean),
    copies: e.copies.trim() ? Number(e.copies) : null,
    mediator: { name: e.mediator.name.trim(), phone: opt(e.mediator.phone) },
    recorder: e.recorder.trim() ? { name: e.recorder.trim() } : null,
    signed_on: e.signed_on,
  };
}

export function draftEditor(room: RoomClient, sessionId: string, draftOf: () => DraftRef | null): HTMLElement {
  let data: EditorData | null = null;
  let invites: Invite[] = [];
  let confirmations: Record<string, any> = {};
  const fields = new Map<string, { el: HTMLElement; err: HTMLElement; check: () => Problem }>();
  const form = h("form", { class: "editor-form", novalidate: true });
  const previewBody = h("div", { class: "editor-preview-doc", id: "editor-preview", tabindex: "0", role: "document",
    "aria-label": ta("preview") });
  const formError = h("p", { class: "form-error", role: "alert", id: "editor-error" });
  const heading = h("h2", { id: "editor-h", tabindex: "-1" }, ta("editorTitle"));
  const closeBtn = h("button", { class: "btn", type: "button", id: "editor-close", onclick: () => close() }, ta("closeEditor"));
  const region = h("section", { class: "editor-overlay hidden", id: "draft-editor", "aria-labelledby": "editor-h" },
    h("div", { class: "editor-main" }, h("div", { class: "editor-head" }, heading, closeBtn), form),
    h("aside", { class: "editor-preview", "aria-labelledby": "preview-h" },
      h("h3", { id: "preview-h" }, ta("preview")), previewBody));
  const openBtn = h("button", { class: "btn btn-primary", type: "button", id: "draft-editor-open",
    onclick: () => void open() }, ta("openEditor"));

  room.on("party_confirmation", (c: any) => { confirmations[c.party_id] = c; if (data) renderConfirmations(); });

  async function open(): Promise<void> {
    const cur = draftOf();
    // The record has its own editor (statements, outcome); this form is the agreement's.
    if (cur && cur.kind === "record") { await openRecordEditor(room, cur.draft_id); return; }
    try {
      invites = ((await api<{ items: Invite[] }>("GET", `sessions/${sessionId}/invites`)).items ?? [])
        .filter((i) => !i.revoked && (i.role === "party" || i.role === "representative"));
    } catch { invites = []; }
    let caseInfo: any = null;
    try {
      const ses = await api<any>("GET", `sessions/${sessionId}`);
      caseInfo = await api<any>("GET", `cases/${ses.session.case_id}`);
    } catch { /* the form still works without the case's prefill */ }
    if (cur?.data) {
      data = fromData(cur.data);
      data.language = cur.language ?? "zh-CN";
      const g = await room.call("draft_get", { draft_id: cur.draft_id });
      confirmations = g.ok ? g.confirmations ?? {} : {};
    } else {
      data = prefill(caseInfo);
    }
    region.classList.remove("hidden");
    document.body.classList.add("editing");
    build();
    heading.focus();
  }

  function close(): void {
    region.classList.add("hidden");
    document.body.classList.remove("editing");
    openBtn.focus();
  }

  /** A new draft from what the case holds: one party per party link (its label as the name,
   * side A as applicant, B as respondent), representatives as agents of their side. */
  function prefill(caseInfo: any): EditorData {
    const parties: PartyData[] = [];
    const bySide = new Map<string, PartyData>();
    for (const inv of invites.filter((i) => i.role === "party")) {
      const p = emptyParty(`P${parties.length + 1}`, inv.side === "B" ? "respondent" : "applicant");
      p.name = inv.label; p.invite_id = inv.id;
      parties.push(p);
      if (inv.side && !bySide.has(inv.side)) bySide.set(inv.side, p);
    }
    for (const inv of invites.filter((i) => i.role === "representative")) {
      // An agent whose principal has no link of their own: the principal is not in the room.
      let owner = bySide.get(inv.side ?? "");
      if (!owner) {
        owner = emptyParty(`P${parties.length + 1}`, inv.side === "B" ? "respondent" : "applicant");
        parties.push(owner);
        if (inv.side) bySide.set(inv.side, owner);
      }
      owner.agents.push({ ...emptyAgent(), name: inv.label, invite_id: inv.id });
    }
    while (parties.length < 2) parties.push(emptyParty(`P${parties.length + 1}`, parties.length ? "respondent" : "applicant"));
    const matter = MATTERS.find((m) => caseInfo && (caseInfo.dispute_type === m || matterName(m).startsWith(caseInfo.dispute_type))) ?? "other";
    const clerk = room.layout?.participants.find((p) => p.role === "clerk");
    return { committee: "人民调解委员会", matter, language: "zh-CN", parties, facts: caseInfo?.summary ?? "", disputed_points: [""],
      responsibility: "", clauses: [emptyClause(parties)], other_terms: [], copies: "",
      mediator: { name: room.me?.name ?? "", phone: "" }, recorder: clerk?.name ?? "",
      recorder_mode: clerk ? `clerk:${clerk.participant_id}` : "none", signed_on: today() };
  }

  // -- fields ---------------------------------------------------------------------------------

  const idOf = (path: string): string => `ed-${path.replace(/\./g, "-")}`;
  let previewTimer = 0;
  function changed(): void {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(() => void preview(), 400);
  }

  function showProblem(path: string, problem: Problem | string | null): void {
    const f = fields.get(path);
    if (!f) return;
    const text = typeof problem === "string" ? problem : problem ? (prefs.lang === "en" ? problem.en : problem.zh) : "";
    f.err.textContent = text;
    if (text) f.el.setAttribute("aria-invalid", "true"); else f.el.removeAttribute("aria-invalid");
  }

  function field(path: string, label: TKey | string, control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
                 get: () => string, set: (v: string) => void, checks: Check[] = [], hint?: TKey): HTMLElement {
    control.id = idOf(path);
    control.setAttribute("name", path);
    if (control instanceof HTMLSelectElement) control.value = get(); else control.value = get();
    const err = h("p", { class: "field-error", id: `${control.id}-err` });
    const hintEl = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, ta(hint)) : null;
    control.setAttribute("aria-describedby", [hintEl ? hintEl.id : "", err.id].filter(Boolean).join(" "));
    const run = (): Problem => {
      const v = get();
      for (const c of checks) { const p = c(v); if (p) return p; }
      return null;
    };
    fields.set(path, { el: control, err, check: run });
    const onChange = (): void => { set(control.value); showProblem(path, run()); changed(); };
    control.addEventListener("input", onChange);
    control.addEventListener("change", onChange);
    const text = hasKey(label) ? ta(label) : label;
    return h("div", { class: "field" }, h("label", { for: control.id }, text), control, hintEl, err);
  }

  const input = (type = "text", extra: Record<string, string> = {}): HTMLInputElement => h("input", { type, ...extra });
  const area = (rows = 3): HTMLTextAreaElement => h("textarea", { rows: String(rows) });
  const select = (options: [string, string][]): HTMLSelectElement =>
    h("select", {}, options.map(([v, l]) => h("option", { value: v }, l)));
  const opt = (v: string, fn: Check): Check => (x: string) => (x.trim() ? fn(x) : null);
  const req: Check = (x) => check.required(x);

  function seatOptions(): [string, string][] {
    return [["", ta("seatNone")], ...invites.map((i): [string, string] =>
      [i.id, `${i.label || i.id.slice(0, 6)}（${i.role === "party" ? "当事人" : "代理人"}${i.side ? ` · ${i.side === "A" ? "甲方" : "乙方"}` : ""}）`])];
  }

  function smallBtn(text: string, onclick: () => void, extra: Record<string, string> = {}): HTMLButtonElement {
    return h("button", { class: "btn btn-small", type: "button", onclick, ...extra }, text);
  }

  function partyCard(p: PartyData, i: number): HTMLElement {
    const at = `parties.${i}`;
    const isOrg = p.kind === "organisation";
    const kind = select([["person", ta("person")], ["organisation", ta("organisation")]]);
    kind.addEventListener("change", () => { p.kind = kind.value; build(); });
    const rows: (HTMLElement | null)[] = [
      h("div", { class: "grid2" },
        field(`${at}.role`, "role", select([["applicant", ta("applicant")], ["respondent", ta("respondent")], ["third_party", ta("third_party")]]),
          () => p.role, (v) => { p.role = v; }),
        field(`${at}.kind`, "kind", kind, () => p.kind, (v) => { p.kind = v; })),
      field(`${at}.invite_id`, "seat", select(seatOptions()), () => p.invite_id, (v) => { p.invite_id = v; }, [], "seatHint"),
      field(`${at}.name`, isOrg ? "orgName" : "name", input("text", { maxlength: "200", autocomplete: "off" }), () => p.name, (v) => { p.name = v; }, [req]),
    ];
    if (isOrg) {
      rows.push(
        field(`${at}.id_number`, "uscc", input("text", { maxlength: "18", autocomplete: "off" }), () => p.id_number, (v) => { p.id_number = v; }, [opt("", check.uscc)]),
        field(`${at}.address`, "orgAddress", input(), () => p.address, (v) => { p.address = v; }),
        h("div", { class: "grid2" },
          field(`${at}.legal_representative`, "legalRep", input(), () => p.legal_representative, (v) => { p.legal_representative = v; }, [req]),
          field(`${at}.legal_representative_title`, "legalRepTitle", input(), () => p.legal_representative_title, (v) => { p.legal_representative_title = v; })));
    } else {
      rows.push(
        h("div", { class: "grid2" },
          field(`${at}.sex`, "sex", select([["", ta("sexNone")], ["male", ta("male")], ["female", ta("female")]]), () => p.sex, (v) => { p.sex = v; }),
          field(`${at}.ethnicity`, "ethnicity", input("text", { maxlength: "40" }), () => p.ethnicity, (v) => { p.ethnicity = v; }),
          field(`${at}.birth_date`, "birthDate", input("date"), () => p.birth_date, (v) => { p.birth_date = v; }, [opt("", check.pastDate)]),
          field(`${at}.occupation`, "occupation", input("text", { maxlength: "100" }), () => p.occupation, (v) => { p.occupation = v; })),
        h("div", { class: "grid2" },
          field(`${at}.id_type`, "idType", select(ID_TYPES.map((x) => [x, ta(`id_${x}` as TKey)])), () => p.id_type, (v) => { p.id_type = v; showProblem(`${at}.id_number`, fields.get(`${at}.id_number`)!.check()); }),
          field(`${at}.id_number`, "idNumber", input("text", { maxlength: "40", autocomplete: "off" }), () => p.id_number, (v) => { p.id_number = v; },
            [(x) => (x.trim() && p.id_type === "resident_id" ? check.residentId(x, p.birth_date || undefined) : null)])),
        field(`${at}.address`, "address", input(), () => p.address, (v) => { p.address = v; }));
    }
    rows.push(h("div", { class: "grid2" },
      field(`${at}.phone`, "phone", input("tel", { autocomplete: "off" }), () => p.phone, (v) => { p.phone = v; }, [opt("", (x) => check.phone(x))]),
      field(`${at}.email`, "email", input("email", { autocomplete: "off" }), () => p.email, (v) => { p.email = v; }, [opt("", check.email)], "emailHint")));
    const agents = h("fieldset", { class: "agents" }, h("legend", {}, ta("agents")),
      p.agents.map((a, n) => agentCard(p, a, i, n)),
      smallBtn(ta("addAgent"), () => { p.agents.push(emptyAgent()); build(`${at}.agents.${p.agents.length - 1}.name`); }, { id: `${idOf(at)}-add-agent` }));
    const state = h("span", { class: "badge confirm-state", "data-confirm": p.party_id });
    return h("fieldset", { class: "party-card", "data-party": p.party_id },
      h("legend", {}, `${ta("partyN", { n: i + 1 })} `, state),
      h("div", { class: "correction", "data-correction": p.party_id }),
      ...rows, agents,
      data!.parties.length > 2 ? smallBtn(ta("removeParty"), () => { data!.parties.splice(i, 1); build(); }, { class: "btn btn-small btn-danger-quiet" }) : null);
  }

  function agentCard(p: PartyData, a: AgentData, i: number, n: number): HTMLElement {
    const at = `parties.${i}.agents.${n}`;
    return h("div", { class: "agent-card", "data-agent": `${p.party_id}-${n}` },
      h("h3", {}, ta("agentN", { n: n + 1 })),
      field(`${at}.name`, "name", input("text", { maxlength: "100" }), () => a.name, (v) => { a.name = v; }, [req]),
      h("div", { class: "grid2" },
        field(`${at}.kind`, "agentKind", select(AGENT_KINDS.map((x) => [x, ta(`agent_${x}` as TKey)])), () => a.kind, (v) => { a.kind = v; }),
        field(`${at}.authority`, "authority", select([["general", ta("authority_general")], ["special", ta("authority_special")]]), () => a.authority, (v) => { a.authority = v; })),
      h("div", { class: "grid2" },
        field(`${at}.id_type`, "idType", select(ID_TYPES.map((x) => [x, ta(`id_${x}` as TKey)])), () => a.id_type, (v) => { a.id_type = v; }),
        field(`${at}.id_number`, "idNumber", input("text", { maxlength: "40", autocomplete: "off" }), () => a.id_number, (v) => { a.id_number = v; },
          [(x) => (x.trim() && a.id_type === "resident_id" ? check.residentId(x) : null)])),
      h("div", { class: "grid2" },
        field(`${at}.phone`, "phone", input("tel"), () => a.phone, (v) => { a.phone = v; }, [opt("", (x) => check.phone(x))]),
        field(`${at}.email`, "email", input("email"), () => a.email, (v) => { a.email = v; }, [opt("", check.email)])),
      field(`${at}.invite_id`, "seat", select(seatOptions()), () => a.invite_id, (v) => { a.invite_id = v; }, [], "agentSeatHint"),
      smallBtn(ta("removeAgent"), () => { p.agents.splice(n, 1); build(); }, { class: "btn btn-small btn-danger-quiet" }));
  }

  function listField(key: "disputed_points" | "other_terms", label: TKey, itemLabel: TKey, add: TKey): HTMLElement {
    const list = data![key];
    return h("fieldset", { class: "list-field" }, h("legend", {}, ta(label)),
      list.map((_, n) => h("div", { class: "list-row" },
        field(`${key}.${n}`, ta(itemLabel, { n: n + 1 }), area(2), () => list[n], (v) => { list[n] = v; }),
        smallBtn(ta("remove"), () => { list.splice(n, 1); build(); }, { "aria-label": `${ta("remove")} ${ta(itemLabel, { n: n + 1 })}` }))),
      smallBtn(ta(add), () => { list.push(""); build(`${key}.${list.length - 1}`); }, { id: `${idOf(key)}-add` }));
  }

  function clauseCard(c: ClauseData, n: number): HTMLElement {
    const at = `clauses.${n}`;
    const parties = data!.parties.map((p, i): [string, string] => [p.party_id, p.name || ta("partyN", { n: i + 1 })]);
    return h("fieldset", { class: "clause-card" }, h("legend", {}, ta("clauseN", { n: n + 1 })),
      h("div", { class: "grid2" },
        field(`${at}.obligor`, "obligor", select(parties), () => c.obligor, (v) => { c.obligor = v; }),
        field(`${at}.obligee`, "obligee", select(parties), () => c.obligee, (v) => { c.obligee = v; },
          [(x) => (x === c.obligor ? { code: "same_party", zh: "义务人和权利人不能是同一方", en: "The obligor and the obligee must differ" } : null)])),
      field(`${at}.obligation`, "obligation", area(2), () => c.obligation, (v) => { c.obligation = v; }, [req]),
      h("div", { class: "grid2" },
        field(`${at}.amount`, "amount", input("text", { inputmode: "decimal" }), () => c.amount, (v) => { c.amount = v; }, [opt("", check.amount)]),
        field(`${at}.deadline`, "deadline", input("date"), () => c.deadline, (v) => { c.deadline = v; }, [req])),
      h("div", { class: "grid2" },
        field(`${at}.method`, "method", input(), () => c.method, (v) => { c.method = v; }),
        field(`${at}.place`, "place", input(), () => c.place, (v) => { c.place = v; })),
      data!.clauses.length > 1 ? smallBtn(ta("removeClause"), () => { data!.clauses.splice(n, 1); build(); }, { class: "btn btn-small btn-danger-quiet" }) : null);
  }

  function recorderField(): HTMLElement {
    const d = data!;
    const clerks = (room.layout?.participants ?? []).filter((p) => p.role === "clerk");
    const modes: [string, string][] = [["none", ta("recorderNone")], ...clerks.map((c): [string, string] => [`clerk:${c.participant_id}`, c.name]),
      ["mediator", ta("recorderMediator")], ["other", ta("recorderOther")]];
    const mode = select(modes);
    const name = input("text", { maxlength: "100" });
    const nameField = field("recorder", "recorderOtherName", name, () => d.recorder, (v) => { d.recorder = v; });
    const sync = (): void => {
      const m = d.recorder_mode;
      if (m.startsWith("clerk:")) d.recorder = clerks.find((c) => `clerk:${c.participant_id}` === m)?.name ?? "";
      else if (m === "mediator") d.recorder = d.mediator.name;
      else if (m === "none") d.recorder = "";
      name.value = d.recorder;
      nameField.classList.toggle("hidden", m !== "other");
      changed();
    };
    const modeField = field("recorder_mode", "recorder", mode, () => d.recorder_mode, (v) => { d.recorder_mode = v; sync(); }, [], "recorderHint");
    nameField.classList.toggle("hidden", d.recorder_mode !== "other");
    return h("div", {}, modeField, nameField);
  }

  function build(focusPath?: string): void {
    const d = data!;
    fields.clear();
    const matter = select(MATTERS.map((m) => [m, matterName(m)]));
    clear(form,
      h("div", { class: "grid2" },
        field("committee", "committee", input("text", { maxlength: "200" }), () => d.committee, (v) => { d.committee = v; }, [req]),
        field("matter", "matter", matter, () => d.matter, (v) => { d.matter = v; })),
      h("fieldset", { class: "parties-field" }, h("legend", {}, ta("parties")),
        d.parties.map((p, i) => partyCard(p, i)),
        smallBtn(ta("addParty"), () => {
          const n = Math.max(0, ...d.parties.map((p) => Number(p.party_id.replace(/\D/g, "")) || 0)) + 1;
          d.parties.push(emptyParty(`P${n}`, "third_party"));
          build(`parties.${d.parties.length - 1}.name`);
        }, { id: "ed-add-party" })),
      field("facts", "facts", area(4), () => d.facts, (v) => { d.facts = v; }, [req]),
      listField("disputed_points", "disputed", "disputedN", "addDisputed"),
      field("responsibility", "responsibility", area(3), () => d.responsibility, (v) => { d.responsibility = v; }),
      h("fieldset", { class: "clauses-field" }, h("legend", {}, ta("clauses")),
        d.clauses.map((c, n) => clauseCard(c, n)),
        smallBtn(ta("addClause"), () => { d.clauses.push(emptyClause(d.parties)); build(`clauses.${d.clauses.length - 1}.obligation`); }, { id: "ed-add-clause" })),
      listField("other_terms", "otherTerms", "otherN", "addOther"),
      h("div", { class: "grid2" },
        field("copies", "copies", input("number", { min: "2", max: "20", inputmode: "numeric" }), () => d.copies, (v) => { d.copies = v; },
          [(x) => (x.trim() && (!/^\d+$/.test(x) || Number(x) < d.parties.length + 1)
            ? { code: "copies", zh: `至少${d.parties.length + 1}份：当事人各一份，调委会一份`, en: `At least ${d.parties.length + 1}: one per party and one for the committee` } : null)], "copiesHint"),
        field("signed_on", "signedOn", input("date"), () => d.signed_on, (v) => { d.signed_on = v; }, [req])),
      h("div", { class: "grid2" },
        field("mediator.name", "mediatorName", input(), () => d.mediator.name, (v) => { d.mediator.name = v; }, [req]),
        field("mediator.phone", "mediatorPhone", input("tel"), () => d.mediator.phone, (v) => { d.mediator.phone = v; }, [req, (x) => check.phone(x, true)], "mediatorPhoneHint")),
      recorderField(),
      formError,
      h("div", { class: "row-actions" },
        h("button", { class: "btn btn-primary", type: "submit", id: "draft-save" }, ta("save")),
        h("button", { class: "btn", type: "button", onclick: () => close() }, ta("closeEditor"))));
    renderConfirmations();
    changed();
    if (focusPath) fields.get(focusPath)?.el.focus();
  }

  function renderConfirmations(): void {
    for (const p of data?.parties ?? []) {
      const c = confirmations[p.party_id];
      const st = c?.status ?? "pending";
      const badge = form.querySelector(`[data-confirm="${CSS.escape(p.party_id)}"]`);
      if (badge) { badge.textContent = ta(`st_${st}` as TKey); badge.className = `badge confirm-state st-${st === "confirmed" ? "live" : st}`; }
      const box = form.querySelector(`[data-correction="${CSS.escape(p.party_id)}"]`);
      if (!box) continue;
      clear(box, st === "corrected" && c.details ? h("p", {},
        `${(c.changes ?? []).join("、")} `,
        smallBtn(ta("applyCorrection"), () => {
          Object.assign(p, { ...fromData({ parties: [c.details] }).parties[0], invite_id: p.invite_id,
            agents: fromData({ parties: [c.details] }).parties[0].agents.map((a, n) => ({ ...a, invite_id: p.agents[n]?.invite_id ?? a.invite_id })) });
          build(); toast(ta("correctionApplied"));
        }, { "data-apply": p.party_id })) : null);
    }
  }

  async function preview(): Promise<void> {
    if (!data || region.classList.contains("hidden")) return;
    const a = await room.call("draft_preview", { kind: "agreement", data: toPayload(data), language: data.language });
    if (a.ok) clear(previewBody, sanitize(a.html));
    else clear(previewBody, h("p", { class: "muted" }, ta("previewEmpty")), h("p", { class: "hint" }, a.error?.message ?? ""));
  }

  form.addEventListener("submit", async (e: Event) => {
    e.preventDefault();
    if (!data) return;
    formError.textContent = "";
    let first: HTMLElement | null = null;
    for (const [path, f] of fields) {
      if (f.el.closest(".hidden")) continue;
      const p = f.check();
      showProblem(path, p);
      if (p && !first) first = f.el;
    }
    if (first) { formError.textContent = ta("fixErrors"); first.focus(); return; }
    const payload = toPayload(data);
    const cur = draftOf();
    const a = cur ? await room.call("draft_edit", { draft_id: cur.draft_id, data: payload, base_version: cur.version })
      : await room.call("draft_create", { kind: "agreement", data: payload, language: data.language });
    if (!a.ok) {
      const problems: { field: string; message: string; message_en: string }[] = (a.error as any)?.details?.problems ?? [];
      for (const p of problems) showProblem(p.field, prefs.lang === "en" ? p.message_en : p.message);
      formError.textContent = a.error?.message ?? "";
      const bad = problems.length ? fields.get(problems[0].field)?.el : null;
      bad?.focus();
      return;
    }
    toast(ta("saved"));
    close();
  });

  return h("div", { class: "draft-editor" }, openBtn, region);
}
