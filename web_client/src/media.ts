// Camera and microphone, and the one peer connection to the SFU.
//
// Negotiation (media/sfu.py): the browser offers its own tracks (sendonly) and gets the
// answer in the ack; the server offers the tracks the browser receives in `signal`
// events, with `tracks: {mid: {participant_id, source, kind}}`, and the browser answers.
// A server offer that arrives while our own offer is unanswered waits for that answer.

import type { RoomClient, RtcConfig } from "./room";

export interface RemoteTracks { audio?: MediaStreamTrack; video?: MediaStreamTrack; screen?: MediaStreamTrack }
type TrackInfo = { participant_id: string; source: string; kind: string };

export class LocalMedia {
  stream: MediaStream | null = null;
  error: "denied" | "none" | null = null;
  private ctx: AudioContext | null = null;

  async open(): Promise<MediaStream | null> {
    if (this.stream) return this.stream;
    if (!navigator.mediaDevices?.getUserMedia) { this.error = "none"; return null; }
    const video = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15 } };
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video });
    } catch (e) {
      const name = (e as DOMException).name;
      // Try audio alone: many old phones have a broken or busy camera.
      try { this.stream = await navigator.mediaDevices.getUserMedia({ audio: true }); }
      catch { this.error = name === "NotAllowedError" ? "denied" : "none"; return null; }
    }
    this.error = null;
    return this.stream;
  }

  get audio(): MediaStreamTrack | undefined { return this.stream?.getAudioTracks()[0]; }
  get video(): MediaStreamTrack | undefined { return this.stream?.getVideoTracks()[0]; }

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

export type MediaStatus = "off" | "connecting" | "connected" | "unavailable" | "failed";

export class MediaSession {
  pc: RTCPeerConnection | null = null;
  status: MediaStatus = "off";
  remote = new Map<string, RemoteTracks>();
  private tracks: Record<string, TrackInfo> = {};
  private ownOffer: Promise<unknown> = Promise.resolve();
  private offs: (() => void)[] = [];
  private restarting = false;
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
      if (pc.connectionState === "connected") this.set("connected");
      if (pc.connectionState === "failed") void this.restart();
    };
    const stream = this.local.stream ?? new MediaStream();
    const mine: RTCRtpTransceiver[] = [];
    for (const track of stream.getTracks()) mine.push(pc.addTransceiver(track, { direction: "sendonly", streams: [stream] }));
    if (!stream.getTracks().length) {
      // Nothing to send: still ask to receive, so that a party without a camera sees and hears.
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    await pc.setLocalDescription(await pc.createOffer());
    // Which m-line carries the microphone and which the camera (the SFU names tracks by source).
    const sources: Record<string, string> = {};
    for (const t of mine) if (t.mid && t.sender.track) sources[t.mid] = t.sender.track.kind;
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

  private async restart(): Promise<void> {
    if (this.restarting) return;
    this.restarting = true;
    this.set("failed");
    try {
      const ack = await this.room.call("signal", { type: "restart" });
      this.pc?.close();
      this.pc = null;
      this.remote.clear();
      this.status = "off";
      if (ack.ok) {
        const a = ack.answer ?? {};
        await this.start({ iceServers: a.iceServers ?? [], iceTransportPolicy: a.iceTransportPolicy ?? "all", bundlePolicy: "max-bundle" });
      }
    } finally { this.restarting = false; }
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

  stop(): void {
    this.offs.forEach((f) => f());
    this.pc?.close();
    this.pc = null;
    this.remote.clear();
  }
}
