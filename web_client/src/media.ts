// Camera and microphone, and the one peer connection to the SFU.
//
// Negotiation (media/sfu.py): the browser offers its own tracks (sendonly) and gets the
// answer in the ack; the server offers the tracks the browser receives in `signal`
// events, with `tracks: {mid: {participant_id, source, kind}}`, and the browser answers.
// A server offer that arrives while our own offer is unanswered waits for that answer.

import type { RoomClient, RtcConfig } from "./room";

export interface RemoteTracks { audio?: MediaStreamTrack; video?: MediaStreamTrack; screen?: MediaStreamTrack }
type TrackInfo = { participant_id: string; source: string; kind: string };

export type DeviceKind = "audioinput" | "videoinput" | "audiooutput";
/** Why a device could not be opened: refused by the person or the browser, not there,
 * or held by another program. */
export type DeviceError = "denied" | "none" | "busy";

const DEVICE_KEY = "tj.devices";

function loadChoice(): Partial<Record<DeviceKind, string>> {
  try { return JSON.parse(localStorage.getItem(DEVICE_KEY) ?? "{}") as Partial<Record<DeviceKind, string>>; }
  catch { return {}; }
}

function deviceError(e: unknown): DeviceError {
  const name = (e as DOMException)?.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotReadableError" || name === "AbortError") return "busy";
  return "none";
}

/** Whether this browser can send sound to a chosen speaker (HTMLMediaElement.setSinkId). */
export const canChooseSpeaker = typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;

export class LocalMedia {
  stream: MediaStream | null = null;
  error: DeviceError | null = null;
  /** What went wrong with each kind at the last open or switch (null: it works). */
  problems: { camera: DeviceError | null; mic: DeviceError | null } = { camera: null, mic: null };
  /** The chosen devices, kept for the next visit (ids are per-origin, not personal data). */
  choice: Partial<Record<DeviceKind, string>> = loadChoice();
  private ctx: AudioContext | null = null;
  private trackListeners = new Set<(kind: "audio" | "video", track: MediaStreamTrack) => void>();

  private constraints(kind: "audio" | "video", exact = false): MediaTrackConstraints | boolean {
    const id = this.choice[kind === "audio" ? "audioinput" : "videoinput"];
    const base: MediaTrackConstraints = kind === "video"
      ? { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15 } } : {};
    if (id) base.deviceId = exact ? { exact: id } : { ideal: id };
    return kind === "audio" && !id ? true : base;
  }

  async open(): Promise<MediaStream | null> {
    if (this.stream) return this.stream;
    if (!navigator.mediaDevices?.getUserMedia) { this.error = "none"; this.problems = { camera: "none", mic: "none" }; return null; }
    this.problems = { camera: null, mic: null };
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: this.constraints("audio"), video: this.constraints("video") });
    } catch (e) {
      // Try each alone: many old phones have a broken or busy camera.
      this.problems.camera = deviceError(e);
      try { this.stream = await navigator.mediaDevices.getUserMedia({ audio: this.constraints("audio") }); }
      catch (e2) {
        this.problems.mic = deviceError(e2);
        try {
          this.stream = await navigator.mediaDevices.getUserMedia({ video: this.constraints("video") });
          this.problems.camera = null;
        } catch { /* neither */ }
      }
    }
    if (!this.stream) { this.error = this.problems.mic === "denied" || this.problems.camera === "denied" ? "denied" : this.problems.mic ?? "none"; return null; }
    if (!this.audio) this.problems.mic ??= "none";
    if (!this.video) this.problems.camera ??= "none";
    this.error = null;
    return this.stream;
  }

  get audio(): MediaStreamTrack | undefined { return this.stream?.getAudioTracks()[0]; }
  get video(): MediaStreamTrack | undefined { return this.stream?.getVideoTracks()[0]; }

  /** The devices the browser lists (names only once the person allowed one). */
  async devices(): Promise<MediaDeviceInfo[]> {
    try { return (await navigator.mediaDevices?.enumerateDevices()) ?? []; } catch { return []; }
  }

  /** Called with each new local track after a switch (the room replaces what it sends). */
  onTrack(fn: (kind: "audio" | "video", track: MediaStreamTrack) => void): () => void {
    this.trackListeners.add(fn);
    return () => this.trackListeners.delete(fn);
  }

  choose(kind: DeviceKind, deviceId: string): void {
    this.choice[kind] = deviceId;
    try { localStorage.setItem(DEVICE_KEY, JSON.stringify(this.choice)); } catch { /* private mode */ }
  }

  /** Open the chosen camera or microphone in place of the current one; the new track
   * keeps the old one's on/off state. Throws a DeviceError (the old track stays). */
  async switchTo(kind: "audioinput" | "videoinput", deviceId: string): Promise<MediaStreamTrack> {
    const k = kind === "audioinput" ? "audio" : "video";
    this.choose(kind, deviceId);
    let fresh: MediaStream;
    try { fresh = await navigator.mediaDevices.getUserMedia({ [k]: this.constraints(k, true) }); }
    catch (e) {
      const err = deviceError(e);
      this.problems[k === "audio" ? "mic" : "camera"] = err;
      throw err;
    }
    const track = (k === "audio" ? fresh.getAudioTracks() : fresh.getVideoTracks())[0];
    const old = k === "audio" ? this.audio : this.video;
    if (old) { track.enabled = old.enabled; this.stream!.removeTrack(old); old.stop(); }
    if (!this.stream) this.stream = new MediaStream();
    this.stream.addTrack(track);
    this.problems[k === "audio" ? "mic" : "camera"] = null;
    this.error = null;
    for (const fn of this.trackListeners) fn(k, track);
    return track;
  }

  /** Open again what is missing (after the person allowed it, or plugged it in); the
   * room sends the new tracks. */
  async retryMissing(): Promise<void> {
    if (!this.stream) {
      const opened = await this.open();
      for (const tr of opened?.getTracks() ?? []) for (const fn of this.trackListeners) fn(tr.kind as "audio" | "video", tr);
      return;
    }
    for (const k of ["audio", "video"] as const) {
      if (k === "audio" ? this.audio : this.video) continue;
      const which = k === "audio" ? "mic" : "camera";
      try {
        const tr = (await navigator.mediaDevices.getUserMedia({ [k]: this.constraints(k) })).getTracks()[0];
        this.stream.addTrack(tr);
        this.problems[which] = null;
        for (const fn of this.trackListeners) fn(k, tr);
      } catch (e) { this.problems[which] = deviceError(e); }
    }
  }

  /** Calls back with the microphone level in 0..1 about 10 times a second; returns a stopper. */
  meter(cb: (level: number) => void): () => void {
    if (!this.stream || !this.audio) return () => {};
    this.ctx ??= new AudioContext();
    void this.ctx.resume();
    const src = this.ctx.createMediaStreamSource(new MediaStream([this.audio]));
    const an = this.ctx.createAnalyser();
    an.fftSize = 512;
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    const timer = window.setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      cb(Math.min(1, Math.sqrt(sum / buf.length) * 4));
    }, 100);
    return () => { window.clearInterval(timer); src.disconnect(); };
  }

  stop(): void {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    void this.ctx?.close();
    this.ctx = null;
  }
}

/** Send sound to the chosen speaker where the browser allows it. */
export function applySink(el: HTMLMediaElement, sinkId: string | undefined): void {
  if (!canChooseSpeaker || sinkId === undefined) return;
  const m = el as HTMLMediaElement & { setSinkId(id: string): Promise<void> };
  void m.setSinkId(sinkId).catch((e: unknown) => console.warn("speaker not available", e));
}

export type MediaStatus = "off" | "connecting" | "connected" | "unavailable" | "failed" | "reconnecting";

export interface LinkQuality { loss: number; rtt?: number; level: "good" | "fair" | "poor" }

/** A line is poor from 10 % loss or 600 ms round trip, fair from 3 % or 300 ms. */
export function grade(loss: number, rttMs?: number): LinkQuality["level"] {
  const r = rttMs ?? 0;
  if (loss >= 0.1 || r >= 600) return "poor";
  if (loss >= 0.03 || r >= 300) return "fair";
  return "good";
}

export class MediaSession {
  pc: RTCPeerConnection | null = null;
  status: MediaStatus = "off";
  remote = new Map<string, RemoteTracks>();
  private tracks: Record<string, TrackInfo> = {};
  private ownOffer: Promise<unknown> = Promise.resolve();
  private offs: (() => void)[] = [];
  private restarting = false;
  private restartAgain = false;
  private senders: Partial<Record<"audio" | "video" | "screen", RTCRtpSender>> = {};
  /** The screen being shared (views/screenshare.ts); sent as the "screen" source. */
  screen: MediaStreamTrack | null = null;
  /** On a weak line: no video sent (the server also stops forwarding video to us). */
  audioOnly = false;
  private stallTimer: ReturnType<typeof setTimeout> | null = null;
  /** Link quality per participant (and "me": my own line to the server), from WebRTC stats. */
  quality = new Map<string, LinkQuality>();
  private qualityTimer: ReturnType<typeof setInterval> | null = null;
  private lastCounts = new Map<string, { lost: number; received: number }>();
  onchange: () => void = () => {};

  constructor(private room: RoomClient, private local: LocalMedia) {
    this.offs.push(room.on("signal", (m) => { void this.onServerSignal(m); }));
    // Fresh TURN credentials: an ICE restart or a new allocation uses them.
    this.offs.push(room.on("rtc", (rc?: RtcConfig) => {
      if (this.pc && rc?.iceServers) {
        try { this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers: rc.iceServers }); }
        catch (e) { console.warn("could not update ICE servers", e); }
      }
    }));
    // A new camera or microphone chosen mid-session: swap what the sender sends, with no
    // renegotiation (the SFU keeps the same track); a kind we did not send yet needs a
    // new offer, so the connection starts again.
    // Back from a signaling drop: the network path has likely changed (Wi-Fi to 4G), so
    // negotiate the media again (new ICE) rather than wait for the old path to time out.
    this.offs.push(room.on("rejoined", () => { void this.reconnect(); }));
    this.offs.push(local.onTrack((kind, track) => { void this.replaceLocal(kind, track); }));
  }

  async replaceLocal(kind: "audio" | "video", track: MediaStreamTrack): Promise<void> {
    const sender = this.senders[kind];
    if (sender) { await sender.replaceTrack(track); this.onchange(); return; }
    if (this.pc) await this.restart();
  }

  private set(s: MediaStatus): void { this.status = s; this.onchange(); }

  async start(config?: RTCConfiguration): Promise<void> {
    if (this.status === "connecting" || this.status === "connected" || this.status === "unavailable") return;
    const rc = this.room.me?.rtc_config;
    if (!config && rc && rc.media === false) { this.set("unavailable"); return; }
    this.set("connecting");
    const pc = new RTCPeerConnection(config ?? {
      iceServers: rc?.iceServers ?? this.room.me?.ice_servers ?? [],
      iceTransportPolicy: rc?.iceTransportPolicy ?? "all", bundlePolicy: "max-bundle",
    });
    this.pc = pc;
    this.tracks = {};
    pc.ontrack = (e) => this.onTrack(e);
    pc.onicecandidate = (e) => {
      if (e.candidate && pc === this.pc) void this.room.call("signal", { type: "candidate", candidate: e.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (this.stallTimer) { clearTimeout(this.stallTimer); this.stallTimer = null; }
      if (pc.connectionState === "connected") this.set("connected");
      if (pc.connectionState === "failed") void this.restart();
      if (pc.connectionState === "disconnected") {
        // The path is gone (Wi-Fi to 4G...): say so, and start again if it does not come
        // back by itself soon (the browser would wait about 30 s before "failed").
        this.set("reconnecting");
        this.stallTimer = setTimeout(() => { if (pc === this.pc) void this.restart(); }, 6000);
      }
    };
    const stream = this.local.stream ?? new MediaStream();
    const mine: RTCRtpTransceiver[] = [];
    this.senders = {};
    for (const track of stream.getTracks()) {
      const tr = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      mine.push(tr);
      this.senders[track.kind as "audio" | "video"] = tr.sender;
    }
    const screenMid = new Set<RTCRtpTransceiver>();
    if (this.screen && this.screen.readyState === "live") {
      const tr = pc.addTransceiver(this.screen, { direction: "sendonly", streams: [new MediaStream([this.screen])] });
      mine.push(tr);
      screenMid.add(tr);
      this.senders.screen = tr.sender;
    }

    this.watchQuality();
    if (!stream.getTracks().length) {
      // Nothing to send: still ask to receive, so that a party without a camera sees and hears.
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    await pc.setLocalDescription(await pc.createOffer());
    // Which m-line carries the microphone and which the camera (the SFU names tracks by source).
    const sources: Record<string, string> = {};
    for (const t of mine) if (t.mid && t.sender.track) sources[t.mid] = screenMid.has(t) ? "screen" : t.sender.track.kind;
    const offer = this.room.call("signal", { type: "offer", sdp: pc.localDescription!.sdp, sources });
    this.ownOffer = offer;
    const ack = await offer;
    if (pc !== this.pc) return;
    if (!ack.ok) {
      pc.close();
      this.pc = null;
      this.set(ack.error?.code === "media_unavailable" ? "unavailable" : "failed");
      return;
    }
    if (ack.answer?.sdp) await pc.setRemoteDescription({ type: "answer", sdp: ack.answer.sdp });
    if (this.audioOnly) await this.pauseVideo(true);
  }

  private async onServerSignal(m: any): Promise<void> {
    if (!m || m.type !== "offer" || !this.pc) return;
    await this.ownOffer;
    const pc = this.pc;
    if (!pc) return;
    Object.assign(this.tracks, m.tracks ?? {});
    await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await this.room.call("signal", { type: "answer", sdp: pc.localDescription!.sdp });
    this.pruneRemote();
  }

  private onTrack(e: RTCTrackEvent): void {
    const mid = e.transceiver.mid ?? "";
    const info = this.tracks[mid];
    const pid = info?.participant_id ?? e.streams[0]?.id;
    if (!pid) return;
    const source = (info?.source ?? e.track.kind) as keyof RemoteTracks;
    const entry = this.remote.get(pid) ?? {};
    entry[source] = e.track;
    this.remote.set(pid, entry);
    e.track.addEventListener("ended", () => { this.onchange(); });
    this.onchange();
  }

  /** Forget tracks whose transceiver the server stopped (someone left or moved away). */
  private pruneRemote(): void {
    if (!this.pc) return;
    const live = new Set<MediaStreamTrack>();
    for (const t of this.pc.getTransceivers()) {
      if (t.currentDirection === "recvonly" || t.currentDirection === "sendrecv") live.add(t.receiver.track);
    }
    for (const [pid, tr] of this.remote) {
      for (const k of Object.keys(tr) as (keyof RemoteTracks)[]) if (!live.has(tr[k]!)) delete tr[k];
      if (!Object.keys(tr).length) this.remote.delete(pid);
    }
    this.onchange();
  }

  /** Start the connection again (a new ICE negotiation through the SFU), e.g. after the
   * signaling came back from a network change. Does nothing while media is off. */
  async reconnect(): Promise<void> {
    if (this.pc || this.status === "failed" || this.status === "reconnecting") await this.restart();
  }

  private async restart(): Promise<void> {
    if (this.restarting) { this.restartAgain = true; return; }
    this.restarting = true;
    if (this.stallTimer) { clearTimeout(this.stallTimer); this.stallTimer = null; }
    this.set("reconnecting");
    try {
      const ack = await this.room.call("signal", { type: "restart" });
      this.pc?.close();
      this.pc = null;
      this.remote.clear();
      this.status = "off";
      if (ack.ok) {
        const a = ack.answer ?? {};
        await this.start({ iceServers: a.iceServers ?? [], iceTransportPolicy: a.iceTransportPolicy ?? "all", bundlePolicy: "max-bundle" });
      } else {
        this.set("failed");  // offline: tried again when the signaling is back (reconnect)
      }
    } finally { this.restarting = false; }
    if (this.restartAgain) { this.restartAgain = false; await this.restart(); }
  }

  /** Share a screen (or stop, with null): a new connection carries it as the "screen"
   * source; the others' tracks come back in the same space without a lost seat. */
  async setScreen(track: MediaStreamTrack | null): Promise<void> {
    this.screen = track;
    if (this.pc) await this.restart();
  }

  /** Audio only on a weak line: stop sending camera video (the encoder goes idle, no
   * renegotiation); the server pauses what it forwards to us. */
  async setAudioOnly(on: boolean): Promise<void> {
    this.audioOnly = on;
    await this.pauseVideo(on);
    this.onchange();
  }

  private async pauseVideo(off: boolean): Promise<void> {
    for (const sender of [this.senders.video, this.senders.screen]) {
      if (!sender) continue;
      const p = sender.getParameters();
      if (!p.encodings?.length) continue;
      for (const e of p.encodings) e.active = !off;
      try { await sender.setParameters(p); } catch (e) { console.warn("could not pause video", e); }
    }
  }

  /** Bytes of video this page has sent and received so far (tests, the audio-only check). */
  async videoBytes(): Promise<{ sent: number; received: number }> {
    const out = { sent: 0, received: 0 };
    if (!this.pc) return out;
    (await this.pc.getStats()).forEach((s: any) => {
      if (s.kind !== "video") return;
      if (s.type === "outbound-rtp") out.sent += s.bytesSent ?? 0;
      if (s.type === "inbound-rtp") out.received += s.bytesReceived ?? 0;
    });
    return out;
  }

  setMic(on: boolean): void { if (this.local.audio) this.local.audio.enabled = on; }
  setCam(on: boolean): void { if (this.local.video) this.local.video.enabled = on; }

  /** Inbound statistics per publisher, for tests and the connection indicator. */
  async inbound(): Promise<Record<string, { audioEnergy?: number; framesDecoded?: number }>> {
    const out: Record<string, { audioEnergy?: number; framesDecoded?: number }> = {};
    if (!this.pc) return out;
    (await this.pc.getStats()).forEach((s: any) => {
      if (s.type !== "inbound-rtp") return;
      const t = this.tracks[s.mid];
      if (!t) return;
      const o = (out[t.participant_id] ??= {});
      if (s.kind === "audio") o.audioEnergy = s.totalAudioEnergy ?? 0; else o.framesDecoded = s.framesDecoded ?? 0;
    });
    return out;
  }

  /** Every 2 s: packet loss per publisher I receive, and my round-trip time to the server. */
  private watchQuality(): void {
    if (this.qualityTimer) return;
    this.qualityTimer = setInterval(() => { void this.sampleQuality(); }, 2000);
  }

  private async sampleQuality(): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    const counts = new Map<string, { lost: number; received: number }>();
    let rtt: number | undefined;
    let myLoss: number | undefined;
    (await pc.getStats()).forEach((st: any) => {
      if (st.type === "inbound-rtp") {
        const t = this.tracks[st.mid];
        if (!t) return;
        const c = counts.get(t.participant_id) ?? { lost: 0, received: 0 };
        c.lost += Math.max(0, st.packetsLost ?? 0);
        c.received += st.packetsReceived ?? 0;
        counts.set(t.participant_id, c);
      } else if (st.type === "candidate-pair" && st.nominated && st.currentRoundTripTime !== undefined) {
        rtt = st.currentRoundTripTime * 1000;
      } else if (st.type === "remote-inbound-rtp" && st.fractionLost !== undefined) {
        myLoss = Math.max(myLoss ?? 0, st.fractionLost);
      }
    });
    const next = new Map<string, LinkQuality>();
    for (const [pid, c] of counts) {
      const prev = this.lastCounts.get(pid) ?? { lost: 0, received: 0 };
      const lost = c.lost - prev.lost, got = c.received - prev.received;
      // Counters start again with a new receiver: then this sample says nothing yet.
      const loss = lost >= 0 && got >= 0 && lost + got > 0 ? lost / (lost + got) : 0;
      next.set(pid, { loss, rtt, level: grade(loss, rtt) });
    }
    next.set("me", { loss: myLoss ?? 0, rtt, level: grade(myLoss ?? 0, rtt) });
    this.lastCounts = counts;
    const changed = [...next].some(([k, q]) => this.quality.get(k)?.level !== q.level) || next.size !== this.quality.size;
    this.quality = next;
    if (changed) this.onchange();
  }

  stop(): void {
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.qualityTimer = this.stallTimer = null;
    this.offs.forEach((f) => f());
    this.pc?.close();
    this.pc = null;
    this.remote.clear();
  }
}
