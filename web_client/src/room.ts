// The live connection to a session: Socket.IO events in, acknowledged requests out, and
// the room state a view needs (who I am, the layout, the lobby, chat, hands, captions).

import { io, type Socket } from "socket.io-client";

export interface Participant {
  participant_id: string; name: string; role: string; side: string | null;
  caucus_id: string | null; connected: boolean; hand_raised: boolean; muted_sources: string[];
  state?: string; hidden?: boolean;
  /** An interpreter's party (they follow them into caucuses) and what they interpret. */
  interprets_for?: string | null; interpretation?: string | null;
  /** Mediator's view: how many people share the seat, who of them has enrolled a voice,
   * and whose enrollment sentence it waits for. */
  shared_device?: number; voices?: string[]; enrolling?: string | null;
  /** Mediator's view: who said at the device check that they share this seat. */
  declared_voices?: string[];
}
/** elapsed_s: how long the caucus had run when the layout was sent; limit_s: when the
 * mediator's timer warns (null: never). */
export interface CaucusInfo { id: string; name: string; members: string[]; elapsed_s?: number; limit_s?: number | null }
export interface SideInfo { key: string; name: string }
export interface Layout {
  version: number; joint: string[]; caucuses: CaucusInfo[]; participants: Participant[];
  sides?: SideInfo[];
  /** Audio is being archived: every page shows 录音中. */
  recording?: boolean;
  /** When this page received it (performance.now()), for the caucus timers. */
  received?: number;
}
export interface Welcome {
  session_id: string; participant_id: string; name: string; role: string; side: string | null;
  state: string; grants: Record<string, unknown>; ice_servers: RTCIceServer[];
  rtc_config?: RtcConfig; turn_expires_at?: number | null;
  resume_token?: string; layout?: Layout;
  /** This seat as a shared device, when the mediator marked it so. */
  voices?: VoicesInfo;
  /** The exhibit shown in my space now (joint session or my caucus), at its page. */
  exhibit?: CurrentExhibit | null;
}
/** An exhibit a space is looking at: the "evidence" event's payload and the presenter's page. */
export interface CurrentExhibit {
  evidence: { id: string; title: string; content_type: string; size: number; sha256: string; download: string };
  page: number;
}
/** A shared seat's own view: how many share it, who has enrolled, whose sentence it waits for. */
export interface VoicesInfo { people: number; voices: string[]; enrolling: string | null }
export interface RtcConfig { iceServers?: RTCIceServer[]; iceTransportPolicy?: RTCIceTransportPolicy; media?: boolean }
/** The ICE part of a welcome, an `admitted` event or a `state` answer. TURN credentials
 * come only once admitted, and live a few minutes (coturn cannot revoke one). */
interface RtcPart { rtc_config?: RtcConfig; ice_servers?: RTCIceServer[]; turn_expires_at?: number | null }
export interface ChatMsg { seq: number; from: { participant_id: string; name: string; role: string }; caucus_id: string | null; text: string; at: number }
export interface Caption {
  utterance_id: string; speaker: { participant_id: string; name: string; role: string };
  caucus: string | null; start: number; end: number; text: string; final: boolean;
  /** When its first audio reached the server (one clock for every speaker); null if unknown. */
  heard_at?: number | null;
  /** When this client first heard of the utterance (start/end are offsets in the stream). */
  at?: number;
  /** An interpreter's words: what they interpret and for whom. */
  interpreted?: { kind: string | null; for_id: string | null; for_name: string | null };
}
export interface Ack { ok: boolean; error?: { code: string; message: string }; [k: string]: any }

export type RoomAuth =
  | { kind: "invite"; invite: string; name: string; consent: true; joined_from: string; shared_names?: string[] }
  | { kind: "staff"; session_id: string };

type Phase = "connecting" | "lobby" | "room" | "denied" | "removed" | "ended" | "left" | "error";

const RESUME_KEY = "tj.resume";
type Handler = (data: any) => void;

export class RoomClient {
  socket: Socket | null = null;
  me: Welcome | null = null;
  layout: Layout | null = null;
  lobby: Participant[] = [];
  chat: ChatMsg[] = [];
  captions = new Map<string, Caption>();
  /** This seat as a shared device (null: one person), from the welcome and "voices". */
  voices: VoicesInfo | null = null;
  /** The exhibit my space was showing when I (re)joined or was admitted ("exhibit"). */
  exhibit: CurrentExhibit | null = null;
  phase: Phase = "connecting";
  /** "reconnecting" while the signaling is down and the page is trying to take its seat
   * back (the server keeps it for a grace period). */
  net: "online" | "reconnecting" = "online";
  /** Held off by the browser's offline event: connect again on "online". */
  private heldOffline = false;
  private netOffs: (() => void)[] = [];
  lastError: { code: string; message: string } | null = null;
  private handlers = new Map<string, Set<Handler>>();
  private turnRefresh: ReturnType<typeof setTimeout> | null = null;

  constructor(private auth: RoomAuth) {}

  /** Take fresh ICE servers and ask for the next ones before these expire, so that a
   * new peer connection (a restart, media switched on later) never starts with an
   * expired TURN credential. A live connection keeps its relay: coturn checks a
   * credential when it allocates. */
  private setRtc(part: RtcPart): void {
    if (!this.me) return;
    if (part.rtc_config) this.me.rtc_config = part.rtc_config;
    if (part.ice_servers) this.me.ice_servers = part.ice_servers;
    this.me.turn_expires_at = part.turn_expires_at ?? null;
    if (this.turnRefresh) clearTimeout(this.turnRefresh);
    this.turnRefresh = null;
    const expires = part.turn_expires_at;
    if (!expires) return;
    const inMs = Math.max(5_000, (expires * 1000 - Date.now()) * 0.8);
    this.turnRefresh = setTimeout(() => { void this.refreshRtc(); }, inMs);
  }

  private async refreshRtc(): Promise<void> {
    this.turnRefresh = null;
    if (this.phase !== "room") return;  // only admitted participants get TURN
    const ack = await this.call("state");
    if (ack.ok) { this.setRtc(ack as RtcPart); this.fire("rtc", this.me?.rtc_config); }
  }

  on(event: string, fn: Handler): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  private fire(event: string, data?: any): void {
    for (const fn of this.handlers.get(event) ?? []) {
      try { fn(data); } catch (e) { console.error(`handler for ${event} failed`, e); }
    }
  }

  static resumeToken(): string | null { return sessionStorage.getItem(RESUME_KEY); }
  static forgetSeat(): void { sessionStorage.removeItem(RESUME_KEY); }

  connect(): void {
    // auth is a function so that every reconnect comes back with the seat, not the
    // (possibly single-use) invitation.
    const authFn = (cb: (d: object) => void) => {
      if (this.auth.kind === "staff") { cb({ session_id: this.auth.session_id }); return; }
      const resume = RoomClient.resumeToken();
      if (resume) { cb({ resume }); return; }
      const { invite, name, consent, joined_from, shared_names } = this.auth;
      cb({ invite, name, consent, joined_from, ...(shared_names?.length ? { shared_names } : {}) });
    };
    const s = io({ auth: authFn, transports: ["websocket"], reconnectionDelayMax: 5000 });
    this.socket = s;
    s.on("connect_error", (err: Error & { data?: { code: string; message: string } }) => {
      const data = err.data;
      if (!data) { this.fire("connection", "retrying"); return; }  // network: socket.io retries
      // A refused seat (expired resume after a server restart...) falls back to the invite once.
      if (data.code === "resume_invalid" && this.auth.kind === "invite" && RoomClient.resumeToken()) {
        RoomClient.forgetSeat();
        s.connect();
        return;
      }
      this.lastError = data;
      this.phase = data.code === "session_ended" ? "ended" : data.code === "seat_denied" ? "denied"
        : data.code === "seat_removed" ? "removed" : "error";
      this.fire("phase", this.phase);
    });
    s.on("disconnect", (reason) => {
      this.fire("connection", reason);
      // socket.io comes back by itself except after our own or the server's disconnect.
      const retrying = reason !== "io client disconnect" && reason !== "io server disconnect";
      if (this.heldOffline || (retrying && ["room", "lobby"].includes(this.phase))) this.setNet("reconnecting");
    });
    // The browser knows it lost the network before any ping times out (a phone leaving
    // Wi-Fi): let the seat go to its grace period now and try again when it is back,
    // rather than retrying against no network.
    const offline = () => {
      if (!["room", "lobby"].includes(this.phase)) return;
      this.heldOffline = true;
      this.setNet("reconnecting");
      s.disconnect();
    };
    const online = () => {
      if (!this.heldOffline) return;
      this.heldOffline = false;
      s.connect();
    };
    window.addEventListener("offline", offline);
    window.addEventListener("online", online);
    this.netOffs.push(() => window.removeEventListener("offline", offline),
      () => window.removeEventListener("online", online));
    s.on("joined", (w: Welcome) => {
      if (w.resume_token) sessionStorage.setItem(RESUME_KEY, w.resume_token);
      this.me = w;
      this.voices = w.voices ?? null;
      this.exhibit = w.exhibit ?? null;
      this.setRtc(w);
      if (w.layout) this.layout = { ...w.layout, received: performance.now() };
      this.setPhase(w.state === "room" ? "room" : "lobby");
      const wasAway = this.net === "reconnecting";
      this.setNet("online");
      this.fire("joined", w);
      if (wasAway) this.fire("rejoined", w);
      this.fire("layout", this.layout);
      if (this.exhibit) this.fire("exhibit", this.exhibit);  // a late joiner opens it
    });
    s.on("layout", (l: Layout) => {
      if (this.layout && l.version < this.layout.version) return;  // stale
      this.layout = { ...l, received: performance.now() };
      this.fire("layout", l);
    });
    s.on("lobby", (d: { waiting: Participant[] }) => { this.lobby = d.waiting; this.fire("lobby", this.lobby); });
    s.on("admitted", (d: { layout: Layout; exhibit?: CurrentExhibit | null } & RtcPart) => {
      this.setRtc(d);
      this.exhibit = d.exhibit ?? null;
      this.layout = { ...d.layout, received: performance.now() };
      this.setPhase("room");
      this.fire("layout", this.layout);
      if (this.exhibit) this.fire("exhibit", this.exhibit);
    });
    // Moved into or out of a caucus: my new space's exhibit, or none.
    s.on("space_exhibit", (d: { exhibit: CurrentExhibit | null }) => {
      this.exhibit = d.exhibit ?? null;
      this.fire(this.exhibit ? "exhibit" : "exhibit_none", this.exhibit);
    });
    s.on("sent_back", () => this.setPhase("lobby"));
    s.on("denied", () => { RoomClient.forgetSeat(); this.setPhase("denied"); this.setRtc({}); });
    s.on("removed", () => { RoomClient.forgetSeat(); this.setPhase("removed"); this.setRtc({}); });
    s.on("session_ended", () => { RoomClient.forgetSeat(); this.setPhase("ended"); this.setRtc({}); s.disconnect(); });
    s.on("chat", (m: ChatMsg) => { this.chat.push(m); this.fire("chat", m); });
    s.on("hand", (d: { participant_id: string; raised: boolean }) => {
      const p = this.participant(d.participant_id);
      if (p) p.hand_raised = d.raised;  // hands are not part of the layout broadcast
      this.fire("hand", d);
    });
    s.on("muted", (d) => this.fire("muted", d));
    s.on("voices", (d: VoicesInfo) => { this.voices = d; this.fire("voices", d); });
    s.on("mute_request", (d) => this.fire("mute_request", d));
    s.on("signal", (d) => this.fire("signal", d));
    s.on("caption", (c: Caption) => {
      c.at = this.captions.get(c.utterance_id)?.at ?? Date.now();
      this.captions.set(c.utterance_id, c);
      this.fire("caption", c);
    });
    s.on("error", (e) => this.fire("server_error", e));
    s.onAny((event: string, data: unknown) => {
      if (!["joined", "layout", "lobby", "admitted", "sent_back", "denied", "removed", "session_ended",
        "chat", "hand", "muted", "mute_request", "signal", "caption", "error", "voices", "space_exhibit"].includes(event)) {
        this.fire(event, data);  // events of optional packages (agreements, experts)
      }
    });
  }

  private setNet(n: "online" | "reconnecting"): void {
    if (this.net === n) return;
    this.net = n;
    this.fire("net", n);
  }

  private setPhase(p: Phase): void {
    if (this.phase === p) return;
    this.phase = p;
    this.fire("phase", p);
  }

  async call(event: string, data: object = {}, timeoutMs = 15000): Promise<Ack> {
    const s = this.socket;
    if (!s || !s.connected) return { ok: false, error: { code: "offline", message: "Not connected." } };
    try {
      return (await s.timeout(timeoutMs).emitWithAck(event, data)) as Ack;
    } catch {
      return { ok: false, error: { code: "timeout", message: "No answer from the server." } };
    }
  }

  async leave(): Promise<void> {
    await this.call("leave", {}, 3000);
    RoomClient.forgetSeat();
    this.setPhase("left");
    this.heldOffline = false;
    this.socket?.disconnect();
  }

  close(): void {
    if (this.turnRefresh) clearTimeout(this.turnRefresh);
    this.netOffs.forEach((f) => f());
    this.heldOffline = false;
    this.socket?.disconnect();
  }

  participant(pid: string): Participant | undefined {
    return this.layout?.participants.find((p) => p.participant_id === pid);
  }

  /** My current space: null for the joint session, or a caucus id. */
  mySpace(): string | null {
    return this.me ? this.participant(this.me.participant_id)?.caucus_id ?? null : null;
  }

  /** Who shares my space (including me), in layout order. */
  spaceMates(): Participant[] {
    const space = this.mySpace();
    return (this.layout?.participants ?? []).filter((p) => p.caucus_id === space);
  }

  caucusName(id: string | null): string | null {
    if (!id) return null;
    // Another caucus's name is not sent to a party (only that it exists): "" reads as none.
    return this.layout?.caucuses.find((c) => c.id === id)?.name || null;
  }
}
