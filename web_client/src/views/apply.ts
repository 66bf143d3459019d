// The public pages around an application (signaling/intake.py): the office's application
// page (/apply/<office>), its printable QR poster (/apply/<office>/poster), the applicant's
// status page (/application#r=...&t=...) and an invitee's "I cannot come" page
// (/decline#t=...). Phone first, large-text mode from the top bar; no login.

import QRCode from "qrcode";
import { caseBadge } from "../caseStates";
import { clear, field, h } from "../dom";
import { prefs } from "../prefs";
import { onRerender, page } from "../ui";

const zh = {
  applyTitle: "申请人民调解", applyIntro: "填写以下信息提交调解申请。带 * 的为必填项。调解免费。",
  you: "申请人（您）", name: "姓名 *", phone: "手机号码 *", idNumber: "身份证号码（选填）",
  address: "住址 *", addressHint: "请写到小区、门牌，我们据此安排就近的调解员。",
  other: "对方当事人（尽您所知）", otherName: "姓名或单位名称 *", otherPhone: "手机号码（选填）",
  otherAddress: "住址（选填）", dispute: "纠纷情况", type: "纠纷类型 *", choose: "请选择",
  description: "纠纷经过和您的请求 *", descriptionHint: "至少 10 个字。",
  files: "附件（选填）", filesHint: "可上传照片（PNG、JPEG）或 PDF，每个不超过 5 MB，最多 5 个。",
  getCode: "获取验证码", code: "短信验证码 *", codeSent: "验证码已发送至 {to}，{minutes} 分钟内有效。",
  consent: "我已阅读并同意上述个人信息处理告知 *", privacy: "个人信息处理告知",
  submit: "提交申请", submitting: "正在提交…", done: "申请已提交",
  reference: "申请编号", keepLink: "请保存下面的链接，用它随时查看申请进度（请勿转发他人）：",
  openStatus: "查看申请进度", posterTitle: "扫码申请人民调解", posterHint: "用手机扫描二维码，填写信息即可申请调解。",
  print: "打印", statusTitle: "申请进度", status: "当前状态", submitted: "提交时间",
  refusedReason: "不予受理的理由", nextSession: "调解会议时间", noLinkStatus: "链接不完整或已失效。",
  declineTitle: "无法按时参加调解", declineIntro: "如果您无法在约定时间参加调解，请告知调解员，调解员会与您另约时间。",
  declineReason: "原因（选填）", declineBtn: "告知调解员我无法参加", declined: "已告知调解员。调解员会与您联系另约时间。",
  office: "调解组织", required: "请填写所有带 * 的项目。", phoneFirst: "请先填写手机号码。",
};
type Key = keyof typeof zh;
const en: Record<Key, string> = {
  applyTitle: "Apply for mediation", applyIntro: "Fill in the form to apply. Fields with * are required. Mediation is free.",
  you: "You (the applicant)", name: "Name *", phone: "Mobile number *", idNumber: "ID number (optional)",
  address: "Address *", addressHint: "Down to the estate and door number: it decides which mediator is nearest.",
  other: "The other party (as far as you know)", otherName: "Name or organisation *", otherPhone: "Mobile (optional)",
  otherAddress: "Address (optional)", dispute: "The dispute", type: "Kind of dispute *", choose: "Choose",
  description: "What happened and what you ask for *", descriptionHint: "At least 10 characters.",
  files: "Attachments (optional)", filesHint: "Photos (PNG, JPEG) or PDF, up to 5 MB each, at most 5.",
  getCode: "Send code", code: "Code from the text message *", codeSent: "Code sent to {to}, valid {minutes} minutes.",
  consent: "I have read and agree to the notice above *", privacy: "How your personal data is processed",
  submit: "Submit application", submitting: "Submitting…", done: "Application submitted",
  reference: "Reference", keepLink: "Keep this link to follow your application (do not share it):",
  openStatus: "See the progress", posterTitle: "Scan to apply for mediation", posterHint: "Scan the code with your phone and fill in the form.",
  print: "Print", statusTitle: "Your application", status: "Status", submitted: "Submitted",
  refusedReason: "Why it was not accepted", nextSession: "Mediation session", noLinkStatus: "This link is incomplete or no longer valid.",
  declineTitle: "I cannot come", declineIntro: "If you cannot attend at the agreed time, tell the mediator, who will arrange another time.",
  declineReason: "Reason (optional)", declineBtn: "Tell the mediator I cannot come", declined: "The mediator has been told and will contact you.",
  office: "Office", required: "Please fill in every field marked *.", phoneFirst: "Enter your mobile number first.",
};

function ti(key: Key, vars: Record<string, string | number> = {}): string {
  let s = (prefs.lang === "en" ? en : zh)[key];
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
  return s;
}

async function call<T>(method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<T> {
  const r = await fetch(path, { method, body, headers });
  let out: any = null;
  try { out = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) throw new Error(out?.error?.message ?? `HTTP ${r.status}`);
  return out as T;
}

interface ApplyPage { office_id: string; office_name: string; dispute_types: { key: string; name: string }[];
  notice: string; notice_version: string; max_files: number; max_file_bytes: number }

function officeOf(): string { return decodeURIComponent(location.pathname.split("/")[2] ?? ""); }

function input(id: string, attrs: Record<string, string | boolean> = {}): HTMLInputElement {
  return h("input", { id, name: id, type: "text", ...attrs });
}

export async function applyPage(app: HTMLElement): Promise<void> {
  const office = officeOf();
  let info: ApplyPage;
  try {
    info = await call<ApplyPage>("GET", `/api/v1/public/offices/${encodeURIComponent(office)}/apply`);
  } catch (e) {
    clear(app, page(ti("applyTitle"), [h("div", { class: "card narrow" }, h("h1", {}, ti("applyTitle")),
      h("p", { role: "alert" }, (e as Error).message))]));
    return;
  }
  const render = (): void => {
    const err = h("p", { id: "apply-error", class: "error", role: "alert" });
    const codeMsg = h("p", { id: "apply-code-msg", class: "hint", "aria-live": "polite" });
    const phone = input("apply-phone", { type: "tel", autocomplete: "tel", inputmode: "numeric", required: true });
    const codeBtn = h("button", { id: "apply-get-code", type: "button", class: "btn" }, ti("getCode"));
    codeBtn.addEventListener("click", async () => {
      err.textContent = "";
      if (!phone.value.trim()) { err.textContent = ti("phoneFirst"); phone.focus(); return; }
      codeBtn.setAttribute("disabled", "");
      try {
        const out = await call<{ sent_to: string; minutes: number }>("POST", `/api/v1/public/offices/${encodeURIComponent(office)}/phone-code`,
          JSON.stringify({ phone: phone.value }), { "Content-Type": "application/json" });
        codeMsg.textContent = ti("codeSent", { to: out.sent_to, minutes: out.minutes });
      } catch (e) { err.textContent = (e as Error).message; } finally { codeBtn.removeAttribute("disabled"); }
    });
    const type = h("select", { id: "apply-type", required: true },
      h("option", { value: "" }, ti("choose")), ...info.dispute_types.map((d) => h("option", { value: d.key }, d.name)));
    const desc = h("textarea", { id: "apply-description", rows: 5, required: true, minlength: 10, maxlength: 5000 });
    const files = input("apply-files", { type: "file", multiple: true, accept: "image/png,image/jpeg,application/pdf" });
    const consent = input("apply-consent", { type: "checkbox", required: true });
    const submit = h("button", { id: "apply-submit", type: "submit", class: "btn btn-primary btn-block" }, ti("submit"));
    const v = (id: string): string => (document.getElementById(id) as HTMLInputElement | null)?.value.trim() ?? "";
    const form = h("form", { id: "apply-form", class: "card narrow stack", novalidate: true },
      h("h1", {}, ti("applyTitle")), h("p", { class: "lead" }, `${ti("office")}：${info.office_name}`),
      h("p", {}, ti("applyIntro")),
      h("fieldset", {}, h("legend", {}, ti("you")),
        field(ti("name"), input("apply-name", { autocomplete: "name", required: true })),
        field(ti("phone"), phone), codeBtn, codeMsg,
        field(ti("code"), input("apply-code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", required: true })),
        field(ti("idNumber"), input("apply-id", { maxlength: "18" })),
        field(ti("address"), input("apply-address", { autocomplete: "street-address", required: true }), ti("addressHint"))),
      h("fieldset", {}, h("legend", {}, ti("other")),
        field(ti("otherName"), input("apply-other-name", { required: true })),
        field(ti("otherPhone"), input("apply-other-phone", { type: "tel", inputmode: "numeric" })),
        field(ti("otherAddress"), input("apply-other-address"))),
      h("fieldset", {}, h("legend", {}, ti("dispute")),
        field(ti("type"), type), field(ti("description"), desc, ti("descriptionHint")),
        field(ti("files"), files, ti("filesHint"))),
      h("section", { "aria-labelledby": "apply-notice-h" }, h("h2", { id: "apply-notice-h" }, ti("privacy")),
        h("p", { id: "apply-notice", class: "notice" }, info.notice)),
      h("div", { class: "check" }, consent, h("label", { for: "apply-consent" }, ti("consent"))),
      err, submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      if (!v("apply-name") || !v("apply-phone") || !v("apply-code") || !v("apply-address") || !v("apply-other-name")
          || !type.value || desc.value.trim().length < 10 || !consent.checked) {
        err.textContent = ti("required");
        return;
      }
      const body = {
        applicant: { name: v("apply-name"), phone: v("apply-phone"), address: v("apply-address"), ...(v("apply-id") ? { id_number: v("apply-id") } : {}) },
        other_parties: [{ name: v("apply-other-name"), phone: v("apply-other-phone"), address: v("apply-other-address") }],
        dispute_type: type.value, description: desc.value.trim(), phone_code: v("apply-code"),
        consent: true, notice_version: info.notice_version,
      };
      const fd = new FormData();
      fd.append("application", new Blob([JSON.stringify(body)], { type: "application/json" }));
      for (const f of Array.from(files.files ?? [])) fd.append("file", f, f.name);
      submit.setAttribute("disabled", "");
      submit.textContent = ti("submitting");
      try {
        const out = await call<{ reference: string; status_url: string }>("POST",
          `/api/v1/public/offices/${encodeURIComponent(office)}/applications`, fd);
        const link = new URL(out.status_url, location.origin);
        const local = `${location.origin}/application${link.hash}`;
        clear(app, page(ti("applyTitle"), [h("div", { id: "apply-done", class: "card narrow stack", role: "status" },
          h("h1", {}, ti("done")), h("p", {}, `${ti("reference")}：`, h("strong", { id: "apply-reference", class: "mono" }, out.reference)),
          h("p", {}, ti("keepLink")), h("p", { class: "mono break" }, local),
          h("p", {}, h("a", { id: "apply-status-link", class: "btn btn-primary", href: local }, ti("openStatus"))))]));
      } catch (e) {
        err.textContent = (e as Error).message;
        submit.removeAttribute("disabled");
        submit.textContent = ti("submit");
      }
    });
    clear(app, page(ti("applyTitle"), [form]));
  };
  onRerender(render);
  render();
}

export async function posterPage(app: HTMLElement): Promise<void> {
  const office = officeOf();
  let name = "";
  try {
    name = (await call<ApplyPage>("GET", `/api/v1/public/offices/${encodeURIComponent(office)}/apply`)).office_name;
  } catch { /* shown without the name */ }
  const url = `${location.origin}/apply/${encodeURIComponent(office)}`;
  const src = await QRCode.toDataURL(url, { margin: 2, width: 480, errorCorrectionLevel: "M" });
  const render = (): void => {
    clear(app, page(ti("posterTitle"), [h("div", { class: "card narrow poster", id: "poster" },
      h("h1", {}, ti("posterTitle")), h("p", { class: "lead" }, name),
      h("img", { src, alt: `${ti("posterTitle")}：${url}`, width: 320, height: 320, id: "poster-qr" }),
      h("p", {}, ti("posterHint")), h("p", { class: "mono break" }, url),
      h("button", { type: "button", class: "btn no-print", onclick: () => window.print() }, ti("print")))]));
  };
  onRerender(render);
  render();
}

interface Status { reference: string; office_name: string; status: string; label: string; submitted_at: string;
  reason: string; sessions: { scheduled_at: string | null; time_text: string }[] }

function fragment(key: string): string {
  const m = new RegExp(`[#&]${key}=([^&]+)`).exec(location.hash);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function statusPage(app: HTMLElement): Promise<void> {
  const ref = fragment("r"), token = fragment("t");
  let body: HTMLElement;
  try {
    if (!ref || !token) throw new Error(ti("noLinkStatus"));
    const s = await call<Status>("GET", `/api/v1/public/applications/${encodeURIComponent(ref)}`, undefined,
      { "X-Application-Token": token });
    body = h("div", { class: "card narrow stack", id: "application-status" },
      h("h1", {}, ti("statusTitle")), h("p", {}, `${ti("office")}：${s.office_name}`),
      h("p", {}, `${ti("reference")}：`, h("strong", { class: "mono" }, s.reference)),
      h("p", {}, `${ti("status")}：`, caseBadge(s.status)),
      h("p", {}, `${ti("submitted")}：${new Date(s.submitted_at).toLocaleString(prefs.lang === "en" ? "en" : "zh-CN")}`),
      s.reason ? h("p", { id: "application-reason" }, `${ti("refusedReason")}：${s.reason}`) : null,
      ...s.sessions.map((x) => h("p", {}, `${ti("nextSession")}：${x.time_text}`)));
  } catch (e) {
    body = h("div", { class: "card narrow" }, h("h1", {}, ti("statusTitle")), h("p", { role: "alert" }, (e as Error).message));
  }
  const render = (): void => { clear(app, page(ti("statusTitle"), [body])); };
  onRerender(render);
  render();
}

export async function declinePage(app: HTMLElement): Promise<void> {
  const token = fragment("t");
  const render = (): void => {
    const reason = h("textarea", { id: "decline-reason", rows: 3, maxlength: 200 });
    const msg = h("p", { id: "decline-msg", role: "status" });
    const btn = h("button", { id: "decline-submit", type: "submit", class: "btn btn-primary btn-block" }, ti("declineBtn"));
    const form = h("form", { class: "card narrow stack" }, h("h1", {}, ti("declineTitle")), h("p", {}, ti("declineIntro")),
      field(ti("declineReason"), reason), msg, btn);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        if (!token) throw new Error(ti("noLinkStatus"));
        await call("POST", "/api/v1/public/invites/decline", JSON.stringify({ token, reason: reason.value.trim() }),
          { "Content-Type": "application/json" });
        msg.textContent = ti("declined");
        btn.setAttribute("disabled", "");
      } catch (e) { msg.textContent = (e as Error).message; }
    });
    clear(app, page(ti("declineTitle"), [form]));
  };
  onRerender(render);
  render();
}
