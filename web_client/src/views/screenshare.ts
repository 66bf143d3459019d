// Screen sharing and audio-only mode in the room.
//
// The mediator shares by right; a party, agent or expert once the mediator allows their
// seat (the `share_grant` event, from the participant list). A share is sent as the
// "screen" source of a new peer connection and routed like a camera: only the sharer's
// space sees it (the server decides). The browser's own "stop sharing" bar ends the track:
// that stops the share here and tells the server. Audio only stops sending camera video
// and asks the server to pause every video to and from this seat.

import { announce, clear, h, toast } from "../dom";
import type { MediaSession } from "../media";
import { prefs } from "../prefs";
import type { Participant, RoomClient } from "../room";
import { icon } from "../ui";

const zh = {
  share: "共享屏幕", stopShare: "停止共享", sharingBy: "{name} 正在共享屏幕", youShare: "您正在共享屏幕",
  shareDenied: "调解员尚未允许您共享屏幕。", shareFailed: "未能共享屏幕：", shareCancelled: "已取消共享屏幕。",
  shareAllowed: "调解员已允许您共享屏幕。", shareRevoked: "调解员已收回共享屏幕的许可。",
  audioOnly: "仅语音", audioOnlyOff: "恢复视频", audioOnlyOn: "已切换为仅语音：不再收发视频，以节省流量。",
  audioOnlyBack: "已恢复视频。", audioOnlyByMediator: "调解员为您切换为仅语音（网络较差）。",
  allowShare: "允许共享屏幕", disallowShare: "收回共享屏幕", setAudioOnly: "设为仅语音", unsetAudioOnly: "恢复视频",
  flagSharing: "共享屏幕中", flagAudioOnly: "仅语音", screenOf: "{name} 的屏幕",
};
const en: typeof zh = {
  share: "Share screen", stopShare: "Stop sharing", sharingBy: "{name} is sharing their screen", youShare: "You are sharing your screen",
  shareDenied: "The mediator has not allowed you to share your screen.", shareFailed: "Could not share the screen: ", shareCancelled: "Screen sharing cancelled.",
  shareAllowed: "The mediator allowed you to share your screen.", shareRevoked: "The mediator withdrew the permission to share your screen.",
  audioOnly: "Audio only", audioOnlyOff: "Video back", audioOnlyOn: "Audio only: no video sent or received, to save bandwidth.",
  audioOnlyBack: "Video is back.", audioOnlyByMediator: "The mediator switched you to audio only (weak connection).",
  allowShare: "Allow screen sharing", disallowShare: "Withdraw screen sharing", setAudioOnly: "Audio only", unsetAudioOnly: "Video back",
  flagSharing: "Sharing screen", flagAudioOnly: "Audio only", screenOf: "{name}'s screen",
};
type K = keyof typeof zh;
export function st(key: K, vars: Record<string, string> = {}): string {
  let s = (prefs.lang === "en" ? en : zh)[key];
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

interface Sharing extends Participant { sharing?: boolean; audio_only?: boolean; can_share?: boolean }

/** The screen and audio-only state of one room page, with the big screen stage and the
 * control-bar buttons. */
export class ScreenShare {
  /** The big stage: the shared screen of someone in my space, with their name. */
  el = h("section", { class: "screen-stage hidden", id: "screen-stage", "aria-labelledby": "screen-h" });
  private video: HTMLVideoElement | null = null;
  private offs: (() => void)[] = [];
  private local: MediaStreamTrack | null = null;
  private shown = "";
  onchange: () => void = () => {};

  constructor(private room: RoomClient, private media: MediaSession, private admin: boolean) {
    this.offs.push(
      room.on("layout", () => {
        this.render();
        // The grant and audio-only state arrive with the layout: redraw the buttons only
        // when they change (a redraw would take the focus from a button being used).
        const key = `${this.allowed}/${this.audioOnly}`;
        if (key !== this.shown) { this.shown = key; this.onchange(); }
      }),
      room.on("share_grant", (d: { allowed: boolean; stopped: boolean }) => {
        if (!d.allowed && this.local) void this.stop(false);
        toast(d.allowed ? st("shareAllowed") : st("shareRevoked"));
        this.onchange();
      }),
      room.on("audio_only", (d: { on: boolean; by: string }) => {
        void this.media.setAudioOnly(d.on);
        if (d.by !== room.me?.participant_id) toast(d.on ? st("audioOnlyByMediator") : st("audioOnlyBack"));
        this.onchange();
      }),
      // Back from a drop: a share still running goes out again with the new connection.
      room.on("joined", () => { this.syncAudioOnly(); }),
    );
  }

  private me(): Sharing | undefined {
    return this.room.me ? this.room.participant(this.room.me.participant_id) as Sharing | undefined : undefined;
  }

  /** Whether I may share: the mediator always, others once allowed. */
  get allowed(): boolean { return this.admin || !!this.me()?.can_share; }
  get sharing(): boolean { return !!this.local; }
  get audioOnly(): boolean { return !!this.me()?.audio_only || this.media.audioOnly; }

  private syncAudioOnly(): void {
    const on = !!this.me()?.audio_only;
    if (on !== this.media.audioOnly) void this.media.setAudioOnly(on);
  }

  async start(): Promise<void> {
    if (!this.allowed) { toast(st("shareDenied"), "error"); return; }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 5, max: 15 } }, audio: false });
    } catch (e) {
      const name = (e as DOMException)?.name;
      toast(name === "NotAllowedError" ? st("shareCancelled") : st("shareFailed") + String((e as Error)?.message ?? e), "error");
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    track.contentHint = "detail";
    const ack = await this.room.call("screen_share", { on: true });
    if (!ack.ok) { track.stop(); toast(ack.error?.message ?? st("shareDenied"), "error"); return; }
    this.local = track;
    // The browser's own "stop sharing" bar (or the window closing) ends the track.
    track.addEventListener("ended", () => { if (this.local === track) void this.stop(); });
    await this.media.setScreen(track);
    announce(st("youShare"));
    this.render();
    this.onchange();
  }

  async stop(tell = true): Promise<void> {
    const track = this.local;
    this.local = null;
    track?.stop();
    if (tell) await this.room.call("screen_share", { on: false });
    await this.media.setScreen(null);
    this.render();
    this.onchange();
  }

  async toggleAudioOnly(): Promise<void> {
    const on = !this.audioOnly;
    const ack = await this.room.call("audio_only", { on });
    if (!ack.ok) { toast(ack.error?.message ?? "", "error"); return; }
    await this.media.setAudioOnly(on);
    toast(on ? st("audioOnlyOn") : st("audioOnlyBack"));
    this.onchange();
  }

  /** The control-bar buttons (share, audio only), in the room's button style. */
  buttons(): HTMLElement[] {
    const btn = (cls: string, ic: string, label: string, pressed: boolean, fn: () => void, id: string) =>
      h("button", { class: `ctl ${cls}`, type: "button", id, "aria-pressed": String(pressed), onclick: fn }, icon(ic), h("span", {}, label));
    const out: HTMLElement[] = [];
    if (this.allowed && navigator.mediaDevices && "getDisplayMedia" in navigator.mediaDevices) {
      out.push(btn(this.sharing ? "ctl-on" : "", "screen", this.sharing ? st("stopShare") : st("share"), this.sharing,
        () => { void (this.sharing ? this.stop() : this.start()); }, "ctl-share"));
    }
    out.push(btn(this.audioOnly ? "ctl-on" : "", "audio", this.audioOnly ? st("audioOnlyOff") : st("audioOnly"), this.audioOnly,
      () => { void this.toggleAudioOnly(); }, "ctl-audio-only"));
    return out;
  }

  /** Show, large, the screen someone in my space is sharing (the newest if several). */
  render(): void {
    this.syncAudioOnly();
    const space = this.room.mySpace();
    const meId = this.room.me?.participant_id;
    const sharers = (this.room.layout?.participants ?? []).filter((p) => (p as Sharing).sharing && p.caucus_id === space) as Sharing[];
    const other = sharers.find((p) => p.participant_id !== meId && this.media.remote.get(p.participant_id)?.screen?.readyState === "live");
    const mine = this.local && sharers.some((p) => p.participant_id === meId) ? this.local : null;
    const track = other ? this.media.remote.get(other.participant_id)!.screen! : mine;
    const who = other ? other.name : mine ? (this.room.me?.name ?? "") : "";
    if (!track) {
      this.el.className = "screen-stage hidden";
      this.el.dataset.sharer = "";
      if (this.video) this.video.srcObject = null;
      clear(this.el);
      return;
    }
    this.video ??= h("video", { autoplay: true, playsinline: true, muted: true, class: "screen-video", id: "screen-video" });
    this.video.muted = true;
    const cur = this.video.srcObject as MediaStream | null;
    if (!cur || cur.getVideoTracks()[0] !== track) this.video.srcObject = new MediaStream([track]);
    this.video.setAttribute("aria-label", st("screenOf", { name: who }));
    this.el.className = "screen-stage";
    this.el.dataset.sharer = other ? other.participant_id : meId ?? "";
    clear(this.el,
      h("h2", { id: "screen-h", class: "screen-title" }, icon("screen"), other ? st("sharingBy", { name: who }) : st("youShare")),
      this.video,
      other ? null : h("button", { class: "btn btn-small", type: "button", id: "screen-stop", onclick: () => { void this.stop(); } }, st("stopShare")));
    if (this.video.paused) void this.video.play().catch(() => {});
  }

  destroy(): void {
    this.offs.forEach((f) => f());
    this.local?.stop();
    if (this.video) this.video.srcObject = null;
  }
}

/** The mediator's per-seat controls in the participant list: allow screen sharing, and
 * switch a seat on a weak line to audio only. */
export function seatMediaActions(room: RoomClient, p: Participant): HTMLElement | null {
  const s = p as Sharing;
  if (p.participant_id === room.me?.participant_id) return null;
  const act = async (event: string, data: object): Promise<void> => {
    const a = await room.call(event, data);
    if (!a.ok) toast(a.error?.message ?? event, "error");
  };
  const shareable = ["party", "representative", "expert"].includes(p.role);
  return h("span", { class: "seat-media" },
    shareable ? h("button", { class: "btn btn-small", type: "button", "aria-pressed": String(!!s.can_share),
      "data-act": "share-grant", "aria-label": `${s.can_share ? st("disallowShare") : st("allowShare")}: ${p.name}`,
      onclick: () => act("share_grant", { participant_id: p.participant_id, allowed: !s.can_share }) },
      s.can_share ? st("disallowShare") : st("allowShare")) : null,
    h("button", { class: "btn btn-small", type: "button", "aria-pressed": String(!!s.audio_only), "data-act": "audio-only",
      "aria-label": `${s.audio_only ? st("unsetAudioOnly") : st("setAudioOnly")}: ${p.name}`,
      onclick: () => act("audio_only", { participant_id: p.participant_id, on: !s.audio_only }) },
      s.audio_only ? st("unsetAudioOnly") : st("setAudioOnly")),
    s.sharing ? h("span", { class: "badge flag-sharing" }, st("flagSharing")) : null,
    s.audio_only ? h("span", { class: "badge flag-audio-only" }, st("flagAudioOnly")) : null);
}
