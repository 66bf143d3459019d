// The public pages around an application (signaling/intake.py): the office's application
// page (/apply/<office>), its printable QR poster (/apply/<office>/poster), the applicant's
// status page (/application#r=...&t=...) and an invitee's "I cannot come" page
// (/decline#t=...). Phone first, large-text mode from the top bar; no login.

import QRCode from "qrcode";
import { caseBadge } from "../caseStates";
import { clear, field, h } from "../dom";
import { t } from "../i18n";
import { prefs } from "../prefs";
import { onRerender, page } from "../ui";


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
    clear(app, page(t("apply_title"), [h("div", { class: "card narrow" }, h("h1", {}, t("apply_title")),
      h("p", { role: "alert" }, (e as Error).message))]));
    return;
  }
  const render = (): void => {
    const err = h("p", { id: "apply-error", class: "error", role: "alert" });
    const codeMsg = h("p", { id: "apply-code-msg", class: "hint", "aria-live": "polite" });
    const phone = input("apply-phone", { type: "tel", autocomplete: "tel", inputmode: "numeric", required: true });
    const codeBtn = h("button", { id: "apply-get-code", type: "button", class: "btn" }, t("apply_getCode"));
    codeBtn.addEventListener("click", async () => {
      err.textContent = "";
      if (!phone.value.trim()) { err.textContent = t("apply_phoneFirst"); phone.focus(); return; }
      codeBtn.setAttribute("disabled", "");
      try {
        const out = await call<{ sent_to: string; minutes: number }>("POST", `/api/v1/public/offices/${encodeURIComponent(office)}/phone-code`,
          JSON.stringify({ phone: phone.value }), { "Content-Type": "application/json" });
        codeMsg.textContent = t("apply_codeSent", { to: out.sent_to, minutes: out.minutes });
      } catch (e) { err.textContent = (e as Error).message; } finally { codeBtn.removeAttribute("disabled"); }
    });
    const type = h("select", { id: "apply-type", required: true },
      h("option", { value: "" }, t("apply_choose")), ...info.dispute_types.map((d) => h("option", { value: d.key }, d.name)));
    const desc = h("textarea", { id: "apply-description", rows: 5, required: true, minlength: 10, maxlength: 5000 });
    const files = input("apply-files", { type: "file", multiple: true, accept: "image/png,image/jpeg,application/pdf" });
    const consent = input("apply-consent", { type: "checkbox", required: true });
    const submit = h("button", { id: "apply-submit", type: "submit", class: "btn btn-primary btn-block" }, t("apply_submit"));
    const v = (id: string): string => (document.getElementById(id) as HTMLInputElement | null)?.value.trim() ?? "";
    const form = h("form", { id: "apply-form", class: "card narrow stack", novalidate: true },
      h("h1", {}, t("apply_title")), h("p", { class: "lead" }, `${t("apply_office")}：${info.office_name}`),
      h("p", {}, t("apply_intro")),
      h("fieldset", {}, h("legend", {}, t("apply_you")),
        field(t("apply_name"), input("apply-name", { autocomplete: "name", required: true })),
        field(t("apply_phone"), phone), codeBtn, codeMsg,
        field(t("apply_code"), input("apply-code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", required: true })),
        field(t("apply_idNumber"), input("apply-id", { maxlength: "18" })),
        field(t("apply_address"), input("apply-address", { autocomplete: "street-address", required: true }), t("apply_addressHint"))),
      h("fieldset", {}, h("legend", {}, t("apply_other")),
        field(t("apply_otherName"), input("apply-other-name", { required: true })),
        field(t("apply_otherPhone"), input("apply-other-phone", { type: "tel", inputmode: "numeric" })),
        field(t("apply_otherAddress"), input("apply-other-address"))),
      h("fieldset", {}, h("legend", {}, t("apply_dispute")),
        field(t("apply_type"), type), field(t("apply_description"), desc, t("apply_descriptionHint")),
        field(t("apply_files"), files, t("apply_filesHint"))),
      h("section", { "aria-labelledby": "apply-notice-h" }, h("h2", { id: "apply-notice-h" }, t("apply_privacy")),
        h("p", { id: "apply-notice", class: "notice" }, info.notice)),
      h("div", { class: "check" }, consent, h("label", { for: "apply-consent" }, t("apply_consent"))),
      err, submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      err.textContent = "";
      if (!v("apply-name") || !v("apply-phone") || !v("apply-code") || !v("apply-address") || !v("apply-other-name")
          || !type.value || desc.value.trim().length < 10 || !consent.checked) {
        err.textContent = t("apply_required");
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
      submit.textContent = t("apply_submitting");
      try {
        const out = await call<{ reference: string; status_url: string }>("POST",
          `/api/v1/public/offices/${encodeURIComponent(office)}/applications`, fd);
        const link = new URL(out.status_url, location.origin);
        const local = `${location.origin}/application${link.hash}`;
        clear(app, page(t("apply_title"), [h("div", { id: "apply-done", class: "card narrow stack", role: "status" },
          h("h1", {}, t("apply_done")), h("p", {}, `${t("apply_reference")}：`, h("strong", { id: "apply-reference", class: "mono" }, out.reference)),
          h("p", {}, t("apply_keepLink")), h("p", { class: "mono break" }, local),
          h("p", {}, h("a", { id: "apply-status-link", class: "btn btn-primary", href: local }, t("apply_openStatus"))))]));
      } catch (e) {
        err.textContent = (e as Error).message;
        submit.removeAttribute("disabled");
        submit.textContent = t("apply_submit");
      }
    });
    clear(app, page(t("apply_title"), [form]));
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
    clear(app, page(t("apply_posterTitle"), [h("div", { class: "card narrow poster", id: "poster" },
      h("h1", {}, t("apply_posterTitle")), h("p", { class: "lead" }, name),
      h("img", { src, alt: `${t("apply_posterTitle")}：${url}`, width: 320, height: 320, id: "poster-qr" }),
      h("p", {}, t("apply_posterHint")), h("p", { class: "mono break" }, url),
      h("button", { type: "button", class: "btn no-print", onclick: () => window.print() }, t("apply_print")))]));
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
    if (!ref || !token) throw new Error(t("apply_noLinkStatus"));
    const s = await call<Status>("GET", `/api/v1/public/applications/${encodeURIComponent(ref)}`, undefined,
      { "X-Application-Token": token });
    body = h("div", { class: "card narrow stack", id: "application-status" },
      h("h1", {}, t("apply_statusTitle")), h("p", {}, `${t("apply_office")}：${s.office_name}`),
      h("p", {}, `${t("apply_reference")}：`, h("strong", { class: "mono" }, s.reference)),
      h("p", {}, `${t("apply_status")}：`, caseBadge(s.status)),
      h("p", {}, `${t("apply_submitted")}：${new Date(s.submitted_at).toLocaleString(prefs.lang === "en" ? "en" : "zh-CN")}`),
      s.reason ? h("p", { id: "application-reason" }, `${t("apply_refusedReason")}：${s.reason}`) : null,
      ...s.sessions.map((x) => h("p", {}, `${t("apply_nextSession")}：${x.time_text}`)));
  } catch (e) {
    body = h("div", { class: "card narrow" }, h("h1", {}, t("apply_statusTitle")), h("p", { role: "alert" }, (e as Error).message));
  }
  const render = (): void => { clear(app, page(t("apply_statusTitle"), [body])); };
  onRerender(render);
  render();
}

export async function declinePage(app: HTMLElement): Promise<void> {
  const token = fragment("t");
  const render = (): void => {
    const reason = h("textarea", { id: "decline-reason", rows: 3, maxlength: 200 });
    const msg = h("p", { id: "decline-msg", role: "status" });
    const btn = h("button", { id: "decline-submit", type: "submit", class: "btn btn-primary btn-block" }, t("apply_declineBtn"));
    const form = h("form", { class: "card narrow stack" }, h("h1", {}, t("apply_declineTitle")), h("p", {}, t("apply_declineIntro")),
      field(t("apply_declineReason"), reason), msg, btn);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        if (!token) throw new Error(t("apply_noLinkStatus"));
        await call("POST", "/api/v1/public/invites/decline", JSON.stringify({ token, reason: reason.value.trim() }),
          { "Content-Type": "application/json" });
        msg.textContent = t("apply_declined");
        btn.setAttribute("disabled", "");
      } catch (e) { msg.textContent = (e as Error).message; }
    });
    clear(app, page(t("apply_declineTitle"), [form]));
  };
  onRerender(render);
  render();
}
