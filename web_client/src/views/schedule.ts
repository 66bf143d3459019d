// Scheduling on the case page: the mediator sets a date, a time (in the office's time
// zone), the expected length and who is invited; the server makes each link ahead and
// sends it by SMS or e-mail. Each scheduled session's links are listed until revoked.

import { api, type InviteCreated, type InviteOut, type Schema, type SessionOut, type User } from "../api";
import { clear, field, h, toast } from "../dom";
import { refusalText } from "../caseStates";
import { sideName, t as tr } from "../i18n";
import { prefs } from "../prefs";
import type { SideInfo } from "../room";
import { fetchSides } from "./sides";

const TEXT = {
  zh: {
    title: "安排调解", date: "日期", time: "时间", minutes: "预计时长（分钟）", name: "场次名称",
    invitees: "邀请参加人", person: "姓名", side: "方", contact: "手机号或电子邮箱（可不填，现场发链接）",
    add: "再加一人", remove: "删除", submit: "安排并发送邀请", none: "（不指定）", sideA: "甲方", sideB: "乙方",
    links: "邀请链接", revoke: "撤销", revoked: "已撤销", used: "已使用", noLinks: "没有邀请链接。",
    sent: "已发送", failed: "发送失败", unreachable: "无法发送（未配置该渠道）", byHand: "当面交给", copy: "复制链接",
    at: "时间", zone: "时区", done: "已安排，邀请已发出。", scheduledSessions: "已安排的调解",
  },
  en: {
    title: "Schedule a session", date: "Date", time: "Time", minutes: "Expected length (minutes)", name: "Session title",
    invitees: "Invite", person: "Name", side: "Side", contact: "Mobile or e-mail (optional: hand the link over)",
    add: "Add a person", remove: "Remove", submit: "Schedule and send invitations", none: "(none)", sideA: "Side A", sideB: "Side B",
    links: "Join links", revoke: "Revoke", revoked: "Revoked", used: "Used", noLinks: "No join links.",
    sent: "Sent", failed: "Not delivered", unreachable: "Not sent (no sender for this channel)", byHand: "Hand over", copy: "Copy link",
    at: "When", zone: "Time zone", done: "Scheduled; the invitations are on their way.", scheduledSessions: "Scheduled sessions",
  },
};

function tx() { return TEXT[prefs.lang === "en" ? "en" : "zh"]; }

export function officeZone(user: User): string { return user.office_time_zone || "Asia/Shanghai"; }

/** A moment in the office's time zone, as the office reads it. */
export function officeTime(at: string, user: User): string {
  return new Date(at).toLocaleString(prefs.lang === "en" ? "en-GB" : "zh-CN",
    { dateStyle: "medium", timeStyle: "short", timeZone: officeZone(user) });
}

function inviteeRow(list: HTMLElement, sides: Promise<SideInfo[]>): HTMLElement {
  const t = tx();
  const name = h("input", { type: "text", class: "inv-name", maxlength: "120", required: true });
  // The case's named sides (申请人, 被申请人, 第三人, ...), as soon as they are read.
  const side = h("select", { class: "inv-side" }, h("option", { value: "" }, t.none),
    h("option", { value: "A" }, tr("sideA")), h("option", { value: "B" }, tr("sideB")));
  void sides.then((list) => clear(side, h("option", { value: "" }, t.none),
    list.map((x) => h("option", { value: x.key }, sideName(x.key)))));
  const contact = h("input", { type: "text", class: "inv-contact", maxlength: "200", inputmode: "email", autocomplete: "off" });
  const row: HTMLElement = h("fieldset", { class: "invitee" }, h("legend", { class: "sr-only" }, t.person),
    h("div", { class: "grid2" }, field(t.person, name), field(t.side, side)), field(t.contact, contact),
    h("button", { class: "btn btn-small", type: "button", onclick: () => row.remove() }, t.remove));
  list.append(row);
  return row;
}

/** The form that schedules a session of the case. */
export function scheduleForm(caseId: string, user: User, onDone: (links: InviteCreated[]) => void): HTMLElement {
  const t = tx();
  const tomorrow = new Date(Date.now() + 86400_000).toLocaleDateString("en-CA", { timeZone: officeZone(user) });
  const date = h("input", { type: "date", id: "sch-date", required: true, value: tomorrow });
  const time = h("input", { type: "time", id: "sch-time", required: true, value: "09:30" });
  const minutes = h("input", { type: "number", id: "sch-minutes", min: "15", max: "480", step: "15", value: "60", required: true });
  const title = h("input", { type: "text", id: "sch-title", maxlength: "200" });
  const language = h("select", { id: "sch-language" }, h("option", { value: "zh" }, tr("lang_zh")), h("option", { value: "en" }, tr("lang_en")));
  const sides = fetchSides(caseId);
  const people = h("div", { id: "sch-invitees" });
  inviteeRow(people, sides);
  const error = h("p", { class: "form-error", role: "alert", id: "sch-error" });
  return h("form", { class: "card", id: "case-schedule", "aria-labelledby": "sch-h", onsubmit: async (e: Event) => {
    e.preventDefault();
    error.textContent = "";
    const invitees = [...people.querySelectorAll<HTMLElement>(".invitee")].map((r) => {
      const side = (r.querySelector(".inv-side") as HTMLSelectElement).value;
      return { name: (r.querySelector(".inv-name") as HTMLInputElement).value.trim(),
               contact: (r.querySelector(".inv-contact") as HTMLInputElement).value.trim(),
               ...(side ? { side } : {}) };
    }).filter((p) => p.name);
    try {
      const out = await api<Schema<"ScheduledOut">>("POST", `cases/${caseId}/schedule`, {
        title: title.value.trim(), starts_at: `${date.value}T${time.value}:00`,
        expected_minutes: Number(minutes.value), language: language.value, invitees });
      toast(t.done);
      onDone(out.invites);
    } catch (x) { error.textContent = refusalText(x); }
  } }, h("h2", { id: "sch-h" }, t.title),
    h("div", { class: "grid2" }, field(t.date, date), field(`${t.time}（${officeZone(user)}）`, time)),
    h("div", { class: "grid2" }, field(t.minutes, minutes), field(t.name, title)),
    field(tr("sessionLanguage"), language),
    h("h3", {}, t.invitees), people,
    h("button", { class: "btn", type: "button", id: "sch-add", onclick: () => { inviteeRow(people, sides).querySelector("input")?.focus(); } }, t.add),
    error, h("button", { class: "btn btn-primary", type: "submit", id: "sch-submit" }, t.submit));
}

/** Each scheduled session of the case with its links, until revoked. */
export async function scheduledList(sessions: SessionOut[], user: User, canManage: boolean,
                                    fresh: InviteCreated[]): Promise<HTMLElement | null> {
  const t = tx();
  const upcoming = sessions.filter((s) => s.status === "scheduled" && s.scheduled_at);
  if (!upcoming.length) return null;
  const urls = new Map(fresh.map((i) => [i.id, i.url]));
  const blocks = await Promise.all(upcoming.map(async (s) => {
    const { items } = await api<Schema<"InviteList">>("GET", `sessions/${s.id}/invites`);
    const list = h("ul", { class: "list", "data-session": s.id });
    const render = (invs: InviteOut[]): void => {
      clear(list, invs.length ? invs.map((i) => {
        const state = i.revoked ? t.revoked : i.uses >= i.max_uses ? t.used
          : i.notified ? `${t[i.notified as "sent" | "failed" | "unreachable"] ?? i.notified}` : t.byHand;
        const url = urls.get(i.id);
        return h("li", { class: "row", "data-invite": i.id },
          h("span", {}, h("strong", {}, i.label || i.role), i.side ? ` · ${sideName(i.side)}` : "",
            i.contact_masked ? ` · ${i.contact_masked}` : "", h("span", { class: `badge${i.revoked ? " st-ended" : ""}` }, state),
            // The invitee said they cannot come (signaling/intake.py).
            i.declined_at ? h("span", { class: "badge st-failed", "data-declined": i.id },
              `${prefs.lang === "en" ? "cannot come" : "无法参加"}${i.decline_reason ? `：${i.decline_reason}` : ""}`) : null),
          h("span", { class: "row-actions" },
            url && !i.revoked ? h("button", { class: "btn btn-small", type: "button",
              onclick: () => void navigator.clipboard?.writeText(url) }, t.copy) : null,
            canManage && !i.revoked ? h("button", { class: "btn btn-small btn-danger-quiet", type: "button", "data-revoke": i.id,
              onclick: async () => {
                try {
                  const r = await api<InviteOut>("POST", `invites/${i.id}/revoke`);
                  render(invs.map((x) => x.id === r.id ? r : x));
                } catch (x) { toast((x as Error).message, "error"); }
              } }, t.revoke) : null));
      }) : h("li", { class: "muted" }, t.noLinks));
    };
    render(items);
    return h("div", { class: "scheduled" },
      h("h3", {}, s.title, " · ", h("time", { datetime: s.scheduled_at ?? "" }, officeTime(s.scheduled_at ?? "", user)),
        s.expected_minutes ? ` · ${s.expected_minutes} min` : ""),
      h("h4", { class: "sr-only" }, t.links), list);
  }));
  return h("section", { class: "card", id: "case-scheduled", "aria-labelledby": "scd-h" },
    h("h2", { id: "scd-h" }, t.scheduledSessions), blocks);
}
