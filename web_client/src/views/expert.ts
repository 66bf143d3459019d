// The expert's console: an open connection to /experts means "online"; a call rings
// (a sound and a visible alert) with the domain and the session; accepting gives a seat
// in the room, which the join page opens with the seat's token.

import { io, type Socket } from "socket.io-client";
import { clear, h, toast } from "../dom";
import { t } from "../i18n";
import { api } from "../api";
import { prefs } from "../prefs";
import { icon, onRerender, page } from "../ui";
import { logoutButton, requireUser } from "./login";

interface Ring { call_id: string; domain: string; language?: string | null; scope: string; session_title?: string; office_name?: string; answer_by?: string }

let ctx: AudioContext | null = null;
function chime(): void {
  try {
    ctx ??= new AudioContext();
    const now = ctx.currentTime;
    for (const [i, f] of [660, 880, 660, 880].entries()) {
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, now + i * 0.35);
      g.gain.exponentialRampToValueAtTime(0.3, now + i * 0.35 + 0.03);
      g.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.35 + 0.3);
      o.connect(g).connect(ctx.destination);
      o.start(now + i * 0.35); o.stop(now + i * 0.35 + 0.32);
    }
  } catch { /* no audio output: the visible alert still shows */ }
}

export async function expertPage(app: HTMLElement): Promise<void> {
  const user = await requireUser();
  if (!user) return;
  const rings = new Map<string, Ring>();
  const domains = new Map<string, string>();
  void api<{ items: { code: string; zh: string; en: string }[] }>("GET", "expert-domains").then(({ items }) => {
    for (const d of items) domains.set(d.code, prefs.lang === "zh" ? d.zh : d.en);
    render();
  }).catch(() => {});
  let online = false;
  let profile: Record<string, unknown> | null = null;
  let error = "";
  let socket: Socket | null = null;
  let chimeTimer = 0;

  const render = (): void => {
    const ringList = [...rings.values()];
    const alerts = ringList.map((r) => h("div", { class: "card ring", role: "alert", "data-call": r.call_id },
      h("h2", {}, icon("bell"), t("incomingCall")),
      h("p", { class: "lead" }, `${t("domain")}：${domains.get(r.domain) ?? r.domain}　${t("scope")}：${r.scope === "joint" ? t("scopeJoint") : t("scopePrivate")}`),
      r.office_name ? h("p", { class: "ring-office" }, t("ringOffice", { office: r.office_name })) : null,
      r.session_title ? h("p", {}, r.session_title) : null,
      h("div", { class: "ring-actions" },
        h("button", { class: "btn btn-primary btn-huge", type: "button", id: `accept-${r.call_id}`, onclick: () => void accept(r) }, t("accept")),
        h("button", { class: "btn btn-huge", type: "button", onclick: () => void decline(r) }, t("decline")))));
    clear(app, page(t("expertConsole"), [h("h1", { class: "page-title" }, t("expertConsole")),
      ...alerts,
      h("section", { class: "card", id: "expert-status", "aria-labelledby": "es-h" },
        h("h2", { id: "es-h" }, h("span", { class: `dot ${online ? "dot-on" : "dot-off"}`, "aria-hidden": "true" }),
          online ? t("online") : t("offline")),
        h("p", {}, t("expertWaiting")),
        profile ? h("p", { class: "muted" }, String(profile.display_name ?? ""), " · ",
          ((profile.domains as string[]) ?? []).map((d) => domains.get(d) ?? d).join("、")) : null,
        error ? h("p", { class: "form-error", role: "alert" }, error) : null)],
      [h("span", { class: "user" }, user.display_name), logoutButton()]));
  };
  onRerender(render);

  const ringing = (): void => {
    window.clearInterval(chimeTimer);
    if (rings.size) { chime(); chimeTimer = window.setInterval(chime, 3000); }
  };

  async function accept(r: Ring): Promise<void> {
    const ack = await socket!.timeout(15000).emitWithAck("accept", { call_id: r.call_id }).catch(() => null);
    if (!ack?.ok) { toast(ack?.error?.message ?? t("error"), "error"); rings.delete(r.call_id); ringing(); render(); return; }
    // The grant's token is the seat's resume token: the join page opens the room with it.
    sessionStorage.setItem("tj.resume", ack.grant.token);
    location.assign("/join");
  }

  async function decline(r: Ring): Promise<void> {
    await socket!.timeout(15000).emitWithAck("decline", { call_id: r.call_id }).catch(() => null);
    rings.delete(r.call_id); ringing(); render();
  }

  socket = io("/experts", { transports: ["websocket"] });
  socket.on("connect", () => { online = true; error = ""; render(); });
  socket.on("disconnect", () => { online = false; render(); });
  socket.on("connect_error", (e: Error & { data?: { message: string } }) => { online = false; error = e.data?.message ?? ""; render(); });
  socket.on("console", (d: { profile: Record<string, unknown>; rings: Ring[] }) => {
    profile = d.profile;
    for (const r of d.rings ?? []) rings.set(r.call_id, r);
    ringing(); render();
  });
  socket.on("ring", (r: Ring) => { rings.set(r.call_id, r); ringing(); render(); });
  socket.on("ring_cancelled", (d: { call_id: string }) => { rings.delete(d.call_id); ringing(); render(); });
  render();
}
