// The mediator's expert call form: a domain or a named expert from the office's
// directory (with the experts lent by offices of the city, labelled), the scope (a private consultation, a caucus, or the joint session) and the
// language. The server checks every field again (experts/switchboard.py).

import { api } from "../api";
import { field, h, toast } from "../dom";
import { prefs } from "../prefs";
import type { RoomClient } from "../room";

const zh = {
  who: "请谁", anyExpert: "该领域任一在线专家", namedExpert: "指定专家", domain: "领域", scope: "参与方式",
  scopeConsult: "仅与调解员私下咨询", scopeCaucus: "加入一个单独谈话", scopeJoint: "加入共同调解",
  caucus: "单独谈话", noCaucus: "目前没有单独谈话", language: "语言", langZh: "中文", langEn: "英语",
  call: "呼叫专家", needCaucus: "请先开启一个单独谈话，或选择其他参与方式。", lentFrom: "同城共享 · ",
};
const en: typeof zh = {
  who: "Who", anyExpert: "Any online expert in the domain", namedExpert: "Named expert", domain: "Domain", scope: "Scope",
  scopeConsult: "Private consultation with the mediator", scopeCaucus: "Join a caucus", scopeJoint: "Join the joint session",
  caucus: "Caucus", noCaucus: "No caucus is open", language: "Language", langZh: "Chinese", langEn: "English",
  call: "Call expert", needCaucus: "Open a caucus first, or choose another scope.", lentFrom: "lent by ",
};
type K = keyof typeof zh;
const xt = (k: K): string => (prefs.lang === "en" ? en : zh)[k];

interface Domain { code: string; zh: string; en: string }
interface Expert { id: string; display_name: string; domains: string[]; languages: string[]; organisation: string; status?: string; active: boolean; lent?: boolean; office_name?: string }

/** The form; `onCall` gets the server's first state of the new call. */
export async function expertCallForm(room: RoomClient, onCall: (call: any) => void): Promise<HTMLElement> {
  const { items: domains } = await api<{ items: Domain[] }>("GET", "expert-domains");
  let experts: Expert[] = [];
  try { experts = (await api<{ items: Expert[] }>("GET", "experts")).items.filter((e) => e.active); } catch { /* directory hidden */ }
  const dname = (code: string): string => { const d = domains.find((x) => x.code === code); return d ? (prefs.lang === "en" ? d.en : d.zh) : code; };
  const who = h("select", { id: "expert-who" }, h("option", { value: "" }, xt("anyExpert")),
    experts.map((e) => h("option", { value: e.id }, `${e.display_name}${e.organisation ? `（${e.organisation}）` : ""} · ${e.domains.map(dname).join("、")}`
      + (e.lent ? ` · ${xt("lentFrom")}${e.office_name ?? ""}` : ""))));
  const domain = h("select", { id: "expert-domain" });
  const fillDomains = (): void => {
    const named = experts.find((e) => e.id === who.value);
    const codes = named ? named.domains : domains.map((d) => d.code);
    const keep = domain.value;
    domain.replaceChildren(...codes.map((c) => h("option", { value: c }, dname(c))));
    if (codes.includes(keep)) domain.value = keep;
  };
  who.addEventListener("change", fillDomains);
  fillDomains();
  const scope = h("select", { id: "expert-scope" },
    h("option", { value: "consultation" }, xt("scopeConsult")), h("option", { value: "caucus" }, xt("scopeCaucus")),
    h("option", { value: "joint" }, xt("scopeJoint")));
  const caucus = h("select", { id: "expert-caucus" });
  const caucusField = field(xt("caucus"), caucus);
  const fillCaucuses = (): void => {
    const list = room.layout?.caucuses ?? [];
    const keep = caucus.value;
    caucus.replaceChildren(...(list.length ? list.map((c) => h("option", { value: c.id }, c.name)) : [h("option", { value: "" }, xt("noCaucus"))]));
    if (list.some((c) => c.id === keep)) caucus.value = keep;
    caucusField.classList.toggle("hidden", scope.value !== "caucus");
  };
  scope.addEventListener("change", fillCaucuses);
  room.on("layout", fillCaucuses);
  fillCaucuses();
  const language = h("select", { id: "expert-language" },
    h("option", { value: "zh" }, xt("langZh")), h("option", { value: "en" }, xt("langEn")));
  language.value = prefs.lang === "en" ? "en" : "zh";
  return h("form", { class: "invite-form expert-call-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { domain: domain.value, scope: scope.value, language: language.value };
    if (who.value) body.expert_id = who.value;
    if (scope.value === "caucus") {
      if (!caucus.value) { toast(xt("needCaucus"), "error"); caucus.focus(); return; }
      body.caucus_id = caucus.value;
    }
    const a = await room.call("expert_call", body);
    if (!a.ok) { toast(a.error?.message ?? "", "error"); return; }
    onCall(a.call);
  } },
  h("div", { class: "grid2" }, field(xt("who"), who), field(xt("domain"), domain)),
  h("div", { class: "grid2" }, field(xt("scope"), scope), caucusField),
  field(xt("language"), language),
  h("button", { class: "btn btn-primary", type: "submit", id: "expert-call" }, xt("call")));
}
