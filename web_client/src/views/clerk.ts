// The clerk's console: find cases, read a session's joint record (what was said in a
// caucus is never shown here), and downloads and verification once the agreements
// package offers them.

import { api, hasApi, type CaseOut, type SessionOut, type User } from "../api";
import { clear, fmtTime, h, toast } from "../dom";
import { statusName, t } from "../i18n";
import { onRerender, page } from "../ui";
import { logoutButton, requireUser } from "./login";

interface EventOut { seq: number; at: string; kind: string; actor_id: string | null; caucus_id: string | null; payload: Record<string, unknown> }

export async function clerkPage(app: HTMLElement): Promise<void> {
  const user = await requireUser();
  if (!user) return;
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
        onclick: () => void showCase(c, detail) },
        h("strong", {}, c.number), h("span", { class: "muted" }, ` · ${c.dispute_type} · ${statusName(c.status)}`))))
        : h("li", { class: "muted" }, t("noCases")));
    } catch (x) { toast((x as Error).message, "error"); }
  };
  const verify = h("section", { class: "card", "aria-labelledby": "vf-h" }, h("h2", { id: "vf-h" }, t("verify")),
    h("p", { class: "muted" }, t("verifySoon")));
  void hasApi("verify").then((yes) => { if (yes) verify.append(h("p", {}, t("verifyHint"))); });
  clear(app, page(t("clerkConsole"), [h("h1", { class: "page-title" }, t("clerkConsole")),
    h("div", { class: "columns" },
      h("section", { class: "card", "aria-labelledby": "cs-h" }, h("h2", { id: "cs-h" }, t("cases")),
        h("form", { class: "inline-form", role: "search", onsubmit: (e: Event) => { e.preventDefault(); void search(); } },
          q, h("button", { class: "btn btn-primary", type: "submit" }, t("search"))), results),
      h("div", {}, detail, verify))],
    [h("span", { class: "user" }, user.display_name), logoutButton()]));
  void search();
}

async function showCase(c: CaseOut, el: HTMLElement): Promise<void> {
  const { items } = await api<{ items: SessionOut[] }>("GET", `cases/${c.id}/sessions`);
  const log = h("ul", { class: "transcript-list" });
  clear(el, h("section", { class: "card", "aria-labelledby": "cd-h" }, h("h2", { id: "cd-h" }, c.number),
    c.summary ? h("p", {}, c.summary) : null,
    h("ul", { class: "list" }, items.map((s) => h("li", { class: "row" },
      h("span", {}, s.title || s.id, h("span", { class: `badge st-${s.status}` }, statusName(s.status))),
      h("button", { class: "btn btn-small", type: "button", onclick: async () => {
        const ev = await api<{ items: EventOut[] }>("GET", `sessions/${s.id}/events`);
        clear(log, ev.items.map((e) => h("li", {}, h("span", { class: "muted" }, fmtTime(e.at)), " ", h("strong", {}, e.kind), " ",
          typeof e.payload.text === "string" ? e.payload.text : typeof e.payload.name === "string" ? e.payload.name : "")));
      } }, t("events"))))),
    h("h3", {}, t("events")), h("div", { class: "transcript", tabindex: "0", role: "region", "aria-label": t("events") }, log)));
}
