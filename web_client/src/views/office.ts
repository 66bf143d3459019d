// The office around the rooms (/office): the statistics dashboard and the case register
// for office heads and administrators, and the administrator's console (staff accounts,
// the expert directory, templates, the office's areas for intake, retention periods, the
// expert time ledger).
//
// Charts are drawn by uPlot (bundled, about 50 KB: bars and lines on a canvas). A canvas is
// no text for a screen reader, so every chart has a table view of the same numbers and
// a CSV download; the chart carries a one-line summary as its label.

import uPlot from "uplot";
import { api, ApiError, csrf, type User } from "../api";
import { caseStateName } from "../caseStates";
import { clear, field, h, toast } from "../dom";
import { t as tt } from "../i18n";
import { prefs } from "../prefs";
import { onRerender, page } from "../ui";
import { logoutButton, requireUser } from "./login";

const TEXT = {
  zh: {
    title: "统计与管理", dashboard: "统计", staff: "人员账号", experts: "专家库", templates: "文书模板",
    register: "案件台账", retention: "保存期限", ledger: "专家工时", since: "申请日期从", until: "至",
    mediator: "调解员", office: "调委会", all: "全部", apply: "查询", cases: "案件数", successRate: "调解成功率",
    medianDays: "申请到达成协议（中位天数）", online: "线上调解场次", sealed: "已签章协议", judicial: "申请司法确认",
    byState: "按案件状态", byType: "按纠纷类型", byMonth: "按月份（申请）", expertMinutes: "专家工时（分钟，按领域）",
    showTable: "表格", hideTable: "隐藏表格", csv: "下载 CSV", key: "项目", count: "数量", noData: "暂无数据",
    registerIntro: "按上面的查询条件导出人民调解案件登记台账。当事人姓名按您的角色显示或遮挡；不含身份证号和电话。",
    csvFile: "导出 CSV", xlsxFile: "导出 Excel（XLSX）", username: "登录名", displayName: "姓名", role: "角色",
    password: "初始密码（至少 8 位）", create: "创建", active: "启用", disabled: "已停用", disable: "停用", enable: "启用",
    resetPw: "重置密码", newPw: "新密码（至少 8 位）", save: "保存", saved: "已保存", created: "已创建",
    domains: "专业领域", languages: "语言（逗号分隔，如 zh, yue）", organisation: "所属机构", region: "地区",
    phone: "电话", addExpert: "添加专家", expertAdded: "专家已添加", kind: "文书种类", tplName: "模板名称",
    file: "DOCX 文件", upload: "上传并检查", tplOk: "模板检查通过，已保存：", tplBad: "模板未通过检查：",
    noTemplates: "本调委会还没有自己的模板，使用内置模板。", chatDays: "文字交流", transcriptsDays: "转写文字",
    evidenceDays: "证据文件", audioDays: "录音", applicationsDays: "在线申请附件（结案后）", partyCopyDays: "当事人下载副本", days: "天", retentionIntro: "以下期限由系统配置（TIAOJIE_RETENTION_*）决定，此处只读。",
    ledgerIntro: "专家在线服务时间（分钟），按所选期间导出。", ledgerCsv: "导出专家工时 CSV", notAllowed: "只有调委会负责人和管理员可以查看此页面。",
    roles: { mediator: "调解员", clerk: "书记员", admin: "管理员", expert: "专家", head: "负责人" } as Record<string, string>,
    kinds: { agreement: "调解协议书", record: "调解记录", oral_register: "口头协议登记表" } as Record<string, string>,
    areas: "辖区", areasIntro: "在线申请按申请人住址中的关键词（如街道、小区名）依次匹配辖区，分配给该辖区的调解员。",
    areaName: "辖区名称", keywords: "关键词（逗号分隔）", areaMediator: "调解员", noMediator: "不指定", addArea: "添加辖区",
    removeArea: "删除", saveAreas: "保存辖区",
    periodFrom: "起始日期", periodTo: "截止日期", preview: "用示例数据预览（DOCX）", visits: "服务次数", minutes: "分钟", total: "合计", makeDefault: "设为本会默认", isDefault: "本会默认",
  },
  en: {
    title: "Statistics and administration", dashboard: "Statistics", staff: "Staff accounts", experts: "Experts",
    templates: "Templates", register: "Case register", retention: "Retention", ledger: "Expert hours", since: "Applied from",
    until: "to", mediator: "Mediator", office: "Office", all: "All", apply: "Show", cases: "Cases", successRate: "Success rate",
    medianDays: "Application to agreement (median days)", online: "Sessions held online", sealed: "Agreements sealed",
    judicial: "Judicial confirmation applied", byState: "By state", byType: "By dispute type", byMonth: "By month (applied)",
    expertMinutes: "Expert minutes by domain", showTable: "Table", hideTable: "Hide table", csv: "Download CSV", key: "Item",
    count: "Count", noData: "No data yet",
    registerIntro: "Export the case register for the filters above. Parties' names are shown or masked as your role requires; no ID or phone numbers.",
    csvFile: "Export CSV", xlsxFile: "Export Excel (XLSX)", username: "Username", displayName: "Name", role: "Role",
    password: "First password (8+ characters)", create: "Create", active: "Active", disabled: "Disabled", disable: "Disable",
    enable: "Enable", resetPw: "Reset password", newPw: "New password (8+ characters)", save: "Save", saved: "Saved",
    created: "Created", domains: "Domains", languages: "Languages (comma separated, e.g. zh, yue)", organisation: "Organisation",
    region: "Region", phone: "Phone", addExpert: "Add expert", expertAdded: "Expert added", kind: "Document kind",
    tplName: "Template name", file: "DOCX file", upload: "Upload and check", tplOk: "Template passed the checks and was saved: ",
    tplBad: "The template did not pass: ", noTemplates: "This office has no templates of its own; the built-in ones are used.",
    chatDays: "Chat", transcriptsDays: "Transcripts", evidenceDays: "Evidence files", audioDays: "Audio recordings", applicationsDays: "Application attachments (after closing)", partyCopyDays: "Party copies", days: "days",
    retentionIntro: "These periods are settings (TIAOJIE_RETENTION_*); read-only here.",
    ledgerIntro: "Experts' online service time (minutes) for the period chosen.", ledgerCsv: "Export expert hours CSV",
    notAllowed: "Only office heads and administrators may open this page.",
    roles: { mediator: "Mediator", clerk: "Clerk", admin: "Administrator", expert: "Expert", head: "Office head" } as Record<string, string>,
    kinds: { agreement: "Agreement", record: "Mediation record", oral_register: "Oral-agreement register" } as Record<string, string>,
    areas: "Areas", areasIntro: "Online applications are matched to the first area with a keyword (street, estate) in the applicant's address and assigned to its mediator.",
    areaName: "Area name", keywords: "Keywords (comma separated)", areaMediator: "Mediator", noMediator: "None", addArea: "Add area",
    removeArea: "Remove", saveAreas: "Save areas",
    periodFrom: "From", periodTo: "To", preview: "Preview with sample data (DOCX)", visits: "Visits", minutes: "Minutes", total: "Total", makeDefault: "Make the office default", isDefault: "Office default",
  },
};
const tx = (): typeof TEXT.zh => TEXT[prefs.lang === "en" ? "en" : "zh"];

interface Count { key: string; count: number }
interface Choice { id: string; name: string }
interface Stats {
  office_id: string | null; cases: number; by_state: Count[]; by_type: Count[]; by_month: Count[];
  decided: number; succeeded: number; success_rate: number | null; median_days_to_agreement: number | null;
  sessions_online: number; expert_minutes: Count[]; agreements_sealed: number; judicial_confirmations: number;
  offices: Choice[]; mediators: Choice[];
}
interface Staff { id: string; username: string; display_name: string; role: string; active: boolean; phone?: string }
interface Expert { id: string; display_name: string; domains: string[]; languages: string[]; organisation: string; region: string; active: boolean }
interface Template { id: string; kind: string; language: string; name: string; created_at: string; is_default: boolean }

const STATE_COLOURS: Record<string, string> = {
  applied: "#5b6b7b", accepted: "#1d5fb4", rejected: "#b3261e", scheduled: "#6a3fb4", in_mediation: "#b45f06",
  agreed: "#1e7a3f", not_agreed: "#8a6a00", terminated: "#555555", judicial_confirm: "#0e6e72", return_visit: "#a3307a",
  archived: "#2f3a45",
};

type Section = "dashboard" | "staff" | "experts" | "templates" | "areas" | "types" | "retention" | "ledger";
interface DisputeType { id: string; key: string; name: string; active: boolean; position: number; default: boolean }
interface Area { name: string; keywords: string[]; mediator_id: string | null }

export async function officePage(app: HTMLElement): Promise<void> {
  const user = await requireUser();
  if (!user) return;
  let section: Section = (new URLSearchParams(location.search).get("tab") as Section) || "dashboard";
  const render = (): void => {
    if (user.role !== "head" && user.role !== "admin") {
      clear(app, page(tx().title, [h("h1", { class: "page-title" }, tx().title), h("p", { class: "card" }, tx().notAllowed)],
        [logoutButton()]));
      return;
    }
    const tabs: Section[] = user.role === "admin" ? ["dashboard", "staff", "experts", "templates", "areas", "types", "retention", "ledger"] : ["dashboard", "types"];
    if (!tabs.includes(section)) section = "dashboard";
    const body = h("div", { id: "office-body" });
    const nav = tabs.length > 1 ? h("nav", { class: "row-actions office-tabs", "aria-label": tx().title }, tabs.map((s) =>
      h("button", { class: `btn ${s === section ? "btn-primary" : ""}`.trim(), type: "button", id: `tab-${s}`,
        "aria-current": s === section ? "page" : null,
        onclick: () => { section = s; history.replaceState(null, "", `/office?tab=${s}`); render(); } }, s === "types" ? tt("dtTab") : tx()[s]))) : null;
    clear(app, page(tx().title, [h("h1", { class: "page-title" }, tx().title), ...(nav ? [nav] : []), body],
      [h("span", { class: "user" }, user.display_name), logoutButton()]));
    const show: Record<Section, (el: HTMLElement, u: User) => Promise<void>> = {
      dashboard, staff: staffSection, experts: expertsSection, templates: templatesSection, areas: areasSection, types: typesSection, retention: retentionSection, ledger: ledgerSection,
    };
    void show[section](body, user).catch((x) => toast((x as Error).message, "error"));
  };
  onRerender(render);
  render();
}

// -- the dashboard -----------------------------------------------------------------------

function downloadCsv(name: string, rows: (string | number)[][]): void {
  const esc = (v: string | number): string => {
    let s = String(v);
    if (/^[=+\-@]/.test(s)) s = `'${s}`;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const text = "\ufeff" + rows.map((r) => r.map(esc).join(",")).join("\r\n") + "\r\n";
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: name, class: "sr-only" });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function chartCard(id: string, title: string, data: Count[], label: (k: string) => string,
                   kind: "bar" | "line" = "bar", colours?: (k: string) => string): HTMLElement {
  const t = tx();
  const rows = data.map((d) => [label(d.key), d.count] as [string, number]);
  const summary = rows.length ? `${title}: ` + rows.map(([k, n]) => `${k} ${n}`).join(", ") : `${title}: ${t.noData}`;
  const canvas = h("div", { role: "img", "aria-label": summary, id: `chart-${id}`, class: "chart-canvas" });
  const table = h("table", { class: "data-table", id: `table-${id}`, hidden: true },
    h("caption", { class: "sr-only" }, title),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t.key), h("th", { scope: "col" }, t.count))),
    h("tbody", {}, rows.map(([k, n]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, String(n))))));
  const toggle = h("button", { class: "btn btn-small", type: "button", "aria-expanded": "false", "aria-controls": table.id,
    id: `toggle-${id}`, onclick: () => {
      table.hidden = !table.hidden;
      toggle.setAttribute("aria-expanded", String(!table.hidden));
      toggle.textContent = table.hidden ? t.showTable : t.hideTable;
    } }, t.showTable);
  const csvBtn = h("button", { class: "btn btn-small", type: "button", id: `csv-${id}`,
    onclick: () => downloadCsv(`${id}.csv`, [[t.key, t.count], ...rows]) }, t.csv);
  const wrap = h("div", { class: "chart-box" }, rows.length ? canvas : h("p", { class: "muted" }, t.noData));
  if (rows.length) window.requestAnimationFrame(() => drawChart(canvas, title, rows, kind, data.map((d) => colours ? colours(d.key) : "#1d5fb4")));
  return h("section", { class: "card chart-card", "aria-labelledby": `h-${id}`, id: `card-${id}` },
    h("h2", { id: `h-${id}` }, title), wrap, h("div", { class: "row-actions" }, toggle, csvBtn), table);
}

/** A bar or line chart of (label, count) rows, sized to its box and redrawn when it changes. */
function drawChart(box: HTMLElement, title: string, rows: [string, number][], kind: "bar" | "line", fills: string[]): void {
  const xs = rows.map((_, i) => i);
  const ys = rows.map((r) => r[1]);
  const ink = "#1a1f24";
  const size = (): { width: number; height: number } => ({ width: Math.max(box.clientWidth, 200), height: Math.max(box.clientHeight, 160) });
  const series: uPlot.Series = kind === "bar"
    ? { label: title, stroke: fills[0], fill: fills[0], points: { show: false },
        paths: uPlot.paths.bars!({ size: [0.6, 64], disp: { fill: { unit: 3, values: () => fills } } }) }
    : { label: title, stroke: "#1d5fb4", width: 2, points: { show: true, size: 8, fill: "#1d5fb4" } };
  const plot = new uPlot({
    ...size(), legend: { show: false }, cursor: { show: false },
    scales: { x: { time: false, range: [-0.5, Math.max(rows.length - 0.5, 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    axes: [
      { stroke: ink, grid: { show: false }, splits: () => xs, values: (_u, splits) => splits.map((i) => rows[i]?.[0] ?? "") },
      { stroke: ink, grid: { stroke: "#d5dbe1", width: 1 }, values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")) },
    ],
    series: [{}, series],
  }, [xs, ys], box);
  plot.root.setAttribute("aria-hidden", "true");
  new ResizeObserver(() => plot.setSize(size())).observe(box);
}

function kpi(id: string, label: string, value: string): HTMLElement {
  return h("div", { class: "kpi card", id: `kpi-${id}` }, h("span", { class: "kpi-label" }, label), h("strong", { class: "kpi-value" }, value));
}

async function dashboard(el: HTMLElement, user: User): Promise<void> {
  const t = tx();
  const params = new URLSearchParams(location.search);
  const since = h("input", { type: "date", id: "f-since", value: params.get("since") ?? "" });
  const until = h("input", { type: "date", id: "f-until", value: params.get("until") ?? "" });
  const mediator = h("select", { id: "f-mediator" }, h("option", { value: "" }, t.all));
  const office = h("select", { id: "f-office" }, h("option", { value: "" }, t.all));
  const results = h("div", { id: "dash-results", "aria-live": "polite" });
  const regLinks = h("div", { class: "row-actions", id: "register-links" });
  const query = (): string => {
    const q = new URLSearchParams();
    if (since.value) q.set("since", since.value);
    if (until.value) q.set("until", until.value);
    if (mediator.value) q.set("mediator_id", mediator.value);
    if (user.role === "admin" && office.value) q.set("office_id", office.value);
    return q.toString();
  };
  const load = async (): Promise<void> => {
    let s: Stats;
    try { s = await api<Stats>("GET", `statistics?${query()}`); } catch (x) {
      clear(results, h("p", { class: "form-error", role: "alert" }, (x as Error).message));
      return;
    }
    const keepMed = mediator.value;
    clear(mediator, h("option", { value: "" }, t.all), s.mediators.map((m) => h("option", { value: m.id, selected: m.id === keepMed }, m.name)));
    const keepOffice = office.value;
    clear(office, h("option", { value: "" }, t.all), s.offices.map((o) => h("option", { value: o.id, selected: o.id === keepOffice }, o.name)));
    const rate = s.success_rate === null ? "—" : `${Math.round(s.success_rate * 1000) / 10}%`;
    clear(results,
      h("div", { class: "kpis" },
        kpi("cases", t.cases, String(s.cases)), kpi("success", t.successRate, rate),
        kpi("median", t.medianDays, s.median_days_to_agreement === null ? "—" : String(s.median_days_to_agreement)),
        kpi("online", t.online, String(s.sessions_online)), kpi("sealed", t.sealed, String(s.agreements_sealed)),
        kpi("judicial", t.judicial, String(s.judicial_confirmations))),
      h("div", { class: "chart-grid" },
        chartCard("by-state", t.byState, s.by_state, caseStateName, "bar", (k) => STATE_COLOURS[k] ?? "#1d5fb4"),
        chartCard("by-type", t.byType, s.by_type, (k) => k),
        chartCard("by-month", t.byMonth, s.by_month, (k) => k, "line"),
        chartCard("expert-minutes", t.expertMinutes, s.expert_minutes, (k) => k)));
    const q = query();
    clear(regLinks,
      h("a", { class: "btn", href: `/api/v1/register.csv?${q}`, download: "register.csv", id: "register-csv" }, t.csvFile),
      h("a", { class: "btn", href: `/api/v1/register.xlsx?${q}`, download: "register.xlsx", id: "register-xlsx" }, t.xlsxFile));
  };
  const form = h("form", { class: "card filters", id: "dash-filters", onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    h("div", { class: "filter-row" }, field(t.since, since), field(t.until, until), field(t.mediator, mediator),
      user.role === "admin" ? field(t.office, office) : null),
    h("button", { class: "btn btn-primary", type: "submit", id: "dash-apply" }, t.apply));
  clear(el, form, results,
    h("section", { class: "card", "aria-labelledby": "reg-h" }, h("h2", { id: "reg-h" }, t.register),
      h("p", { class: "muted" }, t.registerIntro), regLinks));
  await load();
}

// -- the administrator's console -----------------------------------------------------------

function errorText(x: unknown): string {
  return x instanceof ApiError ? `${x.message} (${x.code})` : (x as Error).message;
}

const ROLES = ["mediator", "clerk", "head", "admin", "expert"];

async function staffSection(el: HTMLElement): Promise<void> {
  const t = tx();
  const list = h("tbody", { id: "staff-rows" });
  const err = h("p", { class: "form-error", role: "alert", id: "staff-error" });
  const load = async (): Promise<void> => {
    const { items } = await api<{ items: Staff[] }>("GET", "staff");
    clear(list, items.map((u) => {
      const role = h("select", { "aria-label": `${t.role} ${u.username}`, "data-user": u.username },
        ROLES.map((r) => h("option", { value: r, selected: r === u.role }, t.roles[r] ?? r)));
      const patch = async (body: Record<string, unknown>): Promise<void> => {
        err.textContent = "";
        try { await api("PATCH", `staff/${u.id}`, body); toast(t.saved); await load(); } catch (x) { err.textContent = errorText(x); }
      };
      role.addEventListener("change", () => void patch({ role: role.value }));
      const pw = h("input", { type: "password", autocomplete: "new-password", minlength: "8", "aria-label": `${t.newPw} ${u.username}` });
      const tel = h("input", { type: "tel", inputmode: "numeric", maxlength: "20", "aria-label": `${tt("staffPhoneNew")} ${u.username}`, "data-phone-of": u.username });
      return h("tr", {}, h("th", { scope: "row" }, u.username), h("td", {}, u.display_name), h("td", {}, role),
        h("td", {}, u.active ? t.active : t.disabled, " ",
          h("button", { class: "btn btn-small", type: "button", onclick: () => void patch({ active: !u.active }) }, u.active ? t.disable : t.enable)),
        h("td", {}, h("form", { class: "inline-form", onsubmit: async (e: Event) => {
          e.preventDefault();
          err.textContent = "";
          try { await api("POST", `staff/${u.id}/password`, { password: pw.value }); pw.value = ""; toast(t.saved); } catch (x) { err.textContent = errorText(x); }
        } }, pw, h("button", { class: "btn btn-small", type: "submit" }, t.resetPw))),
        h("td", {}, h("span", { "data-phone-shown": u.username }, u.phone || tt("staffPhoneNone")), " ",
          h("form", { class: "inline-form", onsubmit: (e: Event) => { e.preventDefault(); void patch({ phone: tel.value.trim() }); } },
            tel, h("button", { class: "btn btn-small", type: "submit" }, tt("staffPhoneSet")))));
    }));
  };
  const username = h("input", { id: "new-username", required: true, autocomplete: "off" });
  const name = h("input", { id: "new-name", required: true });
  const role = h("select", { id: "new-role" }, ROLES.map((r) => h("option", { value: r }, t.roles[r] ?? r)));
  const password = h("input", { id: "new-password", type: "password", required: true, minlength: "8", autocomplete: "new-password" });
  const phone = h("input", { id: "new-phone", type: "tel", inputmode: "numeric", maxlength: "20", autocomplete: "off" });
  const form = h("form", { class: "card", id: "staff-create", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    try {
      await api("POST", "staff", { username: username.value.trim(), display_name: name.value.trim(), role: role.value, password: password.value, phone: phone.value.trim() });
      toast(t.created); form.reset(); await load();
    } catch (x) { err.textContent = errorText(x); }
  } }, h("h2", {}, t.create), field(t.username, username), field(t.displayName, name), field(t.role, role), field(t.password, password), field(tt("staffPhone"), phone),
    h("button", { class: "btn btn-primary", type: "submit" }, t.create));
  clear(el, h("section", { class: "card", "aria-labelledby": "staff-h" }, h("h2", { id: "staff-h" }, t.staff), err,
    h("div", { class: "table-scroll" }, h("table", { class: "data-table" },
      h("thead", {}, h("tr", {}, [t.username, t.displayName, t.role, t.active, t.resetPw, tt("staffPhoneCol")].map((c) => h("th", { scope: "col" }, c)))), list))), form);
  await load();
}

async function expertsSection(el: HTMLElement): Promise<void> {
  const t = tx();
  const domains = (await api<{ items: { code: string; zh: string; en: string }[] }>("GET", "expert-domains")).items;
  const rows = h("tbody", { id: "expert-rows" });
  const err = h("p", { class: "form-error", role: "alert", id: "expert-error" });
  const domName = (c: string): string => { const d = domains.find((x) => x.code === c); return d ? (prefs.lang === "en" ? d.en : d.zh) : c; };
  const load = async (): Promise<void> => {
    const { items } = await api<{ items: Expert[] }>("GET", "experts");
    clear(rows, items.map((x) => h("tr", {}, h("th", { scope: "row" }, x.display_name), h("td", {}, x.domains.map(domName).join("、")),
      h("td", {}, x.languages.join(", ")), h("td", {}, x.organisation), h("td", {}, x.region), h("td", {}, x.active ? t.active : t.disabled))));
  };
  const username = h("input", { id: "exp-username", required: true, autocomplete: "off" });
  const name = h("input", { id: "exp-name", required: true });
  const password = h("input", { id: "exp-password", type: "password", required: true, minlength: "8", autocomplete: "new-password" });
  const domainBoxes = domains.map((d) => h("label", { class: "check" }, h("input", { type: "checkbox", value: d.code, name: "domain" }), " ",
    prefs.lang === "en" ? d.en : d.zh));
  const languages = h("input", { id: "exp-languages", value: "zh" });
  const organisation = h("input", { id: "exp-org" });
  const region = h("input", { id: "exp-region" });
  const phone = h("input", { id: "exp-phone", type: "tel", autocomplete: "off" });
  const form = h("form", { class: "card", id: "expert-create", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    const picked = domainBoxes.map((l) => l.querySelector("input")!).filter((i) => i.checked).map((i) => i.value);
    try {
      const u = await api<Staff>("POST", "staff", { username: username.value.trim(), display_name: name.value.trim(), role: "expert", password: password.value });
      await api("POST", "experts", { user_id: u.id, domains: picked,
        languages: languages.value.split(/[,，\s]+/).filter(Boolean), organisation: organisation.value.trim(),
        region: region.value.trim(), ...(phone.value.trim() ? { phone: phone.value.trim() } : {}),
        availability: [0, 1, 2, 3, 4].map((d) => ({ weekday: d, start: "09:00", end: "17:00" })) });
      toast(t.expertAdded); form.reset(); await load();
    } catch (x) { err.textContent = errorText(x); }
  } }, h("h2", {}, t.addExpert), field(t.username, username), field(t.displayName, name), field(t.password, password),
    h("fieldset", {}, h("legend", {}, t.domains), domainBoxes), field(t.languages, languages), field(t.organisation, organisation),
    field(t.region, region), field(t.phone, phone), h("button", { class: "btn btn-primary", type: "submit", id: "expert-add" }, t.addExpert));
  clear(el, h("section", { class: "card", "aria-labelledby": "exp-h" }, h("h2", { id: "exp-h" }, t.experts), err,
    h("div", { class: "table-scroll" }, h("table", { class: "data-table" },
      h("thead", {}, h("tr", {}, [t.displayName, t.domains, t.languages.split("（")[0].split(" (")[0], t.organisation, t.region, t.active]
        .map((c) => h("th", { scope: "col" }, c)))), rows))), form);
  await load();
}

async function templatesSection(el: HTMLElement): Promise<void> {
  const t = tx();
  const rows = h("ul", { class: "list", id: "template-rows" });
  const result = h("div", { id: "template-result", role: "status", "aria-live": "polite" });
  const load = async (): Promise<void> => {
    const { items } = await api<{ items: Template[] }>("GET", "templates");
    clear(rows, items.length ? items.map((x) => h("li", { "data-template": x.name },
      h("strong", {}, x.name), ` · ${t.kinds[x.kind] ?? x.kind} · ${x.language} `,
      x.is_default ? h("span", { class: "badge", "data-default": "" }, t.isDefault) : null,
      h("div", { class: "row-actions" },
        h("a", { class: "btn btn-small", href: `/api/v1/templates/${x.id}/preview`, download: `${x.name}-preview.docx` }, t.preview),
        x.is_default ? null : h("button", { class: "btn btn-small", type: "button", "data-make-default": x.id, onclick: async () => {
          try { await api("POST", `templates/${x.id}/default`); toast(t.saved); await load(); } catch (e) { toast(errorText(e), "error"); }
        } }, t.makeDefault))))
      : h("li", { class: "muted" }, t.noTemplates));
  };
  const kind = h("select", { id: "tpl-kind" }, Object.keys(t.kinds).map((k) => h("option", { value: k }, t.kinds[k])));
  const name = h("input", { id: "tpl-name", maxlength: "200" });
  const file = h("input", { id: "tpl-file", type: "file", required: true,
    accept: ".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document" });
  const form = h("form", { class: "card", id: "template-upload", onsubmit: async (e: Event) => {
    e.preventDefault();
    const f = file.files?.[0];
    if (!f) { file.focus(); return; }
    const q = new URLSearchParams({ kind: kind.value, language: "zh-CN", name: name.value.trim() || f.name });
    const r = await fetch(`/api/v1/templates?${q}`, { method: "POST", credentials: "same-origin", body: f,
      headers: { "Content-Type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "X-CSRF-Token": csrf() } });
    const body = await r.json().catch(() => ({}));
    if (r.ok) { clear(result, h("p", { class: "ok" }, t.tplOk, body.name ?? "")); form.reset(); await load(); }
    else clear(result, h("p", { class: "form-error", role: "alert" }, t.tplBad, body?.error?.message ?? `HTTP ${r.status}`));
  } }, h("h2", {}, t.upload), field(t.kind, kind), field(t.tplName, name), field(t.file, file),
    h("button", { class: "btn btn-primary", type: "submit", id: "tpl-submit" }, t.upload), result);
  clear(el, h("section", { class: "card", "aria-labelledby": "tpl-h" }, h("h2", { id: "tpl-h" }, t.templates), rows), form);
  await load();
}

async function areasSection(el: HTMLElement): Promise<void> {
  const t = tx();
  const mediators = (await api<{ items: Staff[] }>("GET", "staff")).items.filter((u) => u.role === "mediator" && u.active);
  let areas: Area[] = (await api<{ items: Area[] }>("GET", "office/areas")).items
    .map((a) => ({ name: a.name, keywords: a.keywords, mediator_id: a.mediator_id }));
  const rows = h("tbody", { id: "area-rows" });
  const err = h("p", { class: "form-error", role: "alert", id: "areas-error" });
  const draw = (): void => {
    clear(rows, areas.map((a, i) => {
      const n = i + 1;
      const name = h("input", { value: a.name, required: true, maxlength: "120", "aria-label": `${t.areaName} ${n}`, "data-area-name": String(i) });
      name.addEventListener("input", () => { a.name = name.value; });
      const words = h("input", { value: a.keywords.join(", "), "aria-label": `${t.keywords} ${n}`, "data-area-keywords": String(i) });
      words.addEventListener("input", () => { a.keywords = words.value.split(/[,，、]/).map((k) => k.trim()).filter(Boolean); });
      const med = h("select", { "aria-label": `${t.areaMediator} ${n}`, "data-area-mediator": String(i) },
        h("option", { value: "" }, t.noMediator),
        mediators.map((m) => h("option", { value: m.id, selected: m.id === a.mediator_id }, m.display_name)));
      med.addEventListener("change", () => { a.mediator_id = med.value || null; });
      return h("tr", {}, h("td", {}, name), h("td", {}, words), h("td", {}, med),
        h("td", {}, h("button", { class: "btn btn-small", type: "button", "aria-label": `${t.removeArea} ${n}`,
          onclick: () => { areas = areas.filter((x) => x !== a); draw(); } }, t.removeArea)));
    }));
  };
  const add = h("button", { class: "btn", type: "button", id: "area-add",
    onclick: () => { areas.push({ name: "", keywords: [], mediator_id: null }); draw(); } }, t.addArea);
  const form = h("form", { id: "areas-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    try {
      const out = await api<{ items: Area[] }>("PUT", "office/areas", { items: areas.map((a) => ({ name: a.name.trim(), keywords: a.keywords, mediator_id: a.mediator_id })) });
      areas = out.items.map((a) => ({ name: a.name, keywords: a.keywords, mediator_id: a.mediator_id }));
      draw();
      toast(t.saved);
    } catch (x) { err.textContent = errorText(x); }
  } }, h("div", { class: "table-scroll" }, h("table", { class: "data-table", id: "areas-table" },
    h("thead", {}, h("tr", {}, [t.areaName, t.keywords, t.areaMediator, t.removeArea].map((c) => h("th", { scope: "col" }, c)))), rows)),
    h("div", { class: "row-actions" }, add, h("button", { class: "btn btn-primary", type: "submit", id: "areas-save" }, t.saveAreas)));
  clear(el, h("section", { class: "card", "aria-labelledby": "areas-h" }, h("h2", { id: "areas-h" }, t.areas),
    h("p", { class: "muted" }, t.areasIntro), err, form));
  draw();
}

// -- dispute types (纠纷类型) -------------------------------------------------------------

async function typesSection(el: HTMLElement): Promise<void> {
  let types: DisputeType[] = [];
  const rows = h("tbody", { id: "type-rows" });
  const err = h("p", { class: "form-error", role: "alert", id: "types-error" });
  const note = h("p", { class: "muted", id: "types-defaults" });
  const change = async (ty: DisputeType, body: Record<string, unknown>): Promise<void> => {
    err.textContent = "";
    try {
      await api<DisputeType>("PATCH", `office/dispute-types/${ty.id}`, body);
      toast(tt("dtSaved"));
      await load();
    } catch (x) { err.textContent = errorText(x); }
  };
  const draw = (): void => {
    note.textContent = types.some((x) => x.default) ? tt("dtDefaults") : "";
    clear(rows, types.map((ty, i) => {
      const n = i + 1;
      const name = h("input", { value: ty.name, required: true, maxlength: "40", "aria-label": `${tt("dtName")} ${n}`, "data-type-name": ty.key });
      const status = h("span", { class: ty.active ? "badge" : "badge muted" }, ty.active ? tt("dtActive") : tt("dtInactive"));
      return h("tr", { "data-type-key": ty.key, class: ty.active ? null : "muted" },
        h("td", {}, String(n)), h("td", {}, name), h("td", {}, status),
        h("td", {}, h("div", { class: "row-actions" },
          h("button", { class: "btn btn-small", type: "button", "data-type-rename": ty.key, "aria-label": `${tt("dtRename")} ${n}`,
            onclick: () => void change(ty, { name: name.value }) }, tt("dtRename")),
          h("button", { class: "btn btn-small", type: "button", disabled: i === 0, "aria-label": `${tt("dtUp")} ${n}`,
            onclick: () => void change(ty, { position: i - 1 }) }, tt("dtUp")),
          h("button", { class: "btn btn-small", type: "button", disabled: i === types.length - 1, "aria-label": `${tt("dtDown")} ${n}`,
            onclick: () => void change(ty, { position: i + 1 }) }, tt("dtDown")),
          h("button", { class: "btn btn-small", type: "button", "data-type-toggle": ty.key, "aria-label": `${ty.active ? tt("dtDeactivate") : tt("dtActivate")} ${n}`,
            onclick: () => void change(ty, { active: !ty.active }) }, ty.active ? tt("dtDeactivate") : tt("dtActivate")))));
    }));
  };
  const load = async (): Promise<void> => {
    types = (await api<{ items: DisputeType[] }>("GET", "office/dispute-types")).items;
    draw();
  };
  const newName = h("input", { id: "type-new-name", required: true, maxlength: "40" });
  const form = h("form", { id: "type-add-form", class: "row-actions", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    try {
      const out = await api<DisputeType>("POST", "office/dispute-types", { name: newName.value });
      newName.value = "";
      toast(tt("dtAdded", { name: out.name }));
      await load();
    } catch (x) { err.textContent = errorText(x); }
  } }, field(tt("dtNewName"), newName), h("button", { class: "btn btn-primary", type: "submit", id: "type-add" }, tt("dtAdd")));
  clear(el, h("section", { class: "card", "aria-labelledby": "types-h" }, h("h2", { id: "types-h" }, tt("dtTab")),
    h("p", { class: "muted" }, tt("dtIntro")), note, err,
    h("div", { class: "table-scroll" }, h("table", { class: "data-table", id: "types-table" },
      h("thead", {}, h("tr", {}, [tt("dtOrder"), tt("dtName"), tt("dtStatus"), tt("dtActions")].map((c) => h("th", { scope: "col" }, c)))), rows)),
    form));
  await load();
}

async function retentionSection(el: HTMLElement): Promise<void> {
  const t = tx();
  const r = await api<{ chat_days: number; transcripts_days: number; evidence_days: number; audio_days: number; applications_days: number; party_copy_days: number }>("GET", "retention");
  clear(el, h("section", { class: "card", "aria-labelledby": "ret-h" }, h("h2", { id: "ret-h" }, t.retention),
    h("p", { class: "muted" }, t.retentionIntro),
    h("table", { class: "data-table", id: "retention-table" }, h("tbody", {},
      ([[t.chatDays, r.chat_days], [t.transcriptsDays, r.transcripts_days], [t.evidenceDays, r.evidence_days], [t.audioDays, r.audio_days], [t.applicationsDays, r.applications_days],
        [t.partyCopyDays, r.party_copy_days]] as [string, number][]).map(([k, v]) =>
        h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, `${v} ${t.days}`)))))));
}

async function ledgerSection(el: HTMLElement): Promise<void> {
  const t = tx();
  const since = h("input", { type: "date", id: "ledger-since" });
  const until = h("input", { type: "date", id: "ledger-until" });
  const link = h("a", { class: "btn btn-primary", href: "/api/v1/expert-ledger.csv", download: "expert-ledger.csv", id: "ledger-csv" }, t.ledgerCsv);
  const rows = h("tbody", { id: "ledger-rows" });
  const total = h("td", { id: "ledger-total" }, "0");
  const period = (): string => {
    const q = new URLSearchParams();
    if (since.value) q.set("from", `${since.value}T00:00:00+08:00`);
    if (until.value) q.set("to", `${until.value}T23:59:59+08:00`);
    return q.toString() ? `?${q}` : "";
  };
  const update = async (): Promise<void> => {
    const q = period();
    link.setAttribute("href", `/api/v1/expert-ledger.csv${q}`);
    const { items } = await api<{ items: Expert[] }>("GET", "experts");
    const sums = await Promise.all(items.map(async (x) =>
      [x, (await api<{ total_minutes: number; items: unknown[] }>("GET", `experts/${x.id}/ledger${q}`))] as const));
    clear(rows, sums.map(([x, l]) => h("tr", {}, h("th", { scope: "row" }, x.display_name), h("td", {}, String(l.items.length)),
      h("td", {}, String(l.total_minutes)))));
    total.textContent = String(sums.reduce((n, [, l]) => n + l.total_minutes, 0));
  };
  since.addEventListener("change", () => void update());
  until.addEventListener("change", () => void update());
  clear(el, h("section", { class: "card", "aria-labelledby": "led-h" }, h("h2", { id: "led-h" }, t.ledger),
    h("p", { class: "muted" }, t.ledgerIntro), h("div", { class: "filter-row" }, field(t.periodFrom, since), field(t.periodTo, until)),
    h("div", { class: "table-scroll" }, h("table", { class: "data-table", id: "ledger-table" },
      h("thead", {}, h("tr", {}, [t.displayName, t.visits, t.minutes].map((c) => h("th", { scope: "col" }, c)))), rows,
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t.total), h("td", {}), total)))), link));
  await update();
}
