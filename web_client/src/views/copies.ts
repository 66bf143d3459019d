// A party's copy of a sealed document: downloaded with the seat's resume token (in the
// room, or later through the resume link /copy#s=...) or a copy link the mediator sent
// (/copy#t=...). A plain link cannot carry the token, so the PDF is fetched and saved
// through a blob URL.

import { api } from "../api";
import { ta } from "../agreementText";
import { clear, h, toast } from "../dom";
import { onRerender, page } from "../ui";

export type CopyAuth = { seat: string } | { link: string };

function headers(auth: CopyAuth): Record<string, string> {
  return "seat" in auth ? { "X-Seat-Token": auth.seat } : { "X-Copy-Token": auth.link };
}

export interface SeatDocument { id: string; kind: string; case_number: string; sealed_at: string; available_until: string | null; pdf_url: string;
  short_id?: string | null; verify_url?: string | null }

/** A kind of document as its title reads (人民调解协议书, ...). */
export function kindName(kind: string): string {
  return kind === "agreement" || kind === "record" || kind === "oral_register" ? ta(`kind_${kind}`) : kind;
}

/** "验证编号 ABCDE-FGHJK", linked to the public verify page of that document. */
export function verifyLine(shortId: string | null | undefined): HTMLElement | null {
  if (!shortId) return null;
  const shown = `${shortId.slice(0, 5)}-${shortId.slice(5)}`;
  return h("p", { class: "verify-id" }, `${ta("verifyId")} `,
    h("a", { href: `/verify/${encodeURIComponent(shortId)}`, class: "mono", "data-short-id": shortId,
      title: ta("verifyHint") }, shown));
}

export async function listCopies(auth: CopyAuth): Promise<SeatDocument[]> {
  const r = await fetch("/api/v1/seat/documents", { headers: headers(auth) });
  const body = await r.json();
  if (!r.ok) throw new Error(body?.error?.message ?? `HTTP ${r.status}`);
  return body.items as SeatDocument[];
}

export async function downloadCopy(auth: CopyAuth, doc: { id: string; kind: string; case_number?: string }): Promise<boolean> {
  const r = await fetch(`/api/v1/seat/documents/${encodeURIComponent(doc.id)}/pdf`, { headers: headers(auth) });
  if (!r.ok) {
    let msg = `HTTP ${r.status}`;
    try { msg = (await r.json())?.error?.message ?? msg; } catch { /* not JSON */ }
    toast(msg, "error");
    return false;
  }
  const url = URL.createObjectURL(await r.blob());
  const name = `${{ agreement: "人民调解协议书", record: "人民调解记录", oral_register: "口头调解协议登记表" }[doc.kind] ?? doc.kind}${doc.case_number ? `-${doc.case_number}` : ""}.pdf`;
  const a = h("a", { href: url, download: name, class: "sr-only" });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}

/** The mediator sends a party their copy: a link by SMS or the PDF by e-mail, to what the
 * party confirmed. */
export async function sendCopy(documentId: string, partyId: string, channel: "sms" | "email"): Promise<void> {
  try {
    const out = await api<{ sent_to: string }>("POST", `documents/${documentId}/send`, { party_id: partyId, channel });
    toast(ta("sentTo", { to: out.sent_to }));
  } catch (e) {
    toast((e as Error).message, "error");
  }
}

const AUTH_KEY = "tj.copy";

function takeAuth(): CopyAuth | null {
  const m = /[#&]([st])=([^&]+)/.exec(location.hash);
  if (m) {
    const value = decodeURIComponent(m[2]);
    sessionStorage.setItem(AUTH_KEY, JSON.stringify(m[1] === "s" ? { seat: value } : { link: value }));
    // The token leaves the address bar at once: not in history, screenshots or referrers.
    history.replaceState(null, "", location.pathname + location.search);
  }
  try { return JSON.parse(sessionStorage.getItem(AUTH_KEY) ?? "null") as CopyAuth | null; } catch { return null; }
}

/** /copy: the party's own documents, after the session too. */
export function copyPage(app: HTMLElement): void {
  const auth = takeAuth();
  const list = h("ul", { class: "list", id: "copy-list" });
  const render = (): void => {
    clear(app, page(ta("copyTitle"), [h("div", { class: "card narrow" },
      h("h1", {}, ta("copyTitle")), h("p", { class: "lead" }, ta("copyIntro")), list)]));
    void load();
  };
  const load = async (): Promise<void> => {
    if (!auth) { clear(list, h("li", { class: "big-notice", role: "alert" }, ta("copyNoLink"))); return; }
    try {
      const docs = await listCopies(auth);
      clear(list, docs.length ? docs.map((d) => h("li", { class: "row" },
        h("span", {}, h("strong", {}, kindName(d.kind)), ` ${d.case_number}`,
          d.available_until ? h("span", { class: "row-sub" }, ta("availableUntil", { date: d.available_until.slice(0, 10) })) : null,
          verifyLine(d.short_id)),
        h("button", { class: "btn btn-primary", type: "button", "data-document": d.id,
          onclick: () => void downloadCopy(auth, d) }, ta("download"))))
        : h("li", { class: "muted" }, ta("copyNone")));
    } catch (e) {
      clear(list, h("li", { class: "big-notice", role: "alert" }, (e as Error).message));
    }
  };
  onRerender(render);
  render();
}
