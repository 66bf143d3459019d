// The mediator's side of intake (signaling/intake.py) and return visits
// (signaling/return_visits.py): the agenda (today's and this week's sessions, return visits
// due, who cannot come), the application behind a case with 受理 / 不予受理, and the return
// visit's due date and record. Times are the office's (the server sends them local).

import { api } from "../api";
import { h, toast } from "../dom";
import { prefs } from "../prefs";

const zh = {
  agenda: "日程", today: "今天", week: "本周", noSessions: "本周没有排定的调解会议。", visitsDue: "到期回访",
  noVisits: "没有到期的回访。", overdue: "已逾期", cannotCome: "无法参加", unperformed: "协议未履行",
  application: "调解申请", applicant: "申请人", otherParty: "对方当事人", attachments: "附件", area: "所属片区",
  accept: "受理", refuse: "不予受理", refuseReason: "不予受理的理由", assign: "指派调解员", assignSelf: "由我调解",
  assignArea: "按片区指派", confirm: "确认", returnVisit: "回访", dueOn: "回访日期", setDue: "设定回访日期",
  visitor: "回访人", method: "回访方式", phone: "电话", visit: "上门", online: "线上", performed: "协议已履行",
  notPerformed: "协议未履行", notes: "回访情况", record: "记录回访", recorded: "已回访", due: "应回访",
};
type Key = keyof typeof zh;
const en: Record<Key, string> = {
  agenda: "Agenda", today: "Today", week: "This week", noSessions: "No sessions scheduled this week.", visitsDue: "Return visits due",
  noVisits: "No return visit due.", overdue: "overdue", cannotCome: "cannot come", unperformed: "Agreement not performed",
  application: "Application", applicant: "Applicant", otherParty: "Other party", attachments: "Attachments", area: "Area",
  accept: "Accept", refuse: "Refuse", refuseReason: "Reason for refusing", assign: "Mediator", assignSelf: "Me",
  assignArea: "By area", confirm: "Confirm", returnVisit: "Return visit", dueOn: "Due on", setDue: "Set the date",
  visitor: "Visited by", method: "How", phone: "Phone", visit: "In person", online: "Online", performed: "Agreement performed",
  notPerformed: "Agreement not performed", notes: "Notes", record: "Record the visit", recorded: "visited", due: "due",
};
function tv(k: Key): string { return (prefs.lang === "en" ? en : zh)[k]; }

interface Declined { label: string; reason: string }
interface AgendaSession { session_id: string; case_id: string; case_number: string; title: string; local_time: string; today: boolean; declined: Declined[] }
interface AgendaVisit { case_id: string; case_number: string; due_on: string; overdue: boolean; unperformed: boolean }
interface Agenda { time_zone: string; sessions: AgendaSession[]; return_visits: AgendaVisit[] }

export function unperformedFlag(flag: boolean | undefined): HTMLElement | null {
  return flag ? h("span", { class: "badge st-failed", "data-unperformed": "1" }, `⚠ ${tv("unperformed")}`) : null;
}

function caseLink(id: string, text: string): HTMLElement {
  return h("a", { href: `/mediator?case=${id}` }, text);
}

export async function agendaPanel(): Promise<HTMLElement> {
  const a = await api<Agenda>("GET", "agenda");
  const row = (s: AgendaSession): HTMLElement => h("li", { "data-agenda-session": s.session_id },
    h("strong", {}, s.local_time.slice(s.today ? 11 : 5)), " ", caseLink(s.case_id, s.case_number), ` · ${s.title}`,
    ...s.declined.map((d) => h("span", { class: "badge st-failed", "data-declined": d.label },
      `${d.label} ${tv("cannotCome")}${d.reason ? `：${d.reason}` : ""}`)));
  const today = a.sessions.filter((s) => s.today), later = a.sessions.filter((s) => !s.today);
  return h("section", { class: "card", id: "agenda", "aria-labelledby": "agenda-h" },
    h("h2", { id: "agenda-h" }, `${tv("agenda")} (${a.time_zone})`),
    h("h3", {}, tv("today")), h("ul", { class: "list", id: "agenda-today" },
      today.length ? today.map(row) : h("li", { class: "muted" }, tv("noSessions"))),
    h("h3", {}, tv("week")), h("ul", { class: "list", id: "agenda-week" }, later.map(row)),
    h("h3", {}, tv("visitsDue")), h("ul", { class: "list", id: "agenda-visits" },
      a.return_visits.length ? a.return_visits.map((v) => h("li", { "data-visit-case": v.case_id },
        caseLink(v.case_id, v.case_number), ` · ${tv("dueOn")} ${v.due_on} `,
        v.overdue ? h("span", { class: "badge st-failed" }, tv("overdue")) : null, unperformedFlag(v.unperformed)))
        : h("li", { class: "muted" }, tv("noVisits"))));
}

interface Party { name: string; phone: string; id_number: string; address: string }
interface Application { reference: string; applicant: Party; other_parties: Party[]; description: string; dispute_type: string;
  area: string; decision_reason: string; attachments: { id: string; title: string; content_type: string; size: number }[] }

function partyLine(p: Party): string {
  return [p.name, p.phone, p.id_number, p.address].filter(Boolean).join(" · ");
}

/** The application behind the case (if any), with 受理 / 不予受理 while it is in 申请. */
export async function applicationPanel(caseId: string, status: string, manage: boolean, reload: () => void): Promise<HTMLElement | null> {
  let a: Application;
  try { a = await api<Application>("GET", `cases/${caseId}/application`); } catch { return null; }
  const reason = h("textarea", { id: "intake-reason", rows: 2, maxlength: 500 });
  const how = h("select", { id: "intake-assign" }, h("option", { value: "self" }, tv("assignSelf")), h("option", { value: "area" }, tv("assignArea")));
  const decide = async (decision: "accept" | "refuse"): Promise<void> => {
    try {
      await api("POST", `cases/${caseId}/intake`, decision === "accept" ? { decision, assign: how.value } : { decision, reason: reason.value.trim() });
      reload();
    } catch (x) { toast((x as Error).message, "error"); }
  };
  const labelled = (id: string, text: string, el: HTMLElement): HTMLElement => h("div", { class: "field" }, h("label", { for: id }, text), el);
  return h("section", { class: "card", id: "case-application", "aria-labelledby": "ca-h" },
    h("h2", { id: "ca-h" }, `${tv("application")} ${a.reference}`),
    h("p", {}, `${tv("applicant")}：${partyLine(a.applicant)}`),
    ...a.other_parties.map((p) => h("p", {}, `${tv("otherParty")}：${partyLine(p)}`)),
    a.area ? h("p", {}, `${tv("area")}：${a.area}`) : null,
    h("p", { class: "pre" }, a.description),
    a.attachments.length ? h("p", {}, `${tv("attachments")}：`, ...a.attachments.map((f) =>
      h("a", { href: `/api/v1/application-attachments/${f.id}`, class: "btn btn-quiet" }, f.title))) : null,
    manage && status === "applied" ? h("div", { class: "stack", id: "intake-actions" },
      labelled("intake-assign", tv("assign"), how),
      h("button", { class: "btn btn-primary", type: "button", id: "intake-accept", onclick: () => void decide("accept") }, tv("accept")),
      labelled("intake-reason", tv("refuseReason"), reason),
      h("button", { class: "btn", type: "button", id: "intake-refuse", onclick: () => void decide("refuse") }, tv("refuse"))) : null);
}

interface Visit { id: string; due_on: string; recorded_at: string | null; visitor: string; method: string; performed: boolean | null; notes: string }

/** Return visits of a case after its agreement: the due date and the record (回访记录). */
export async function returnVisitPanel(caseId: string, status: string, manage: boolean, reload: () => void): Promise<HTMLElement | null> {
  if (!["agreed", "judicial_confirm", "return_visit"].includes(status)) return null;
  const { items, unperformed } = await api<{ items: Visit[]; unperformed: boolean }>("GET", `cases/${caseId}/return-visits`);
  const open = items.find((v) => !v.recorded_at);
  const due = h("input", { type: "date", id: "rv-due", value: open?.due_on ?? "" });
  const visitor = h("input", { type: "text", id: "rv-visitor", maxlength: 120 });
  const method = h("select", { id: "rv-method" }, ...(["phone", "visit", "online"] as const).map((m) => h("option", { value: m }, tv(m))));
  const performed = h("select", { id: "rv-performed" }, h("option", { value: "yes" }, tv("performed")), h("option", { value: "no" }, tv("notPerformed")));
  const notes = h("textarea", { id: "rv-notes", rows: 2, maxlength: 2000 });
  const send = async (m: string, path: string, body: object): Promise<void> => {
    try { await api(m, path, body); reload(); } catch (x) { toast((x as Error).message, "error"); }
  };
  const labelled = (id: string, text: string, el: HTMLElement): HTMLElement => h("div", { class: "field" }, h("label", { for: id }, text), el);
  return h("section", { class: "card", id: "case-return-visits", "aria-labelledby": "rv-h" },
    h("h2", { id: "rv-h" }, tv("returnVisit"), " ", unperformedFlag(unperformed)),
    h("ul", { class: "list", id: "rv-list" }, ...items.map((v) => h("li", { "data-visit": v.id },
      v.recorded_at ? `${tv("recorded")} · ${v.visitor} · ${tv(v.method as Key)} · ${v.performed ? tv("performed") : tv("notPerformed")}${v.notes ? ` · ${v.notes}` : ""}`
        : `${tv("due")} ${v.due_on}`))),
    manage ? h("form", { class: "inline-form", onsubmit: (e: Event) => { e.preventDefault(); void send("PUT", `cases/${caseId}/return-visit`, { due_on: due.value }); } },
      labelled("rv-due", tv("dueOn"), due), h("button", { class: "btn", type: "submit", id: "rv-set-due" }, tv("setDue"))) : null,
    manage ? h("form", { class: "stack", onsubmit: (e: Event) => {
      e.preventDefault();
      void send("POST", `cases/${caseId}/return-visits`, { visitor: visitor.value.trim(), method: method.value,
        performed: performed.value === "yes", notes: notes.value.trim() });
    } }, labelled("rv-visitor", tv("visitor"), visitor), labelled("rv-method", tv("method"), method),
      labelled("rv-performed", tv("performed"), performed), labelled("rv-notes", tv("notes"), notes),
      h("button", { class: "btn btn-primary", type: "submit", id: "rv-record" }, tv("record"))) : null);
}
