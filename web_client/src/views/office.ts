// The office around the rooms (/office): the statistics dashboard and the case register
// for office heads and administrators, and the administrator's console (staff accounts,
// the expert directory, templates, the office's areas for intake, retention periods, the
// expert time ledger).
//
// Charts are drawn by uPlot (bundled, about 50 KB: bars and lines on a canvas). A canvas is
// no text for a screen reader, so every chart has a table view of the same numbers and
// a CSV download; the chart carries a one-line summary as its label.

import uPlot from "uplot";
import { api, ApiError, csrf, type Schema, type User } from "../api";
import { caseStateName } from "../caseStates";
import { clear, field, h, toast } from "../dom";
import { t, type Key } from "../i18n";
import { prefs } from "../prefs";
import { onRerender, page } from "../ui";
import { logoutButton, requireUser } from "./login";

const STAFF_ROLES = ["mediator", "clerk", "admin", "expert", "head"];
const DOC_KINDS = ["agreement", "record", "oral_register"];
const kindName = (k: string): string => (DOC_KINDS.includes(k) ? t(`docKind_${k}` as Key) : k);
const staffRoleName = (r: string): string => (STAFF_ROLES.includes(r) ? t(`role_${r}` as Key) : r);

// The server's replies, from its OpenAPI document (api-types.ts, generated).
type Count = Schema<"CountOut">;
type Stats = Schema<"StatisticsOut">;
type Staff = Schema<"StaffOut">;

const STATE_COLOURS: Record<string, string> = {
  applied: "#5b6b7b", accepted: "#1d5fb4", rejected: "#b3261e", scheduled: "#6a3fb4", in_mediation: "#b45f06",
  agreed: "#1e7a3f", not_agreed: "#8a6a00", terminated: "#555555", judicial_confirm: "#0e6e72", return_visit: "#a3307a",
  archived: "#2f3a45",
};

type Section = "dashboard" | "unit" | "offices" | "staff" | "experts" | "templates" | "areas" | "types" | "retention" | "ledger";
type DisputeType = Schema<"DisputeTypeOut">;
/** An area as the form edits it: what `PUT office/areas` takes. */
type Area = Schema<"AreaIn"> & { mediator_id: string | null };
type Office = Schema<"OfficeOut">;

export async function officePage(app: HTMLElement): Promise<void> {
  const user = await requireUser();
  if (!user) return;
  let section: Section = (new URLSearchParams(location.search).get("tab") as Section) || "dashboard";
  const render = (): void => {
    if (user.role !== "head" && user.role !== "admin") {
      clear(app, page(t("office_title"), [h("h1", { class: "page-title" }, t("office_title")), h("p", { class: "card" }, t("office_notAllowed"))],
        [logoutButton()]));
      return;
    }
    const tabs: Section[] = user.role === "admin" ? ["dashboard", "unit", "offices", "staff", "experts", "templates", "areas", "types", "retention", "ledger"] : ["dashboard", "unit", "types"];
    if (!tabs.includes(section)) section = "dashboard";
    const body = h("div", { id: "office-body" });
    const nav = tabs.length > 1 ? h("nav", { class: "row-actions office-tabs", "aria-label": t("office_title") }, tabs.map((s) =>
      h("button", { class: `btn ${s === section ? "btn-primary" : ""}`.trim(), type: "button", id: `tab-${s}`,
        "aria-current": s === section ? "page" : null,
        onclick: () => { section = s; history.replaceState(null, "", `/office?tab=${s}`); render(); } }, s === "types" ? t("dtTab") : t(`office_${s}`)))) : null;
    clear(app, page(t("office_title"), [h("h1", { class: "page-title" }, t("office_title")), ...(nav ? [nav] : []), body],
      [h("span", { class: "user" }, user.display_name), logoutButton()]));
    const show: Record<Section, (el: HTMLElement, u: User) => Promise<void>> = {
      dashboard, unit: unitSection, offices: officesSection, staff: staffSection, experts: expertsSection, templates: templatesSection, areas: areasSection, types: typesSection, retention: retentionSection, ledger: ledgerSection,
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
  const rows = data.map((d) => [label(d.key), d.count] as [string, number]);
  const summary = rows.length ? `${title}: ` + rows.map(([k, n]) => `${k} ${n}`).join(", ") : `${title}: ${t("office_noData")}`;
  const canvas = h("div", { role: "img", "aria-label": summary, id: `chart-${id}`, class: "chart-canvas" });
  const table = h("table", { class: "data-table", id: `table-${id}`, hidden: true },
    h("caption", { class: "sr-only" }, title),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("office_key")), h("th", { scope: "col" }, t("office_count")))),
    h("tbody", {}, rows.map(([k, n]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, String(n))))));
  const toggle = h("button", { class: "btn btn-small", type: "button", "aria-expanded": "false", "aria-controls": table.id,
    id: `toggle-${id}`, onclick: () => {
      table.hidden = !table.hidden;
      toggle.setAttribute("aria-expanded", String(!table.hidden));
      toggle.textContent = table.hidden ? t("office_showTable") : t("office_hideTable");
    } }, t("office_showTable"));
  const csvBtn = h("button", { class: "btn btn-small", type: "button", id: `csv-${id}`,
    onclick: () => downloadCsv(`${id}.csv`, [[t("office_key"), t("office_count")], ...rows]) }, t("office_csv"));
  const wrap = h("div", { class: "chart-box" }, rows.length ? canvas : h("p", { class: "muted" }, t("office_noData")));
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
  const params = new URLSearchParams(location.search);
  const since = h("input", { type: "date", id: "f-since", value: params.get("since") ?? "" });
  const until = h("input", { type: "date", id: "f-until", value: params.get("until") ?? "" });
  const mediator = h("select", { id: "f-mediator" }, h("option", { value: "" }, t("office_all")));
  const office = h("select", { id: "f-office" }, h("option", { value: "" }, t("office_all")));
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
    clear(mediator, h("option", { value: "" }, t("office_all")), s.mediators.map((m) => h("option", { value: m.id, selected: m.id === keepMed }, m.name)));
    const keepOffice = office.value;
    clear(office, h("option", { value: "" }, t("office_all")), s.offices.map((o) => h("option", { value: o.id, selected: o.id === keepOffice }, o.name)));
    const rate = s.success_rate === null ? "—" : `${Math.round(s.success_rate * 1000) / 10}%`;
    clear(results,
      h("div", { class: "kpis" },
        kpi("cases", t("office_cases"), String(s.cases)), kpi("success", t("office_successRate"), rate),
        kpi("median", t("office_medianDays"), s.median_days_to_agreement === null ? "—" : String(s.median_days_to_agreement)),
        kpi("online", t("office_online"), String(s.sessions_online)), kpi("sealed", t("office_sealed"), String(s.agreements_sealed)),
        kpi("judicial", t("office_judicial"), String(s.judicial_confirmations))),
      h("div", { class: "chart-grid" },
        chartCard("by-state", t("office_byState"), s.by_state, caseStateName, "bar", (k) => STATE_COLOURS[k] ?? "#1d5fb4"),
        chartCard("by-type", t("office_byType"), s.by_type, (k) => k),
        chartCard("by-month", t("office_byMonth"), s.by_month, (k) => k, "line"),
        chartCard("expert-minutes", t("office_expertMinutes"), s.expert_minutes, (k) => k)));
    const q = query();
    clear(regLinks,
      h("a", { class: "btn", href: `/api/v1/register.csv?${q}`, download: "register.csv", id: "register-csv" }, t("office_csvFile")),
      h("a", { class: "btn", href: `/api/v1/register.xlsx?${q}`, download: "register.xlsx", id: "register-xlsx" }, t("office_xlsxFile")));
  };
  const form = h("form", { class: "card filters", id: "dash-filters", onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    h("div", { class: "filter-row" }, field(t("office_since"), since), field(t("office_until"), until), field(t("office_mediator"), mediator),
      user.role === "admin" ? field(t("office_office"), office) : null),
    h("button", { class: "btn btn-primary", type: "submit", id: "dash-apply" }, t("office_apply")));
  clear(el, form, results,
    h("section", { class: "card", "aria-labelledby": "reg-h" }, h("h2", { id: "reg-h" }, t("office_register")),
      h("p", { class: "muted" }, t("office_registerIntro")), regLinks));
  await load();
}

// -- the administrator's console -----------------------------------------------------------

function errorText(x: unknown): string {
  return x instanceof ApiError ? `${x.message} (${x.code})` : (x as Error).message;
}

const ROLES = ["mediator", "clerk", "head", "admin", "expert"];

// -- the office itself (本单位) and every office (单位管理) ---------------------------------

/** The office's fields as a form; an office head gets the address and phone only. */
function officeForm(o: Office | null, adminFields: boolean, id: string,
                    save: (body: Record<string, unknown>) => Promise<void>): HTMLElement {
  const err = h("p", { class: "form-error", role: "alert", id: `${id}-error` });
  const name = h("input", { id: `${id}-name`, required: true, maxlength: "200", value: o?.name ?? "" });
  const city = h("input", { id: `${id}-city`, maxlength: "60", value: o?.city ?? "" });
  const address = h("input", { id: `${id}-address`, maxlength: "200", value: o?.address ?? "", autocomplete: "street-address" });
  const phone = h("input", { id: `${id}-phone`, type: "tel", maxlength: "30", value: o?.phone ?? "" });
  const share = h("input", { id: `${id}-share`, type: "checkbox" });
  const use = h("input", { id: `${id}-use`, type: "checkbox" });
  share.checked = !!o?.share_experts;
  use.checked = !!o?.use_city_experts;
  const form = h("form", { class: "card", id, onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    const body: Record<string, unknown> = { address: address.value.trim(), phone: phone.value.trim() };
    if (adminFields) Object.assign(body, { name: name.value.trim(), city: city.value.trim(), share_experts: share.checked, use_city_experts: use.checked });
    try { await save(body); } catch (x) { err.textContent = errorText(x); }
  } }, err,
  ...(adminFields ? [field(t("unit_name"), name), field(t("unit_city"), city, t("unit_cityHint"))] : []),
  field(t("unit_address"), address), field(t("unit_phone"), phone),
  ...(adminFields ? [
    h("div", { class: "field" }, h("label", { class: "check", for: share.id }, share, " ", t("unit_shareExperts"))),
    h("div", { class: "field" }, h("label", { class: "check", for: use.id }, use, " ", t("unit_useCityExperts"))),
    h("p", { class: "hint" }, t("unit_sharingHint"))] : []),
  h("button", { class: "btn btn-primary", type: "submit" }, o ? t("office_save") : t("office_create")));
  return form;
}

async function unitSection(el: HTMLElement, user: User): Promise<void> {
  const o = await api<Office>("GET", "office");
  const admin = user.role === "admin";
  const form = officeForm(o, admin, "unit-form", async (body) => {
    await api("PATCH", "office", body);
    toast(t("office_saved"));
    await unitSection(el, user);
  });
  clear(el, h("section", { class: "card", "aria-labelledby": "unit-h" }, h("h2", { id: "unit-h" }, o.name),
    h("p", { class: "muted" }, admin ? t("unit_introAdmin") : t("unit_introHead")),
    h("p", {}, `${t("unit_timeZone")}：${o.time_zone}`),
    ...(admin ? [] : [h("p", {}, `${t("unit_city")}：${o.city || t("unit_none")}`),
      h("p", {}, `${t("unit_shareExperts")}：${o.share_experts ? t("unit_yes") : t("unit_no")}；${t("unit_useCityExperts")}：${o.use_city_experts ? t("unit_yes") : t("unit_no")}`)]),
    form));
}

async function officesSection(el: HTMLElement): Promise<void> {
  const { items } = await api<{ items: Office[] }>("GET", "offices");
  const yes = (b: boolean): string => (b ? t("unit_yes") : t("unit_no"));
  const editing = h("div", { id: "office-edit" });
  const rows = items.map((o) => h("tr", { "data-office": o.name }, h("th", { scope: "row" }, o.name), h("td", {}, o.city),
    h("td", {}, o.address), h("td", {}, o.phone), h("td", {}, yes(o.share_experts)), h("td", {}, yes(o.use_city_experts)),
    h("td", {}, h("button", { class: "btn btn-small", type: "button", onclick: () => {
      clear(editing, h("h3", {}, o.name), officeForm(o, true, "office-edit-form", async (body) => {
        await api("PATCH", `offices/${o.id}`, body);
        toast(t("office_saved"));
        await officesSection(el);
      }));
      editing.querySelector("input")?.focus();
    } }, t("unit_edit")))));
  const create = officeForm(null, true, "office-create", async (body) => {
    await api("POST", "offices", body);
    toast(t("office_created"));
    await officesSection(el);
  });
  clear(el, h("section", { class: "card", "aria-labelledby": "offices-h" }, h("h2", { id: "offices-h" }, t("office_offices")),
    h("p", { class: "muted" }, t("unit_sharingHint")),
    h("div", { class: "table-scroll" }, h("table", { class: "data-table", id: "offices-table" },
      h("thead", {}, h("tr", {}, [t("unit_name"), t("unit_city"), t("unit_address"), t("unit_phone"), t("unit_shareExperts"), t("unit_useCityExperts"), ""]
        .map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows))), editing),
  h("section", { class: "card", "aria-labelledby": "office-create-h" }, h("h2", { id: "office-create-h" }, t("unit_new")), create));
}

async function staffSection(el: HTMLElement): Promise<void> {
  const list = h("tbody", { id: "staff-rows" });
  const err = h("p", { class: "form-error", role: "alert", id: "staff-error" });
  const load = async (): Promise<void> => {
    const { items } = await api<Schema<"StaffList">>("GET", "staff");
    clear(list, items.map((u) => {
      const role = h("select", { "aria-label": `${t("office_role")} ${u.username}`, "data-user": u.username },
        ROLES.map((r) => h("option", { value: r, selected: r === u.role }, staffRoleName(r))));
      const patch = async (body: Record<string, unknown>): Promise<void> => {
        err.textContent = "";
        try { await api("PATCH", `staff/${u.id}`, body); toast(t("office_saved")); await load(); } catch (x) { err.textContent = errorText(x); }
      };
      role.addEventListener("change", () => void patch({ role: role.value }));
      const pw = h("input", { type: "password", autocomplete: "new-password", minlength: "8", "aria-label": `${t("office_newPw")} ${u.username}` });
      const tel = h("input", { type: "tel", inputmode: "numeric", maxlength: "20", "aria-label": `${t("staffPhoneNew")} ${u.username}`, "data-phone-of": u.username });
      return h("tr", {}, h("th", { scope: "row" }, u.username), h("td", {}, u.display_name), h("td", {}, role),
        h("td", {}, u.active ? t("office_active") : t("office_disabled"), " ",
          h("button", { class: "btn btn-small", type: "button", onclick: () => void patch({ active: !u.active }) }, u.active ? t("office_disable") : t("office_enable"))),
        h("td", {}, h("form", { class: "inline-form", onsubmit: async (e: Event) => {
          e.preventDefault();
          err.textContent = "";
          try { await api("POST", `staff/${u.id}/password`, { password: pw.value }); pw.value = ""; toast(t("office_saved")); } catch (x) { err.textContent = errorText(x); }
        } }, pw, h("button", { class: "btn btn-small", type: "submit" }, t("office_resetPw")))),
        h("td", {}, h("span", { "data-phone-shown": u.username }, u.phone || t("staffPhoneNone")), " ",
          h("form", { class: "inline-form", onsubmit: (e: Event) => { e.preventDefault(); void patch({ phone: tel.value.trim() }); } },
            tel, h("button", { class: "btn btn-small", type: "submit" }, t("staffPhoneSet")))));
    }));
  };
  const username = h("input", { id: "new-username", required: true, autocomplete: "off" });
  const name = h("input", { id: "new-name", required: true });
  const role = h("select", { id: "new-role" }, ROLES.map((r) => h("option", { value: r }, staffRoleName(r))));
  const password = h("input", { id: "new-password", type: "password", required: true, minlength: "8", autocomplete: "new-password" });
  const phone = h("input", { id: "new-phone", type: "tel", inputmode: "numeric", maxlength: "20", autocomplete: "off" });
  const form = h("form", { class: "card", id: "staff-create", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    try {
      await api("POST", "staff", { username: username.value.trim(), display_name: name.value.trim(), role: role.value, password: password.value, phone: phone.value.trim() });
      toast(t("office_created")); form.reset(); await load();
    } catch (x) { err.textContent = errorText(x); }
  } }, h("h2", {}, t("office_create")), field(t("office_username"), username), field(t("office_displayName"), name), field(t("office_role"), role), field(t("office_password"), password), field(t("staffPhone"), phone),
    h("button", { class: "btn btn-primary", type: "submit" }, t("office_create")));
  clear(el, h("section", { class: "card", "aria-labelledby": "staff-h" }, h("h2", { id: "staff-h" }, t("office_staff")), err,
    h("div", { class: "table-scroll" }, h("table", { class: "data-table" },
      h("thead", {}, h("tr", {}, [t("office_username"), t("office_displayName"), t("office_role"), t("office_active"), t("office_resetPw"), t("staffPhoneCol")].map((c) => h("th", { scope: "col" }, c)))), list))), form);
  await load();
}

async function expertsSection(el: HTMLElement): Promise<void> {
  const domains = (await api<Schema<"DomainList">>("GET", "expert-domains")).items;
  const rows = h("tbody", { id: "expert-rows" });
  const err = h("p", { class: "form-error", role: "alert", id: "expert-error" });
  const domName = (c: string): string => { const d = domains.find((x) => x.code === c); return d ? (prefs.lang === "en" ? d.en : d.zh) : c; };
  const load = async (): Promise<void> => {
    const { items } = await api<Schema<"ExpertList">>("GET", "experts");
    clear(rows, items.map((x) => h("tr", { "data-lent": x.lent ? "" : null }, h("th", { scope: "row" }, x.display_name,
      x.lent ? h("span", { class: "badge" }, t("expertLentFrom", { office: x.office_name ?? "" })) : null), h("td", {}, x.domains.map(domName).join("、")),
      h("td", {}, x.languages.join(", ")), h("td", {}, x.organisation), h("td", {}, x.region), h("td", {}, x.active ? t("office_active") : t("office_disabled")))));
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
      toast(t("office_expertAdded")); form.reset(); await load();
    } catch (x) { err.textContent = errorText(x); }
  } }, h("h2", {}, t("office_addExpert")), field(t("office_username"), username), field(t("office_displayName"), name), field(t("office_password"), password),
    h("fieldset", {}, h("legend", {}, t("office_domains")), domainBoxes), field(t("office_languages"), languages), field(t("office_organisation"), organisation),
    field(t("office_region"), region), field(t("office_phone"), phone), h("button", { class: "btn btn-primary", type: "submit", id: "expert-add" }, t("office_addExpert")));
  clear(el, h("section", { class: "card", "aria-labelledby": "exp-h" }, h("h2", { id: "exp-h" }, t("office_experts")), err,
    h("div", { class: "table-scroll" }, h("table", { class: "data-table" },
      h("thead", {}, h("tr", {}, [t("office_displayName"), t("office_domains"), t("office_languages").split("（")[0].split(" (")[0], t("office_organisation"), t("office_region"), t("office_active")]
        .map((c) => h("th", { scope: "col" }, c)))), rows))), form);
  await load();
}

async function templatesSection(el: HTMLElement): Promise<void> {
  const rows = h("ul", { class: "list", id: "template-rows" });
  const result = h("div", { id: "template-result", role: "status", "aria-live": "polite" });
  const load = async (): Promise<void> => {
    const { items } = await api<Schema<"TemplateList">>("GET", "templates");
    clear(rows, items.length ? items.map((x) => h("li", { "data-template": x.name },
      h("strong", {}, x.name), ` · ${kindName(x.kind)} · ${x.language} `,
      x.is_default ? h("span", { class: "badge", "data-default": "" }, t("office_isDefault")) : null,
      h("div", { class: "row-actions" },
        h("a", { class: "btn btn-small", href: `/api/v1/templates/${x.id}/preview`, download: `${x.name}-preview.docx` }, t("office_preview")),
        x.is_default ? null : h("button", { class: "btn btn-small", type: "button", "data-make-default": x.id, onclick: async () => {
          try { await api("POST", `templates/${x.id}/default`); toast(t("office_saved")); await load(); } catch (e) { toast(errorText(e), "error"); }
        } }, t("office_makeDefault")))))
      : h("li", { class: "muted" }, t("office_noTemplates")));
  };
  const kind = h("select", { id: "tpl-kind" }, DOC_KINDS.map((k) => h("option", { value: k }, kindName(k))));
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
    if (r.ok) { clear(result, h("p", { class: "ok" }, t("office_tplOk"), body.name ?? "")); form.reset(); await load(); }
    else clear(result, h("p", { class: "form-error", role: "alert" }, t("office_tplBad"), body?.error?.message ?? `HTTP ${r.status}`));
  } }, h("h2", {}, t("office_upload")), field(t("office_kind"), kind), field(t("office_tplName"), name), field(t("office_file"), file),
    h("button", { class: "btn btn-primary", type: "submit", id: "tpl-submit" }, t("office_upload")), result);
  clear(el, h("section", { class: "card", "aria-labelledby": "tpl-h" }, h("h2", { id: "tpl-h" }, t("office_templates")), rows), form);
  await load();
}

async function areasSection(el: HTMLElement): Promise<void> {
  const mediators = (await api<Schema<"StaffList">>("GET", "staff")).items.filter((u) => u.role === "mediator" && u.active);
  let areas: Area[] = (await api<Schema<"AreaList">>("GET", "office/areas")).items
    .map((a) => ({ name: a.name, keywords: a.keywords, mediator_id: a.mediator_id }));
  const rows = h("tbody", { id: "area-rows" });
  const err = h("p", { class: "form-error", role: "alert", id: "areas-error" });
  const draw = (): void => {
    clear(rows, areas.map((a, i) => {
      const n = i + 1;
      const name = h("input", { value: a.name, required: true, maxlength: "120", "aria-label": `${t("office_areaName")} ${n}`, "data-area-name": String(i) });
      name.addEventListener("input", () => { a.name = name.value; });
      const words = h("input", { value: a.keywords.join(", "), "aria-label": `${t("office_keywords")} ${n}`, "data-area-keywords": String(i) });
      words.addEventListener("input", () => { a.keywords = words.value.split(/[,，、]/).map((k) => k.trim()).filter(Boolean); });
      const med = h("select", { "aria-label": `${t("office_areaMediator")} ${n}`, "data-area-mediator": String(i) },
        h("option", { value: "" }, t("office_noMediator")),
        mediators.map((m) => h("option", { value: m.id, selected: m.id === a.mediator_id }, m.display_name)));
      med.addEventListener("change", () => { a.mediator_id = med.value || null; });
      return h("tr", {}, h("td", {}, name), h("td", {}, words), h("td", {}, med),
        h("td", {}, h("button", { class: "btn btn-small", type: "button", "aria-label": `${t("office_removeArea")} ${n}`,
          onclick: () => { areas = areas.filter((x) => x !== a); draw(); } }, t("office_removeArea"))));
    }));
  };
  const add = h("button", { class: "btn", type: "button", id: "area-add",
    onclick: () => { areas.push({ name: "", keywords: [], mediator_id: null }); draw(); } }, t("office_addArea"));
  const form = h("form", { id: "areas-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    try {
      const out = await api<Schema<"AreaList">>("PUT", "office/areas", { items: areas.map((a) => ({ name: a.name.trim(), keywords: a.keywords, mediator_id: a.mediator_id })) } satisfies Schema<"AreasIn">);
      areas = out.items.map((a) => ({ name: a.name, keywords: a.keywords, mediator_id: a.mediator_id }));
      draw();
      toast(t("office_saved"));
    } catch (x) { err.textContent = errorText(x); }
  } }, h("div", { class: "table-scroll" }, h("table", { class: "data-table", id: "areas-table" },
    h("thead", {}, h("tr", {}, [t("office_areaName"), t("office_keywords"), t("office_areaMediator"), t("office_removeArea")].map((c) => h("th", { scope: "col" }, c)))), rows)),
    h("div", { class: "row-actions" }, add, h("button", { class: "btn btn-primary", type: "submit", id: "areas-save" }, t("office_saveAreas"))));
  clear(el, h("section", { class: "card", "aria-labelledby": "areas-h" }, h("h2", { id: "areas-h" }, t("office_areas")),
    h("p", { class: "muted" }, t("office_areasIntro")), err, form));
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
      toast(t("dtSaved"));
      await load();
    } catch (x) { err.textContent = errorText(x); }
  };
  const draw = (): void => {
    note.textContent = types.some((x) => x.default) ? t("dtDefaults") : "";
    clear(rows, types.map((ty, i) => {
      const n = i + 1;
      const name = h("input", { value: ty.name, required: true, maxlength: "40", "aria-label": `${t("dtName")} ${n}`, "data-type-name": ty.key });
      const status = h("span", { class: ty.active ? "badge" : "badge muted" }, ty.active ? t("dtActive") : t("dtInactive"));
      return h("tr", { "data-type-key": ty.key, class: ty.active ? null : "muted" },
        h("td", {}, String(n)), h("td", {}, name), h("td", {}, status),
        h("td", {}, h("div", { class: "row-actions" },
          h("button", { class: "btn btn-small", type: "button", "data-type-rename": ty.key, "aria-label": `${t("dtRename")} ${n}`,
            onclick: () => void change(ty, { name: name.value }) }, t("dtRename")),
          h("button", { class: "btn btn-small", type: "button", disabled: i === 0, "aria-label": `${t("dtUp")} ${n}`,
            onclick: () => void change(ty, { position: i - 1 }) }, t("dtUp")),
          h("button", { class: "btn btn-small", type: "button", disabled: i === types.length - 1, "aria-label": `${t("dtDown")} ${n}`,
            onclick: () => void change(ty, { position: i + 1 }) }, t("dtDown")),
          h("button", { class: "btn btn-small", type: "button", "data-type-toggle": ty.key, "aria-label": `${ty.active ? t("dtDeactivate") : t("dtActivate")} ${n}`,
            onclick: () => void change(ty, { active: !ty.active }) }, ty.active ? t("dtDeactivate") : t("dtActivate")))));
    }));
  };
  const load = async (): Promise<void> => {
    types = (await api<Schema<"DisputeTypeList">>("GET", "office/dispute-types")).items;
    draw();
  };
  const newName = h("input", { id: "type-new-name", required: true, maxlength: "40" });
  const form = h("form", { id: "type-add-form", class: "row-actions", onsubmit: async (e: Event) => {
    e.preventDefault();
    err.textContent = "";
    try {
      const out = await api<DisputeType>("POST", "office/dispute-types", { name: newName.value });
      newName.value = "";
      toast(t("dtAdded", { name: out.name }));
      await load();
    } catch (x) { err.textContent = errorText(x); }
  } }, field(t("dtNewName"), newName), h("button", { class: "btn btn-primary", type: "submit", id: "type-add" }, t("dtAdd")));
  clear(el, h("section", { class: "card", "aria-labelledby": "types-h" }, h("h2", { id: "types-h" }, t("dtTab")),
    h("p", { class: "muted" }, t("dtIntro")), note, err,
    h("div", { class: "table-scroll" }, h("table", { class: "data-table", id: "types-table" },
      h("thead", {}, h("tr", {}, [t("dtOrder"), t("dtName"), t("dtStatus"), t("dtActions")].map((c) => h("th", { scope: "col" }, c)))), rows)),
    form));
  await load();
}

async function retentionSection(el: HTMLElement): Promise<void> {
  const r = await api<Schema<"RetentionOut">>("GET", "retention");
  clear(el, h("section", { class: "card", "aria-labelledby": "ret-h" }, h("h2", { id: "ret-h" }, t("office_retention")),
    h("p", { class: "muted" }, t("office_retentionIntro")),
    h("table", { class: "data-table", id: "retention-table" }, h("tbody", {},
      ([[t("office_chatDays"), r.chat_days], [t("office_transcriptsDays"), r.transcripts_days], [t("office_evidenceDays"), r.evidence_days], [t("office_audioDays"), r.audio_days], [t("office_applicationsDays"), r.applications_days],
        [t("office_partyCopyDays"), r.party_copy_days]] as [string, number][]).map(([k, v]) =>
        h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, `${v} ${t("office_days")}`)))))));
}

async function ledgerSection(el: HTMLElement, user: User): Promise<void> {
  const since = h("input", { type: "date", id: "ledger-since" });
  const until = h("input", { type: "date", id: "ledger-until" });
  const link = h("a", { class: "btn btn-primary", href: "/api/v1/expert-ledger.csv", download: "expert-ledger.csv", id: "ledger-csv" }, t("office_ledgerCsv"));
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
    const items = (await api<Schema<"ExpertList">>("GET", "experts")).items.filter((x) => !x.lent);
    const sums = await Promise.all(items.map(async (x) =>
      [x, (await api<Schema<"LedgerOut">>("GET", `experts/${x.id}/ledger${q}`))] as const));
    // Time our experts gave to other offices of the city (lent), within the total.
    const lent = (items: Schema<"VisitOut">[]): number =>
      items.filter((v) => v.office_id !== user.office_id).reduce((n, v) => n + v.minutes, 0);
    clear(rows, sums.map(([x, l]) => h("tr", {}, h("th", { scope: "row" }, x.display_name), h("td", {}, String(l.items.length)),
      h("td", {}, String(l.total_minutes)), h("td", { "data-lent-minutes": "" }, String(lent(l.items))))));
    total.textContent = String(sums.reduce((n, [, l]) => n + l.total_minutes, 0));
  };
  since.addEventListener("change", () => void update());
  until.addEventListener("change", () => void update());
  clear(el, h("section", { class: "card", "aria-labelledby": "led-h" }, h("h2", { id: "led-h" }, t("office_ledger")),
    h("p", { class: "muted" }, t("office_ledgerIntro")), h("div", { class: "filter-row" }, field(t("office_periodFrom"), since), field(t("office_periodTo"), until)),
    h("div", { class: "table-scroll" }, h("table", { class: "data-table", id: "ledger-table" },
      h("thead", {}, h("tr", {}, [t("office_displayName"), t("office_visits"), t("office_minutes"), t("office_lentMinutes")].map((c) => h("th", { scope: "col" }, c)))), rows,
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t("office_total")), h("td", {}), total, h("td", {}))))), link));
  await update();
}
