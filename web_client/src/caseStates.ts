// A case's life as the client shows it: each state's name (zh/en) and colour, one badge
// used by every case list and the case page, and the panel that moves a case. The server
// decides which moves exist (signaling/case_states.py); the client only offers them.

import { api, ApiError, type CaseOut, type User } from "./api";
import { clear, field, h, toast } from "./dom";
import { prefs } from "./prefs";

const NAMES: Record<string, [string, string]> = {
  applied: ["申请", "Applied"],
  accepted: ["受理", "Accepted"],
  rejected: ["不予受理", "Not accepted"],
  scheduled: ["排期", "Scheduled"],
  in_mediation: ["调解中", "In mediation"],
  agreed: ["达成协议", "Agreement reached"],
  not_agreed: ["未达成协议", "No agreement"],
  terminated: ["终止", "Terminated"],
  judicial_confirm: ["司法确认", "Judicial confirmation"],
  return_visit: ["回访", "Return visit"],
  archived: ["归档", "Archived"],
};

/** What the button that moves a case to a state says. */
const ACTIONS: Record<string, [string, string]> = {
  accepted: ["受理", "Accept"],
  rejected: ["不予受理…", "Do not accept…"],
  scheduled: ["排期", "Schedule"],
  in_mediation: ["开始调解", "Start mediation"],
  agreed: ["达成协议", "Agreement reached"],
  not_agreed: ["未达成协议", "No agreement"],
  terminated: ["终止调解…", "Terminate…"],
  judicial_confirm: ["申请司法确认", "Judicial confirmation applied"],
  return_visit: ["回访", "Return visit"],
  archived: ["归档", "Archive"],
};

/** A moment as the office reads it (Asia/Shanghai, the offices' time zone). */
function fmtWhen(at: string): string {
  return new Date(at).toLocaleString(prefs.lang === "en" ? "en-GB" : "zh-CN",
    { dateStyle: "short", timeStyle: "short", timeZone: "Asia/Shanghai" });
}

const NEEDS_REASON = new Set(["rejected", "terminated"]);

const TEXT = {
  zh: { state: "案件状态", log: "流转记录", moves: "下一步", reason: "理由（会记入案件流转记录）", confirm: "确认",
        cancel: "取消", reasonNeeded: "请填写理由。", readOnly: "您可以查看，不能变更案件状态。", none: "此案件已办结。",
        moved: "案件状态已变更为：" },
  en: { state: "Case state", log: "History", moves: "Next step", reason: "Reason (written to the case history)", confirm: "Confirm",
        cancel: "Cancel", reasonNeeded: "Please give a reason.", readOnly: "You can read this case but not change its state.",
        none: "This case is closed.", moved: "The case is now: " },
};

/** The server's refusals of a move, in the office's words (the server's message otherwise). */
const REFUSALS: Record<string, [string, string]> = {
  illegal_transition: ["案件当前状态不能变更为所选状态。", "The case cannot move to that state from where it is."],
  reason_required: ["请填写理由。", "Please give a reason."],
  agreement_not_sealed: ["“达成协议”需要本案已签章的调解协议书。", "“Agreement reached” needs a sealed agreement of this case."],
  record_not_sealed: ["“归档”需要本案已签章的调解记录。", "“Archived” needs a sealed mediation record of this case."],
  case_moved: ["案件状态刚被他人变更，请刷新后再试。", "Someone else just moved the case; reload and try again."],
  not_your_case: ["只有本案调解员或管理员可以变更案件状态。", "Only the case's mediator or an administrator may move it."],
  case_closed: ["此案件已办结，不能再安排调解。", "This case is closed: no session can be scheduled."],
};

export function refusalText(x: unknown): string {
  const r = x instanceof ApiError ? REFUSALS[x.code] : undefined;
  return r ? r[prefs.lang === "en" ? 1 : 0] : (x as Error).message;
}

export function caseStateName(state: string): string {
  const n = NAMES[state];
  return n ? n[prefs.lang === "en" ? 1 : 0] : state;
}

/** The state's label in its colour: the colour is never the only signal. */
export function caseBadge(state: string): HTMLElement {
  return h("span", { class: `badge case-st case-st-${state}`, "data-state": state }, caseStateName(state));
}

interface CaseEvent { at: string; actor_name: string; from_status: string | null; to_status: string; reason: string }

/** May this user move this case? The server checks again; this only hides useless buttons. */
/** States in which a session may still be scheduled (signaling/case_states.py SCHEDULABLE). */
export const SCHEDULABLE = new Set(["applied", "accepted", "scheduled", "in_mediation"]);

export function canMove(user: User, c: CaseOut): boolean {
  if (user.role === "admin") return true;
  return user.role === "mediator" && (c.mediator_id === null || c.mediator_id === user.id);
}

/** The case's state, its history and (for who may) the allowed next moves. */
export async function casePanel(c: CaseOut, user: User, onMoved: (c: CaseOut) => void): Promise<HTMLElement> {
  const tx = TEXT[prefs.lang === "en" ? "en" : "zh"];
  const { items } = await api<{ items: CaseEvent[] }>("GET", `cases/${c.id}/log`);
  const error = h("p", { class: "form-error", role: "alert", id: "case-move-error" });
  const reasonBox = h("div", { id: "case-reason" });
  const doMove = async (to: string, reason = ""): Promise<void> => {
    error.textContent = "";
    try {
      const moved = await api<CaseOut>("POST", `cases/${c.id}/moves`, reason ? { to, reason } : { to });
      toast(tx.moved + caseStateName(moved.status));
      onMoved(moved);
    } catch (x) { error.textContent = refusalText(x); }
  };
  const askReason = (to: string): void => {
    const text = h("textarea", { id: "case-reason-text", rows: "3", maxlength: "1000", required: true });
    clear(reasonBox, h("form", { class: "card", novalidate: true, onsubmit: (e: Event) => {
      e.preventDefault();
      if (!text.value.trim()) { error.textContent = tx.reasonNeeded; text.focus(); return; }
      void doMove(to, text.value.trim());
    } }, h("h3", {}, caseStateName(to)), field(tx.reason, text),
      h("div", { class: "row-actions" },
        h("button", { class: "btn btn-danger", type: "submit", id: "case-reason-confirm" }, tx.confirm),
        h("button", { class: "btn", type: "button", onclick: () => clear(reasonBox) }, tx.cancel))));
    text.focus();
  };
  let moves: HTMLElement;
  if (!canMove(user, c)) moves = h("p", { class: "muted" }, tx.readOnly);
  else if (!c.allowed_moves.length) moves = h("p", { class: "muted" }, tx.none);
  else moves = h("div", { class: "row-actions", id: "case-moves" }, c.allowed_moves.map((to) =>
    h("button", { class: `btn ${NEEDS_REASON.has(to) ? "" : "btn-primary"}`.trim(), type: "button", "data-move": to,
      onclick: () => NEEDS_REASON.has(to) ? askReason(to) : void doMove(to) },
      ACTIONS[to]?.[prefs.lang === "en" ? 1 : 0] ?? caseStateName(to))));
  return h("section", { class: "card", id: "case-state", "aria-labelledby": "cs-state-h" },
    h("h2", { id: "cs-state-h" }, tx.state, caseBadge(c.status)),
    h("h3", {}, tx.moves), moves, reasonBox, error,
    h("h3", {}, tx.log),
    h("ol", { class: "list case-log", id: "case-log" }, items.map((e) => h("li", {},
      h("time", { class: "muted", datetime: e.at }, fmtWhen(e.at)), " ", e.actor_name, " ",
      e.from_status ? caseBadge(e.from_status) : null, e.from_status ? " → " : null, caseBadge(e.to_status),
      e.reason ? h("span", { class: "row-sub" }, e.reason) : null))));
}
