// The mediator's console: cases and sessions, then the live session with the waiting
// room, the spaces board (joint session and caucuses), join links, the transcript, the
// agreement and the end of the session.

import QRCode from "qrcode";
import { api, hasApi, type CaseOut, type InviteCreated, type Schema, type SessionOut, type User } from "../api";
import { announce, clear, field, fmtTime, h, toast } from "../dom";
import { roleName, sideName, statusName, t, type Key } from "../i18n";
import { prefs } from "../prefs";
import { LocalMedia, MediaSession } from "../media";
import { RoomClient, type Participant } from "../room";
import { icon, onRerender, page } from "../ui";
import { canMove, caseBadge, casePanel, SCHEDULABLE } from "../caseStates";
import { agendaPanel, applicationPanel, returnVisitPanel, unperformedFlag } from "./intakeview";
import { agreementPanel } from "./agreement";
import { caucusControls, openCaucusDialog } from "./caucusdialog";
import { attachSelect } from "./interpreter";
import { sideKeys, sideOptions, sidesCard } from "./sides";
import { documentsList } from "./documents";
import { expertCallForm } from "./expertcall";
import { logoutButton, requireUser } from "./login";
import { captionOrder, RoomView } from "./roomview";
import { seatMediaActions } from "./screenshare";
import { sharedDeviceControl } from "./shareddevice";
import { officeTime, scheduleForm, scheduledList } from "./schedule";
import { transcriptReview } from "./transcriptreview";

function go(url: string): void {
  history.pushState(null, "", url);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export async function mediatorPage(app: HTMLElement): Promise<void> {
  const user = await requireUser();
  if (!user) return;
  let teardown: () => void = () => {};
  const route = (): void => {
    teardown();
    teardown = () => {};
    const q = new URLSearchParams(location.search);
    const sid = q.get("session"), cid = q.get("case");
    if (sid) teardown = consolePage(app, user, sid);
    else if (cid) void casePage(app, user, cid);
    else void casesPage(app, user);
  };
  window.addEventListener("popstate", route);
  route();
}

function frame(app: HTMLElement, user: User, content: (Node | null)[]): void {
  content = content.filter(Boolean);
  const office = user.role === "admin" ? h("a", { class: "btn btn-quiet", href: "/office", id: "to-office" }, prefs.lang === "en" ? "Statistics and administration" : "统计与管理") : null;
  clear(app, page(t("mediatorConsole"), content as Node[], [h("span", { class: "user" }, user.display_name), office, logoutButton()]));
}

async function casesPage(app: HTMLElement, user: User): Promise<void> {
  onRerender(() => void casesPage(app, user));
  const list = h("ul", { class: "list", id: "case-list" });
  const search = h("input", { type: "search", id: "case-q", placeholder: t("searchCases"), "aria-label": t("searchCases") });
  const load = async (): Promise<void> => {
    const { items } = await api<Schema<"CaseList">>("GET", `cases?q=${encodeURIComponent(search.value)}`);
    clear(list, items.length ? items.map((c) => h("li", {},
      h("a", { href: `/mediator?case=${c.id}`, class: "row-link", onclick: (e: Event) => { e.preventDefault(); go(`/mediator?case=${c.id}`); } },
        h("strong", {}, c.number), h("span", { class: "muted" }, ` · ${c.dispute_type} `), caseBadge(c.status),
        unperformedFlag((c as CaseOut & { unperformed?: boolean }).unperformed),
        c.summary ? h("span", { class: "row-sub" }, c.summary) : null))) : h("li", { class: "muted" }, t("noCases")));
  };
  const number = h("input", { type: "text", id: "case-number", required: true });
  // The office's active dispute types as a select; "other" leaves the name to be typed
  // (scripts and older cases use names outside the list). The case stores the name.
  const type = h("input", { type: "text", id: "case-type", required: true, maxlength: "64" });
  const offered = await api<Schema<"DisputeTypeList">>("GET", "office/dispute-types")
    .then((r) => r.items.filter((d) => d.active)).catch(() => []);
  const pick = h("select", { id: "case-type-pick" }, h("option", { value: "" }, t("caseTypeOther")),
    offered.map((d) => h("option", { value: d.name }, d.name)));
  pick.addEventListener("change", () => { if (pick.value) type.value = pick.value; type.focus(); });
  type.addEventListener("input", () => { pick.value = offered.some((d) => d.name === type.value.trim()) ? type.value.trim() : ""; });
  const summary = h("textarea", { id: "case-summary", rows: "3" });
  const form = h("form", { class: "card", onsubmit: async (e: Event) => {
    e.preventDefault();
    try {
      const c = await api<CaseOut>("POST", "cases", { number: number.value.trim(), dispute_type: type.value.trim(), summary: summary.value });
      go(`/mediator?case=${c.id}`);
    } catch (x) { toast((x as Error).message, "error"); }
  } }, h("h2", {}, t("newCase")), h("div", { class: "grid2" }, field(t("caseNumber"), number), field(t("caseTypePick"), pick)), field(t("caseTypeText"), type),
    field(t("summary"), summary), h("button", { class: "btn btn-primary", type: "submit", id: "case-create" }, t("create")));
  const agenda = await agendaPanel().catch(() => null);
  frame(app, user, [h("h1", { class: "page-title" }, t("cases")), agenda,
    h("div", { class: "columns" },
      h("section", { class: "card", "aria-labelledby": "cl-h" }, h("h2", { id: "cl-h" }, t("cases")),
        h("form", { class: "inline-form", role: "search", onsubmit: (e: Event) => { e.preventDefault(); void load(); } }, search,
          h("button", { class: "btn", type: "submit" }, t("search"))), list),
      form)]);
  await load();
}

async function casePage(app: HTMLElement, user: User, caseId: string, fresh: InviteCreated[] = []): Promise<void> {
  onRerender(() => void casePage(app, user, caseId));
  const c = await api<CaseOut>("GET", `cases/${caseId}`);
  const { items } = await api<Schema<"SessionList">>("GET", `cases/${caseId}/sessions`);
  const title = h("input", { type: "text", id: "session-title", value: "第一次调解" });
  const language = h("select", { id: "session-language" }, h("option", { value: "zh" }, t("lang_zh")), h("option", { value: "en" }, t("lang_en")));
  const review = h("div", { id: "transcript-review" });
  const docs = await documentsList(caseId);
  const state = await casePanel(c, user, () => void casePage(app, user, caseId));
  const manage = canMove(user, c);
  const reload = (): void => void casePage(app, user, caseId);
  const application = await applicationPanel(caseId, c.status, manage, reload);
  const visits = await returnVisitPanel(caseId, c.status, manage, reload);
  const scheduled = await scheduledList(items, user, manage, fresh);
  const schedule = manage && SCHEDULABLE.has(c.status) ? scheduleForm(caseId, user, (links) => void casePage(app, user, caseId, links)) : null;
  const form = h("form", { class: "inline-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    try {
      const s = await api<SessionOut>("POST", `cases/${caseId}/sessions`, { title: title.value.trim(), language: language.value });
      go(`/mediator?session=${s.id}`);
    } catch (x) { toast((x as Error).message, "error"); }
  } }, field(t("sessionTitle"), title), field(t("sessionLanguage"), language),
    h("button", { class: "btn btn-primary", type: "submit", id: "session-create" }, t("newSession")));
  frame(app, user, [
    h("p", {}, h("a", { href: "/mediator", onclick: (e: Event) => { e.preventDefault(); go("/mediator"); } }, `← ${t("cases")}`)),
    h("h1", { class: "page-title" }, c.number), h("p", { class: "lead" }, `${c.dispute_type} `, caseBadge(c.status)),
    c.summary ? h("p", {}, c.summary) : null, state, application, visits,
    manage ? sidesCard(caseId) : null,
    h("section", { class: "card", "aria-labelledby": "ss-h" }, h("h2", { id: "ss-h" }, t("sessions")),
      h("ul", { class: "list" }, items.length ? items.map((s) => h("li", { class: "row" },
        h("span", {}, h("strong", {}, s.title || s.id), h("span", { class: `badge st-${s.status}` }, statusName(s.status)),
          s.scheduled_at ? h("span", { class: "row-sub" }, officeTime(s.scheduled_at, user)) : null),
        s.status !== "ended" ? h("a", { class: "btn", href: `/mediator?session=${s.id}`,
          onclick: (e: Event) => { e.preventDefault(); go(`/mediator?session=${s.id}`); } }, t("enterRoom")) : null,
        h("button", { class: "btn", type: "button", "data-review": s.id, onclick: () => void transcriptReview(s.id, review) },
          prefs.lang === "en" ? "Review transcript" : "转录校对")))
        : h("li", { class: "muted" }, t("noSessions"))),
      form),
    scheduled, schedule,
    docs ? h("section", { class: "card", id: "case-documents" }, docs) : null, review]);
}

function consolePage(app: HTMLElement, user: User, sessionId: string): () => void {
  const room = new RoomClient({ kind: "staff", session_id: sessionId });
  const local = new LocalMedia();
  const media = new MediaSession(room, local);
  (window as unknown as { tiaojieMedia: MediaSession }).tiaojieMedia = media;  // for tests and support
  let view: RoomView | null = null;
  const created: InviteCreated[] = [];
  const lobbyEl = h("ul", { class: "list lobby", id: "lobby-list" });
  const boardEl = h("div", { class: "board", id: "board" });
  const transcriptEl = h("ul", { class: "transcript-list" });
  const transcriptBox = h("div", { class: "transcript", role: "log", "aria-label": t("transcript"), tabindex: "0" }, transcriptEl);
  const invitesEl = h("div", { class: "invites", id: "invites" });
  const calls = new Map<string, any>();
  const callsEl = h("ul", { class: "list", id: "expert-calls", "aria-live": "polite" });

  const render = (): void => {
    if (room.phase === "ended" || room.phase === "error" || room.phase === "left") {
      clear(app, page(t("mediatorConsole"), [h("div", { class: "card end" },
        h("h1", { id: "end-title" }, room.phase === "ended" ? t("sessionEnded") : room.phase === "left" ? t("leftTitle") : t("error")),
        room.lastError ? h("p", {}, room.lastError.message) : null,
        h("a", { class: "btn btn-primary", href: "/mediator" }, t("back")))]));
      return;
    }
    if (!room.me) { clear(app, page(t("mediatorConsole"), [h("p", { class: "lead" }, t("joining"))])); return; }
    view ??= new RoomView(room, media, local, { admin: true });
    view.render();
    renderLobby(); renderBoard(); renderTranscript(); renderInvites();
    const endBtn = h("button", { class: "btn btn-danger", type: "button", id: "end-session", onclick: async () => {
      if (!window.confirm(t("endConfirm"))) return;
      const a = await room.call("end_session");
      if (!a.ok) toast(a.error?.message ?? "", "error");
    } }, t("endSession"));
    clear(app, page(t("mediatorConsole"), [h("div", { class: "console" },
      h("div", { class: "console-stage" }, view.el),
      h("aside", { class: "console-side", "aria-label": t("mediatorConsole"), tabindex: "0" },
        h("section", { class: "panel", "aria-labelledby": "lobby-h" }, h("h2", { id: "lobby-h" }, t("lobby"),
          h("span", { class: "count", id: "lobby-count" }, String(room.lobby.length))), lobbyEl, lobbyNoteForm()),
        h("section", { class: "panel", "aria-labelledby": "board-h" }, h("h2", { id: "board-h" }, t("caucuses")), boardEl),
        h("section", { class: "panel", "aria-labelledby": "inv-h" }, h("h2", { id: "inv-h" }, t("invites")), invitesEl),
        h("section", { class: "panel", "aria-labelledby": "tr-h" }, h("h2", { id: "tr-h" }, t("transcript")), transcriptBox),
        expertPanel(),
        agreementPanel(room, true, sessionId),
        h("div", { class: "panel end-panel" }, endBtn)))],
      [h("span", { class: "user" }, user.display_name), logoutButton()], "main main-console"));
  };
  onRerender(render);

  function renderLobby(): void {
    const countEl = document.getElementById("lobby-count");
    if (countEl) countEl.textContent = String(room.lobby.length);
    clear(lobbyEl, room.lobby.length ? room.lobby.map((p) => h("li", { class: "row lobby-row", "data-pid": p.participant_id },
      h("span", {}, h("strong", {}, p.name), h("span", { class: "muted" }, ` · ${roleName(p.role, p.side)}`),
        (p.declared_voices?.length ?? 0) > 1 ? h("span", { class: "muted shared-lobby" },
          ` · ${t("sharedLobby", { n: String(p.declared_voices!.length) })}（${p.declared_voices!.join("、")}）`) : null),
      h("span", { class: "row-actions" },
        h("button", { class: "btn btn-primary btn-small", type: "button", "aria-label": `${t("admit")} ${p.name}`,
          onclick: () => act("admit", { participant_id: p.participant_id }) }, t("admit")),
        h("button", { class: "btn btn-small", type: "button", "aria-label": `${t("deny")} ${p.name}`,
          onclick: () => act("deny", { participant_id: p.participant_id }) }, t("deny")))))
      : h("li", { class: "muted" }, t("lobbyEmpty")));
  }

  /** A line to everyone waiting ("调解员将于5分钟后开始"); only the lobby receives it. */
  function lobbyNoteForm(): HTMLElement {
    const input = h("input", { type: "text", id: "lobby-note", maxlength: "500", autocomplete: "off" });
    // Folded by default: the console's side column stays short (the agreement below it).
    return h("details", { class: "lobby-note-box", id: "lobby-note-box" },
      h("summary", {}, t("lobbyMessage")), h("form", { class: "lobby-note-form", onsubmit: async (e: Event) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) { input.focus(); return; }
      const a = await room.call("lobby_message", { text });
      if (!a.ok) { toast(a.error?.message ?? "", "error"); return; }
      input.value = "";
      toast(t("lobbyMessageSent", { n: String(a.reached ?? 0) }));
    } }, field(t("lobbyMessage"), input, t("lobbyMessageHint")),
      h("button", { class: "btn btn-small", type: "submit", id: "lobby-note-send" }, t("sendToLobby"))));
  }

  async function act(event: string, data: object): Promise<void> {
    const a = await room.call(event, data);
    if (!a.ok) toast(a.error?.message ?? event, "error");
  }

  function spaceSelect(p: Participant): HTMLSelectElement {
    const sel = h("select", { "aria-label": `${t("moveTo")}: ${p.name}`, class: "move-select",
      onchange: () => act("caucus_move", { participant_id: p.participant_id, caucus_id: sel.value || null }) },
      h("option", { value: "" }, t("jointSpace")),
      (room.layout?.caucuses ?? []).map((c) => h("option", { value: c.id }, c.name)));
    sel.value = p.caucus_id ?? "";
    return sel;
  }

  function personRow(p: Participant): HTMLElement {
    const isMe = p.participant_id === room.me?.participant_id;
    const audioMuted = p.muted_sources.includes("audio");
    return h("li", { class: `person${p.hand_raised ? " hand" : ""}`, "data-pid": p.participant_id,
      "data-connection": p.connected ? "online" : "reconnecting" },
      h("div", { class: "person-head" },
        h("strong", {}, p.name, isMe ? t("you") : ""), h("span", { class: `tile-role role-${p.role}` }, roleName(p.role, p.side)),
        p.hand_raised ? h("span", { class: "tile-flag flag-hand", title: t("handRaised") }, icon("hand"), h("span", { class: "sr-only" }, t("handRaised"))) : null,
        // Still seated during the grace period: reconnecting, not gone.
        !p.connected ? h("span", { class: "conn-flag" }, ` · ${t("peerReconnecting")}`) : null),
      h("div", { class: "person-actions" }, spaceSelect(p), seatMediaActions(room, p),
        p.role === "interpreter" ? attachSelect(room, p, (e, d) => void act(e, d)) : null,
        isMe ? null : sharedDeviceControl(room, p, act),
        isMe ? null : h("button", { class: "btn btn-small", type: "button", "aria-pressed": String(audioMuted),
          "aria-label": `${audioMuted ? t("unmuteP") : t("muteP")} ${p.name}`,
          onclick: () => act("mute", { participant_id: p.participant_id, source: "audio", muted: !audioMuted }) },
          audioMuted ? t("unmuteP") : t("muteP")),
        isMe ? null : h("button", { class: "btn btn-small", type: "button", "aria-label": `${t("sendBack")} ${p.name}`,
          onclick: () => act("send_back", { participant_id: p.participant_id }) }, t("sendBack")),
        isMe ? null : h("button", { class: "btn btn-small btn-danger-quiet", type: "button", "aria-label": `${t("remove")} ${p.name}`,
          onclick: () => { if (window.confirm(`${t("remove")} ${p.name}?`)) void act("remove", { participant_id: p.participant_id }); } }, t("remove"))));
  }

  function renderBoard(): void {
    const lay = room.layout;
    if (!lay) { clear(boardEl); return; }
    const people = lay.participants;
    const col = (id: string | null, name: string, extra: Node | null) => h("div", { class: `space${id ? " space-caucus" : " space-joint"}`,
      "data-space": id ?? "joint" },
      h("h3", {}, name, h("span", { class: "count" }, String(people.filter((p) => p.caucus_id === id).length)), extra),
      h("ul", { class: "people" }, people.filter((p) => p.caucus_id === id).map(personRow)));
    // One-click caucus with each side present in the joint session (its interpreters
    // follow), and the dialog for any other shape.
    const sides = sideKeys(lay).filter((s) => people.some((p) => p.side === s && p.caucus_id === null));
    const quick = sides.map((s) => h("button", { class: "btn btn-small", type: "button", id: `caucus-${s}`, onclick: () => {
      const members = people.filter((p) => (p.side === s && p.caucus_id === null) || p.participant_id === room.me?.participant_id).map((p) => p.participant_id);
      void act("caucus_create", { name: t("caucusNameDefault", { side: sideName(s) }), members });
    } }, t("caucusNameDefault", { side: sideName(s) })));
    clear(boardEl,
      h("div", { class: "board-actions" },
        h("button", { class: "btn btn-small btn-primary", type: "button", id: "caucus-new", "aria-haspopup": "dialog",
          onclick: () => openCaucusDialog(room) }, t("newCaucus")),
        quick,
        lay.caucuses.length ? h("button", { class: "btn btn-small", type: "button", id: "return-all",
          onclick: () => act("caucus_return_all", {}) }, t("returnAll")) : null),
      col(null, t("jointSpace"), null),
      lay.caucuses.map((c) => col(c.id, c.name, caucusControls(room, c, act))));
  }

  function renderTranscript(): void {
    const caps = captionOrder([...room.captions.values()]).slice(-200);
    const atEnd = transcriptBox.scrollHeight - transcriptBox.scrollTop - transcriptBox.clientHeight < 40;
    clear(transcriptEl, caps.length ? caps.map((c) => h("li", {},
      h("span", { class: "muted" }, fmtTime(new Date(c.at ?? Date.now()))), " ",
      h("strong", {}, c.speaker.name), h("span", { class: "muted" }, `（${roleName(c.speaker.role)}）`),
      c.caucus ? h("span", { class: "badge" }, room.caucusName(c.caucus) ?? t("caucus")) : null, " ", c.text))
      : h("li", { class: "muted" }, t("transcriptEmpty")));
    if (atEnd) transcriptBox.scrollTop = transcriptBox.scrollHeight;  // unless reading back
  }

  function renderInvites(): void {
    const roleSel = h("select", { id: "inv-role" }, ["party", "representative", "expert", "interpreter", "observer"].map((r) => h("option", { value: r }, roleName(r))));
    const sideSel = h("select", { id: "inv-side" }, sideOptions(room.layout?.sides ?? [{ key: "A", name: "申请人" }, { key: "B", name: "被申请人" }], "—"));
    const kindSel = h("select", { id: "inv-interpretation" }, ["sign", "dialect", "foreign"].map((k) => h("option", { value: k }, t(`interp_${k}` as Key))));
    const kindField = field(t("interpretation"), kindSel);
    const showKind = (): void => { kindField.classList.toggle("hidden", roleSel.value !== "interpreter"); };
    roleSel.addEventListener("change", showKind);
    showKind();
    const label = h("input", { type: "text", id: "inv-label", maxlength: "120" });
    const form = h("form", { class: "invite-form", onsubmit: async (e: Event) => {
      e.preventDefault();
      try {
        const inv = await api<InviteCreated>("POST", `sessions/${sessionId}/invites`,
          { role: roleSel.value, side: sideSel.value || null, label: label.value.trim(),
            ...(roleSel.value === "interpreter" ? { interpretation: kindSel.value } : {}) });
        created.unshift(inv);
        label.value = "";
        renderInvites();
        announce(t("newInvite"));
      } catch (x) { toast((x as Error).message, "error"); }
    } }, h("div", { class: "grid3" }, field(t("inviteRole"), roleSel), field(t("inviteSide"), sideSel), field(t("inviteLabel"), label)),
      kindField,
      h("button", { class: "btn btn-primary", type: "submit", id: "invite-create" }, t("newInvite")));
    clear(invitesEl, form, h("ul", { class: "list invite-list" }, created.map(inviteRow)));
  }

  function inviteRow(inv: InviteCreated): HTMLElement {
    const qrBox = h("div", { class: "qr hidden" });
    const link = h("input", { type: "text", readonly: true, value: inv.url, class: "invite-url", "aria-label": `${t("invites")} ${inv.label}` });
    return h("li", { class: "invite", "data-side": inv.side ?? "" },
      h("div", {}, h("strong", {}, inv.label || roleName(inv.role)), h("span", { class: "muted" }, ` · ${roleName(inv.role, inv.side)}`)),
      link,
      h("div", { class: "row-actions" },
        h("button", { class: "btn btn-small", type: "button", onclick: async (e: Event) => {
          const b = e.currentTarget as HTMLButtonElement;
          try { await navigator.clipboard.writeText(inv.url); } catch { link.select(); document.execCommand("copy"); }
          b.textContent = t("copied");
          announce(t("copied"));
        } }, t("copy")),
        h("button", { class: "btn btn-small", type: "button", "aria-expanded": "false", onclick: async (e: Event) => {
          const b = e.currentTarget as HTMLButtonElement;
          const open = qrBox.classList.toggle("hidden") === false;
          b.setAttribute("aria-expanded", String(open));
          if (open && !qrBox.firstChild) {
            const url = await QRCode.toDataURL(inv.url, { margin: 1, width: 200, errorCorrectionLevel: "M" });
            qrBox.append(h("img", { src: url, alt: `${t("qrFor")}: ${inv.label || roleName(inv.role, inv.side)}`, width: "200", height: "200" }));
          }
        } }, t("qr"))),
      qrBox);
  }

  function expertPanel(): HTMLElement {
    const body = h("div", { id: "expert-panel" }, h("p", { class: "muted" }, t("expertSoon")));
    void hasApi("expert-domains").then(async (yes) => {
      if (!yes) return;
      const form = await expertCallForm(room, (call) => { calls.set(call.call_id ?? call.id, call); renderCalls(); });
      body.replaceChildren(form, callsEl);
      renderCalls();
    });
    return h("section", { class: "panel", "aria-labelledby": "ex-h" }, h("h2", { id: "ex-h" }, t("expertCall")), body);
  }

  function renderCalls(): void {
    clear(callsEl, [...calls.values()].map((c) => {
      const id = c.call_id ?? c.id;
      const live = ["ringing", "accepted", "joined"].includes(c.state);
      return h("li", { class: "row call", "data-state": c.state },
        h("span", {}, h("strong", {}, t(`call_${c.state}` as Key) || c.state),
          c.expert ? h("span", {}, ` · ${c.expert.name}${c.expert.organisation ? `（${c.expert.organisation}）` : ""}`) : null,
          c.state === "ringing" && c.ringing !== undefined ? h("span", { class: "muted" }, ` · ${t("call_rung")} ${Array.isArray(c.ringing) ? c.ringing.length : c.ringing}`) : null),
        live ? h("button", { class: "btn btn-small", type: "button", onclick: async () => {
          const a = await room.call("expert_call_end", { call_id: id });
          if (!a.ok) toast(a.error?.message ?? "", "error");
        } }, t("call_end")) : null);
    }));
  }

  room.on("phase", render);
  room.on("joined", render);
  room.on("layout", () => renderBoard());
  room.on("hand", () => renderBoard());
  room.on("expert_call_state", (c: any) => {
    calls.set(c.call_id, { ...(calls.get(c.call_id) ?? {}), ...c });
    renderCalls();
    if (c.state === "accepted") announce(`${t("expertCall")}: ${t("call_accepted")}`);
  });
  room.on("lobby", () => { renderLobby(); if (room.lobby.length) announce(`${t("lobby")}: ${room.lobby.length}`); });
  room.on("caption", () => renderTranscript());
  room.on("server_error", (e) => { if (e?.event !== "signal") toast(e?.message ?? "", "error"); });
  room.on("joined", () => {
    if (media.status === "off") void local.open().then(() => media.start());
  });
  room.connect();
  render();
  return () => { view?.destroy(); media.stop(); local.stop(); room.close(); };
}
