// The mediator's side of intake (signaling/intake.py) and return visits
// (signaling/return_visits.py): the agenda (today's and this week's sessions, return visits
// due, who cannot come), the application behind a case with 受理 / 不予受理, and the return
// visit's due date and record. Times are the office's (the server sends them local).

import { api, type Schema } from "../api";
import { h, toast } from "../dom";
import { t, type Key } from "../i18n";


// The server's replies, from its OpenAPI document (api-types.ts, generated).
type AgendaSession = Schema<"AgendaSession">;
type Party = Schema<"PartyDetailsOut">;

export function unperformedFlag(flag: boolean | undefined): HTMLElement | null {
  return flag ? h("span", { class: "badge st-failed", "data-unperformed": "1" }, `⚠ ${t("intake_unperformed")}`) : null;
}

function caseLink(id: string, text: string): HTMLElement {
  return h("a", { href: `/mediator?case=${id}` }, text);
}

export async function agendaPanel(): Promise<HTMLElement> {
  const a = await api<Schema<"AgendaOut">>("GET", "agenda");
  const row = (s: AgendaSession): HTMLElement => h("li", { "data-agenda-session": s.session_id },
    h("strong", {}, s.local_time.slice(s.today ? 11 : 5)), " ", caseLink(s.case_id, s.case_number), ` · ${s.title}`,
    ...s.declined.map((d) => h("span", { class: "badge st-failed", "data-declined": d.label },
      `${d.label} ${t("intake_cannotCome")}${d.reason ? `：${d.reason}` : ""}`)));
  const today = a.sessions.filter((s) => s.today), later = a.sessions.filter((s) => !s.today);
  return h("section", { class: "card", id: "agenda", "aria-labelledby": "agenda-h" },
    h("h2", { id: "agenda-h" }, `${t("intake_agenda")} (${a.time_zone})`),
    h("h3", {}, t("intake_today")), h("ul", { class: "list", id: "agenda-today" },
      today.length ? today.map(row) : h("li", { class: "muted" }, t("intake_noSessions"))),
    h("h3", {}, t("intake_week")), h("ul", { class: "list", id: "agenda-week" }, later.map(row)),
    h("h3", {}, t("intake_visitsDue")), h("ul", { class: "list", id: "agenda-visits" },
      a.return_visits.length ? a.return_visits.map((v) => h("li", { "data-visit-case": v.case_id },
        caseLink(v.case_id, v.case_number), ` · ${t("intake_dueOn")} ${v.due_on} `,
        v.overdue ? h("span", { class: "badge st-failed" }, t("intake_overdue")) : null, unperformedFlag(v.unperformed)))
        : h("li", { class: "muted" }, t("intake_noVisits"))));
}


function partyLine(p: Party): string {
  return [p.name, p.phone, p.id_number, p.address].filter(Boolean).join(" · ");
}

/** The application behind the case (if any), with 受理 / 不予受理 while it is in 申请. */
export async function applicationPanel(caseId: string, status: string, manage: boolean, reload: () => void): Promise<HTMLElement | null> {
  let a: Schema<"ApplicationOut">;
  try { a = await api<Schema<"ApplicationOut">>("GET", `cases/${caseId}/application`); } catch { return null; }
  const reason = h("textarea", { id: "intake-reason", rows: 2, maxlength: 500 });
  const how = h("select", { id: "intake-assign" }, h("option", { value: "self" }, t("intake_assignSelf")), h("option", { value: "area" }, t("intake_assignArea")));
  const decide = async (decision: "accept" | "refuse"): Promise<void> => {
    try {
      await api("POST", `cases/${caseId}/intake`, decision === "accept" ? { decision, assign: how.value } : { decision, reason: reason.value.trim() });
      reload();
    } catch (x) { toast((x as Error).message, "error"); }
  };
  const labelled = (id: string, text: string, el: HTMLElement): HTMLElement => h("div", { class: "field" }, h("label", { for: id }, text), el);
  return h("section", { class: "card", id: "case-application", "aria-labelledby": "ca-h" },
    h("h2", { id: "ca-h" }, `${t("intake_application")} ${a.reference}`),
    h("p", {}, `${t("intake_applicant")}：${partyLine(a.applicant)}`),
    ...a.other_parties.map((p) => h("p", {}, `${t("intake_otherParty")}：${partyLine(p)}`)),
    a.area ? h("p", {}, `${t("intake_area")}：${a.area}`) : null,
    h("p", { class: "pre" }, a.description),
    a.attachments.length ? h("p", {}, `${t("intake_attachments")}：`, ...a.attachments.map((f) =>
      h("a", { href: `/api/v1/application-attachments/${f.id}`, class: "btn btn-quiet" }, f.title))) : null,
    manage && status === "applied" ? h("div", { class: "stack", id: "intake-actions" },
      labelled("intake-assign", t("intake_assign"), how),
      h("button", { class: "btn btn-primary", type: "button", id: "intake-accept", onclick: () => void decide("accept") }, t("intake_accept")),
      labelled("intake-reason", t("intake_refuseReason"), reason),
      h("button", { class: "btn", type: "button", id: "intake-refuse", onclick: () => void decide("refuse") }, t("intake_refuse"))) : null);
}

/** Return visits of a case after its agreement: the due date and the record (回访记录). */
export async function returnVisitPanel(caseId: string, status: string, manage: boolean, reload: () => void): Promise<HTMLElement | null> {
  if (!["agreed", "judicial_confirm", "return_visit"].includes(status)) return null;
  const { items, unperformed } = await api<Schema<"ReturnVisitList">>("GET", `cases/${caseId}/return-visits`);
  const open = items.find((v) => !v.recorded_at);
  const due = h("input", { type: "date", id: "rv-due", value: open?.due_on ?? "" });
  const visitor = h("input", { type: "text", id: "rv-visitor", maxlength: 120 });
  const method = h("select", { id: "rv-method" }, ...(["phone", "visit", "online"] as const).map((m) => h("option", { value: m }, t(`intake_${m}`))));
  const performed = h("select", { id: "rv-performed" }, h("option", { value: "yes" }, t("intake_performed")), h("option", { value: "no" }, t("intake_notPerformed")));
  const notes = h("textarea", { id: "rv-notes", rows: 2, maxlength: 2000 });
  const send = async (m: string, path: string, body: object): Promise<void> => {
    try { await api(m, path, body); reload(); } catch (x) { toast((x as Error).message, "error"); }
  };
  const labelled = (id: string, text: string, el: HTMLElement): HTMLElement => h("div", { class: "field" }, h("label", { for: id }, text), el);
  return h("section", { class: "card", id: "case-return-visits", "aria-labelledby": "rv-h" },
    h("h2", { id: "rv-h" }, t("intake_returnVisit"), " ", unperformedFlag(unperformed)),
    h("ul", { class: "list", id: "rv-list" }, ...items.map((v) => h("li", { "data-visit": v.id },
      v.recorded_at ? `${t("intake_recorded")} · ${v.visitor} · ${t(`intake_${v.method}` as Key)} · ${v.performed ? t("intake_performed") : t("intake_notPerformed")}${v.notes ? ` · ${v.notes}` : ""}`
        : `${t("intake_due")} ${v.due_on}`))),
    manage ? h("form", { class: "inline-form", onsubmit: (e: Event) => { e.preventDefault(); void send("PUT", `cases/${caseId}/return-visit`, { due_on: due.value }); } },
      labelled("rv-due", t("intake_dueOn"), due), h("button", { class: "btn", type: "submit", id: "rv-set-due" }, t("intake_setDue"))) : null,
    manage ? h("form", { class: "stack", onsubmit: (e: Event) => {
      e.preventDefault();
      void send("POST", `cases/${caseId}/return-visits`, { visitor: visitor.value.trim(), method: method.value,
        performed: performed.value === "yes", notes: notes.value.trim() });
    } }, labelled("rv-visitor", t("intake_visitor"), visitor), labelled("rv-method", t("intake_method"), method),
      labelled("rv-performed", t("intake_performed"), performed), labelled("rv-notes", t("intake_notes"), notes),
      h("button", { class: "btn btn-primary", type: "submit", id: "rv-record" }, t("intake_record"))) : null);
}
