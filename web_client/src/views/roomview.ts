// The room as every participant sees it: video tiles of the people in my space, captions,
// chat, and the big control bar (microphone, camera, hand, captions size, leave).

import { announce, clear, fmtTime, h, toast } from "../dom";
import { roleName, t, type Key } from "../i18n";
import { applySink, type LocalMedia, type MediaSession } from "../media";
import { prefs } from "../prefs";
import type { Caption, ChatMsg, Participant, RoomClient } from "../room";
import { icon } from "../ui";
import { agreementPanel } from "./agreement";
import { devicePicker, type Picker } from "./devices";
import { evidencePanel, roomExhibitViewer } from "./evidence";
import { interpretedLabel, pinnedInterpreter } from "./interpreter";
import { ScreenShare } from "./screenshare";
import { declaredNames, enrollPanel, stopEnrollMeter, type VoicesState } from "./shareddevice";
import { sidesList } from "./sides";

export class RoomView {
  el: HTMLElement;
  private tilesEl = h("ul", { class: "tiles", "aria-label": t("participants") });
  private captionsEl = h("div", { class: "captions", role: "log", "aria-live": "polite", "aria-label": t("captions"), tabindex: "0" });
  private chatLog = h("ul", { class: "chat-list" });
  private chatBox = h("div", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": t("chat"), tabindex: "0" }, this.chatLog);
  private spaceEl = h("p", { class: "space-banner", role: "status" });
  private noticeEl = h("div", { class: "notice hidden", role: "status" });
  private controls = h("div", { class: "controls", role: "toolbar", "aria-label": t("roomTitle") });
  private videos = new Map<string, HTMLVideoElement>();
  private audios = new Map<MediaStreamTrack, HTMLAudioElement>();
  private audioBox = h("div", { class: "sr-only", "aria-hidden": "true" });
  private micOn = true;
  private camOn = true;
  private handUp = false;
  private offs: (() => void)[] = [];
  private devicesOpen = false;
  private picker: Picker | null = null;
  private stopMeter: () => void = () => {};
  private sidesEl = h("div", { class: "sides-box" });
  private devicePanel = h("section", { class: "panel device-panel hidden", id: "device-panel", "aria-labelledby": "dev-h" });
  private screen: ScreenShare;
  /** This seat as a shared device (the mediator marked it; people enroll their voices). */
  private voices: VoicesState;
  private enrollEl = h("div", { class: "enroll-box" });

  constructor(private room: RoomClient, private media: MediaSession, private local: LocalMedia,
              private opts: { admin?: boolean } = {}) {
    this.el = h("section", { class: "room", "aria-label": t("roomTitle") });
    this.voices = room.voices ?? { people: 1, voices: [], enrolling: null };
    this.offs.push(
      room.on("layout", () => this.renderLayout()),
      room.on("chat", (m: ChatMsg) => this.addChat(m)),
      room.on("caption", () => this.renderCaptions()),
      room.on("hand", (d) => {
        if (d.participant_id === room.me?.participant_id) this.handUp = d.raised;
        if (d.raised && d.participant_id !== room.me?.participant_id) announce(`${d.name} ${t("handRaised")}`);
        this.renderTiles();
        this.renderControls();
      }),
      room.on("muted", (d) => {
        if (d.source === "audio") {
          this.micOn = !d.muted;
          this.media.setMic(this.micOn);
          toast(d.muted ? t("mutedByMediator") : t("unmutedByMediator"));
        }
        if (d.source === "video") { this.camOn = !d.muted; this.media.setCam(this.camOn); }
        this.renderControls();
        this.renderTiles();
      }),
      room.on("mute_request", () => toast(t("muteRequest"))),
      room.on("voices", (d: VoicesState) => {
        for (const name of d.voices) {
          if (!this.voices.voices.includes(name)) { toast(t("enrollDone", { name })); announce(t("enrollDone", { name })); }
        }
        this.voices = d;
        this.renderEnroll();
      }),
      room.on("net", () => { this.renderNotice(); }),
      room.on("rejoined", () => { toast(t("reconnected")); announce(t("reconnected")); }),
      // A switched camera shows in my own tile at once.
      local.onTrack(() => { this.renderTiles(); this.renderControls(); }),
    );
    this.screen = new ScreenShare(room, media, !!opts.admin);
    this.screen.onchange = () => { this.renderControls(); this.renderTiles(); };
    media.onchange = () => { this.renderTiles(); this.renderNotice(); this.screen.render(); };
    this.render();
  }

  render(): void {
    const chatInput = h("input", { type: "text", id: "chat-input", maxlength: "2000", autocomplete: "off",
      placeholder: t("chatPlaceholder"), "aria-label": t("chatLabel") });
    const chatForm = h("form", { class: "chat-form", onsubmit: (e: Event) => {
      e.preventDefault();
      const text = chatInput.value.trim();
      if (!text) return;
      void this.room.call("chat", { text }).then((a) => {
        if (a.ok) chatInput.value = ""; else toast(a.error?.message ?? "", "error");
      });
    } }, chatInput, h("button", { class: "btn btn-primary", type: "submit" }, t("send")));
    clear(this.el,
      h("h1", { class: "sr-only" }, t("roomTitle")),
      this.spaceEl, this.noticeEl,
      h("div", { class: "stage" }, this.devicePanel, this.screen.el, roomExhibitViewer(this.room).el, this.tilesEl,
        h("section", { class: "captions-box", "aria-labelledby": "cap-h" },
          h("h2", { id: "cap-h", class: "sr-only" }, t("captions")), this.captionsEl)),
      this.controls,
      h("div", { class: "side-panels" }, this.enrollEl,
        h("section", { class: "panel chat", "aria-labelledby": "chat-h" },
          h("h2", { id: "chat-h" }, icon("chat"), t("chat")), this.chatBox, chatForm),
        this.sidesEl,
        evidencePanel(this.room, !!this.opts.admin),
        // A clerk drafts too; parties and others read, confirm and sign.
        this.opts.admin ? null : agreementPanel(this.room, this.room.me?.role === "clerk", this.room.me?.session_id ?? "")),
      this.audioBox);
    clear(this.chatLog);
    for (const m of this.room.chat) this.addChat(m, false);
    this.renderLayout();
    this.renderControls();
    this.renderNotice();
    this.renderEnroll();
  }

  private renderEnroll(): void {
    clear(this.enrollEl, enrollPanel(this.room, this.voices, {
      declared: this.opts.admin ? [] : declaredNames(),
      meter: (cb) => this.local.meter(cb) }));
  }

  private renderLayout(): void {
    const space = this.room.mySpace();
    const name = this.room.caucusName(space);
    this.spaceEl.className = `space-banner ${space ? "in-caucus" : "in-joint"}`;
    clear(this.spaceEl, space ? `${t("inCaucus")} ${name ?? ""}` : t("inJoint"),
      // Everyone sees that the session is being recorded, whatever space they are in.
      this.recording() ? h("span", { class: "rec-indicator", id: "rec-indicator" }, h("span", { class: "rec-dot", "aria-hidden": "true" }), t("recording")) : null);
    if (this.opts.admin && this.recShown !== this.recording()) this.renderControls();
    const mine = this.room.me ? this.room.participant(this.room.me.participant_id) : undefined;
    if (mine && mine.hand_raised !== this.handUp) { this.handUp = mine.hand_raised; this.renderControls(); }
    clear(this.sidesEl, sidesList(this.room.layout, (p) => p.caucus_id ? this.room.caucusName(p.caucus_id) ?? t("caucus") : null));
    this.renderTiles();
    this.renderCaptions();
  }

  private renderNotice(): void {
    const s = this.media.status;
    // The signaling first: while it is down, nothing else can be fixed from here.
    const away = this.room.net === "reconnecting";
    const text = away ? t("reconnecting") : s === "unavailable" ? t("mediaUnavailable") : s === "failed" ? t("mediaFailed")
      : s === "connecting" ? t("mediaConnecting") : s === "reconnecting" ? t("mediaReconnecting") : "";
    const state = away ? "reconnecting" : s;
    this.noticeEl.className = text ? `notice notice-${state}` : "notice hidden";
    this.noticeEl.id = "room-notice";
    this.noticeEl.dataset.state = text ? state : "";
    this.noticeEl.dataset.net = this.room.net;
    this.noticeEl.textContent = text;
  }

  private renderTiles(): void {
    const me = this.room.me?.participant_id;
    // A deaf party's (or any party's) own interpreter is pinned first and large.
    const pinned = pinnedInterpreter(this.room);
    const mates = this.room.spaceMates();
    if (pinned) mates.sort((a, b) => Number(b === pinned) - Number(a === pinned));
    const keep = new Set<string>();
    const items = mates.map((p) => {
      keep.add(p.participant_id);
      const el = this.tile(p, p.participant_id === me);
      if (p === pinned) {
        el.classList.add("pinned");
        el.setAttribute("aria-label", `${t("pinnedInterpreter")}：${p.name}`);
      }
      return el;
    });
    for (const [pid, v] of this.videos) if (!keep.has(pid)) { v.srcObject = null; this.videos.delete(pid); }
    this.tilesEl.className = `tiles n${Math.min(items.length, 6)}${pinned ? " has-pinned" : ""}`;
    clear(this.tilesEl, items);
    // A media element taken out of the document is paused; start the moved ones again.
    for (const v of this.videos.values()) if (v.isConnected && v.paused) void v.play().catch(() => {});
    this.syncAudio(keep);
  }

  private tile(p: Participant, isMe: boolean): HTMLElement {
    const tracks = isMe ? { video: this.local.video } : this.media.remote.get(p.participant_id) ?? {};
    const track = tracks.video;
    // Audio only (mine or theirs): the server forwards no video; show the initial.
    const audioOnly = !!(p as { audio_only?: boolean }).audio_only || this.media.audioOnly;
    const showVideo = !!track && track.readyState === "live" && !(isMe && !this.camOn)
      && !p.muted_sources.includes("video") && !audioOnly;
    let v = this.videos.get(p.participant_id);
    if (showVideo) {
      if (!v) {
        v = h("video", { autoplay: true, playsinline: true, muted: true, "aria-hidden": "true" });
        v.muted = true;
        this.videos.set(p.participant_id, v);
      }
      const cur = v.srcObject as MediaStream | null;
      if (!cur || cur.getVideoTracks()[0] !== track) v.srcObject = new MediaStream([track!]);
      if (isMe) v.classList.add("mirror");
    }
    const micOff = p.muted_sources.includes("audio") || (isMe && !this.micOn);
    const initials = [...p.name][0] ?? "?";
    const q = this.media.quality.get(isMe ? "me" : p.participant_id);
    const qText = q ? `${t(`quality_${q.level}` as Key)}（${t("qualityDetail", {
      loss: (q.loss * 100).toFixed(q.loss < 0.1 ? 1 : 0), rtt: q.rtt === undefined ? "—" : `${Math.round(q.rtt)} ms` })}）` : "";
    return h("li", { class: `tile${isMe ? " me" : ""}${p.hand_raised ? " hand" : ""}`, "data-pid": p.participant_id,
      "data-role": p.role, "data-connection": p.connected ? "online" : "reconnecting" },
      showVideo && v ? v : h("div", { class: "avatar", "aria-hidden": "true" }, initials),
      h("div", { class: "tile-label" },
        h("span", { class: "tile-name" }, p.name, isMe ? t("you") : ""),
        h("span", { class: `tile-role role-${p.role}` }, roleName(p.role, p.side)),
        micOff ? h("span", { class: "tile-flag", title: t("tileMuted") }, icon("micoff"), h("span", { class: "sr-only" }, t("tileMuted"))) : null,
        p.hand_raised ? h("span", { class: "tile-flag flag-hand" }, icon("hand"), h("span", { class: "sr-only" }, t("handRaised"))) : null,
        // Still seated during the grace period: reconnecting, not gone.
        !p.connected ? h("span", { class: "tile-flag flag-reconnecting" }, t("peerReconnecting")) : null,
        q && p.connected ? h("span", { class: `quality q-${q.level}`, role: "img", "aria-label": `${isMe ? t("myLine") + "：" : ""}${qText}`,
          title: qText, "data-level": q.level }) : null));
  }

  private syncAudio(inSpace: Set<string>): void {
    const want = new Set<MediaStreamTrack>();
    for (const [pid, tr] of this.media.remote) if (inSpace.has(pid) && tr.audio) want.add(tr.audio);
    for (const [track, el] of this.audios) if (!want.has(track)) { el.srcObject = null; el.remove(); this.audios.delete(track); }
    for (const track of want) {
      if (this.audios.has(track)) continue;
      const el = h("audio", { autoplay: true });
      el.srcObject = new MediaStream([track]);
      applySink(el, this.local.choice.audiooutput);
      this.audioBox.append(el);
      this.audios.set(track, el);
    }
  }

  /** Captions of my space in the order people started speaking, newest last; the box
   * scrolls back through the history and follows the newest unless scrolled up. */
  private renderCaptions(): void {
    const space = this.room.mySpace();
    const list = captionOrder([...this.room.captions.values()].filter((c) => (c.caucus ?? null) === space)).slice(-200);
    if (!list.length) { clear(this.captionsEl, h("p", { class: "muted" }, t("noCaptions"))); return; }
    const box = this.captionsEl;
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    clear(box, list.map((c: Caption) => {
      const label = interpretedLabel(c);  // an interpreter's words say so
      return h("p", { class: `caption${c.final ? "" : " partial"}${label ? " interpreted" : ""}`, "data-utterance": c.utterance_id },
        h("span", { class: "cap-who" }, `${c.speaker.name}（${roleName(c.speaker.role)}）`), " ",
        label ? h("span", { class: "cap-interp" }, `[${label}] `) : null, c.text);
    }));
    if (atEnd) box.scrollTop = box.scrollHeight;
  }

  private addChat(m: ChatMsg, scroll = true): void {
    const mine = m.from.participant_id === this.room.me?.participant_id;
    const where = m.caucus_id ? (this.room.caucusName(m.caucus_id) ?? t("caucus")) : null;
    this.chatLog.append(h("li", { class: `msg${mine ? " mine" : ""}${m.caucus_id ? " msg-caucus" : ""}` },
      h("div", { class: "msg-meta" }, h("strong", {}, m.from.name), ` · ${roleName(m.from.role)} · ${fmtTime(m.at)}`,
        where ? h("span", { class: "msg-where" }, ` · ${where}`) : null),
      h("div", { class: "msg-text" }, m.text)));
    if (scroll) this.chatBox.scrollTop = this.chatBox.scrollHeight;
  }

  private recShown: boolean | null = null;

  private recording(): boolean { return !!this.room.layout?.recording; }

  private renderControls(): void {
    this.recShown = this.recording();
    const btn = (cls: string, ic: string, label: string, pressed: boolean | null, fn: () => void, id: string) =>
      h("button", { class: `ctl ${cls}`, type: "button", id, "aria-pressed": pressed === null ? null : String(pressed), onclick: fn },
        icon(ic), h("span", {}, label));
    const hasMic = !!this.local.audio, hasCam = !!this.local.video;
    clear(this.controls,
      btn(this.micOn ? "" : "ctl-off", this.micOn ? "mic" : "micoff", this.micOn ? t("mute") : t("unmute"), !this.micOn, () => {
        if (!hasMic) return;
        this.micOn = !this.micOn; this.media.setMic(this.micOn); this.renderControls(); this.renderTiles();
      }, "ctl-mic"),
      btn(this.camOn ? "" : "ctl-off", this.camOn ? "cam" : "camoff", this.camOn ? t("camOff") : t("camOn"), !this.camOn, () => {
        if (!hasCam) return;
        this.camOn = !this.camOn; this.media.setCam(this.camOn); this.renderControls(); this.renderTiles();
      }, "ctl-cam"),
      this.opts.admin ? null : btn(this.handUp ? "ctl-on" : "", "hand", this.handUp ? t("handDown") : t("hand"), this.handUp, () => {
        void this.room.call("hand", { raised: !this.handUp });
      }, "ctl-hand"),
      ...this.screen.buttons(),
      btn(this.devicesOpen ? "ctl-on" : "", "gear", t("devices"), this.devicesOpen, () => {
        this.devicesOpen = !this.devicesOpen; this.renderDevices(); this.renderControls();
      }, "ctl-devices"),
      btn(prefs.bigCaptions ? "ctl-on" : "", "cc", t("bigCaptions"), prefs.bigCaptions, () => {
        prefs.setBigCaptions(!prefs.bigCaptions); this.renderControls();
      }, "ctl-cc"),
      // The mediator's switch: off is refused by the server once audio was recorded.
      this.opts.admin ? btn(this.recording() ? "ctl-on" : "", "mic", this.recording() ? t("recordingStop") : t("recordingStart"),
        this.recording(), () => {
          const on = !this.recording();
          void this.room.call("recording", { on }).then((a) => {
            if (a.ok) toast(on ? t("recordingStarted") : t("recordingStopped"));
            else toast(a.error?.message ?? "", "error");
          });
        }, "ctl-rec") : null,
      btn("ctl-leave", "leave", t("leave"), null, () => {
        if (window.confirm(t("leaveConfirm"))) void this.room.leave();
      }, "ctl-leave"));
  }

  /** The device picker, opened from the control bar: a switch replaces the track sent. */
  private renderDevices(): void {
    this.devicePanel.classList.toggle("hidden", !this.devicesOpen);
    this.stopMeter();
    this.stopMeter = () => {};
    if (!this.devicesOpen) { this.picker?.destroy(); this.picker = null; return; }
    const meter = h("meter", { id: "room-mic-meter", min: "0", max: "1", low: "0.05", high: "0.9", optimum: "0.5", value: "0" });
    const listen = () => { this.stopMeter(); this.stopMeter = this.local.meter((v) => { meter.value = v; }); };
    this.picker?.destroy();
    this.picker = devicePicker(this.local, {
      idPrefix: "room",
      onSwitched: (kind) => { if (kind === "audio") listen(); },
      onSpeaker: (id) => { for (const el of this.audios.values()) applySink(el, id); },
      retry: async () => { await this.local.retryMissing(); listen(); },
    });
    clear(this.devicePanel, h("h2", { id: "dev-h" }, t("devices")), this.picker.el,
      h("div", { class: "field" }, h("label", { for: "room-mic-meter" }, t("micLevel")), meter));
    listen();
  }

  destroy(): void {
    this.screen.destroy();
    this.stopMeter();
    stopEnrollMeter();
    this.picker?.destroy();
    this.offs.forEach((f) => f());
    for (const el of this.audios.values()) el.srcObject = null;
    for (const v of this.videos.values()) v.srcObject = null;
  }
}

/** Captions in the order their speech started: by when its first audio reached the server
 * (one clock for all speakers), else by when this page first heard of it; a long sentence
 * that the recognizer finishes late stays where it began. Newest last. */
export function captionOrder(list: Caption[]): Caption[] {
  const key = (c: Caption): number => c.heard_at ?? Number.NaN;
  return [...list].sort((a, b) => {
    const ka = key(a), kb = key(b);
    const d = !Number.isNaN(ka) && !Number.isNaN(kb) ? ka - kb : (a.at ?? 0) - (b.at ?? 0);
    return d || a.start - b.start;
  });
}
