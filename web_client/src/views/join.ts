// Join by link (parties, representatives, experts): device check, name, consent, the
// waiting room, then the room. The invitation token travels in the URL fragment, so it
// never reaches a server log; it is taken and the address bar cleared at once.

import { announce, clear, field, fmtTime, h, toast } from "../dom";
import { roleName, t } from "../i18n";
import { LocalMedia, MediaSession } from "../media";
import { RoomClient } from "../room";
import { icon, onRerender, page } from "../ui";
import { devicePicker } from "./devices";
import { saveDeclaredNames, sharedDeviceStep } from "./shareddevice";
import { RoomView } from "./roomview";
import { prefs } from "../prefs";

const INVITE_KEY = "tj.invite";

function takeInvite(): string | null {
  const m = /[#&]t=([^&]+)/.exec(location.hash);
  if (m) {
    const token = decodeURIComponent(m[1]);
    sessionStorage.setItem(INVITE_KEY, token);
    history.replaceState(null, "", location.pathname + location.search);
    return token;
  }
  return sessionStorage.getItem(INVITE_KEY);
}

export function joinPage(app: HTMLElement): void {
  const invite = takeInvite();
  const local = new LocalMedia();
  let name = "";
  let consent = false;
  /** Who share this device, from the device check (empty: one person). */
  let sharedNames: string[] = [];
  let room: RoomClient | null = null;
  let media: MediaSession | null = null;
  let view: RoomView | null = null;
  let stopMeter: () => void = () => {};
  /** What the mediator told the waiting room, oldest first. */
  const notes: { text: string; at: number }[] = [];

  const resuming = !!RoomClient.resumeToken();
  const render = (): void => {
    stopMeter();
    if (!room && resuming) return renderWaiting();
    if (!room) return renderForm();
    const phase = room.phase;
    if (phase === "room") return renderRoom();
    view?.destroy(); view = null;
    media?.stop(); media = null;
    if (phase === "lobby" || phase === "connecting") return renderWaiting();
    return renderEnd(phase);
  };
  onRerender(render);

  function renderForm(): void {
    if (!invite) {
      clear(app, page(t("joinTitle"), [h("div", { class: "card" }, h("h1", {}, t("joinTitle")),
        h("p", { class: "big-notice", role: "alert" }, t("noLink")))]));
      return;
    }
    const preview = h("video", { class: "preview mirror", autoplay: true, playsinline: true, muted: true,
      "aria-label": t("camPreview") });
    preview.muted = true;
    const meter = h("meter", { id: "mic-meter", min: "0", max: "1", low: "0.05", high: "0.9", optimum: "0.5", value: "0" });
    const devStatus = h("p", { class: "dev-status", role: "status" }, t("devicesChecking"));
    const showLocal = (): void => {
      const s = local.stream;
      if (!s) return;
      // A new MediaStream, so that the element takes a switched track at once.
      preview.srcObject = local.video ? new MediaStream([local.video]) : null;
      const parts = [local.video ? `✓ ${t("camOk")}` : null, local.audio ? `✓ ${t("micOk")}` : null].filter(Boolean);
      devStatus.textContent = parts.join("　");
      devStatus.className = "dev-status ok";
      stopMeter();
      stopMeter = local.meter((v) => { meter.value = v; });
    };
    const check = async (): Promise<void> => {
      devStatus.textContent = t("devicesChecking");
      devStatus.className = "dev-status";
      const s = await local.open();
      if (!s) { devStatus.textContent = local.error === "denied" ? t("devicesDenied") : t("noDevices"); devStatus.className = "dev-status warn"; }
      else showLocal();
      await picker.refresh();
    };
    const picker = devicePicker(local, {
      idPrefix: "check", onSwitched: () => showLocal(),
      retry: async () => { local.stop(); await check(); },
    });
    const devBox = h("div", { class: "devices" },
      h("div", { class: "preview-box" }, preview),
      h("div", { class: "meter-box" },
        h("label", { for: "mic-meter" }, icon("mic"), t("micLevel")), meter,
        h("p", { class: "hint" }, t("micHint")), devStatus, picker.el));
    void check();
    const shared = sharedDeviceStep();

    const nameInput = h("input", { type: "text", id: "name", name: "name", autocomplete: "name", maxlength: "60",
      required: true, value: name, oninput: () => { name = nameInput.value; } });
    const consentBox = h("input", { type: "checkbox", id: "consent", checked: consent, onchange: () => { consent = consentBox.checked; } });
    const err = h("p", { class: "form-error", role: "alert", id: "join-error" });
    const submit = h("button", { class: "btn btn-primary btn-huge", type: "submit", id: "join-btn" }, t("joinBtn"));
    const form = h("form", { class: "join-form", novalidate: true, onsubmit: (e: Event) => {
      e.preventDefault();
      name = nameInput.value.trim();
      consent = consentBox.checked;
      if (!name) { err.textContent = t("nameRequired"); nameInput.focus(); return; }
      if (!consent) { err.textContent = t("consentRequired"); consentBox.focus(); return; }
      const names = shared.names();
      if (names === null) { err.textContent = t("sharedNeedTwo"); return; }
      sharedNames = names;
      saveDeclaredNames(names);
      err.textContent = "";
      submit.disabled = true;
      submit.textContent = t("joining");
      connect();
    } },
      h("section", { class: "card step", "aria-labelledby": "s1" }, h("h2", { id: "s1" }, t("stepDevices")), devBox, shared.el),
      h("section", { class: "card step", "aria-labelledby": "s2" }, h("h2", { id: "s2" }, t("stepName")),
        field(t("yourName"), nameInput, t("nameHint"))),
      h("section", { class: "card step", "aria-labelledby": "s3" }, h("h2", { id: "s3" }, t("stepConsent")),
        h("div", { class: "privacy", role: "note", "aria-label": t("privacyTitle") },
          h("h3", {}, t("privacyTitle")),
          h("ul", {}, h("li", {}, t("privacy1")), h("li", {}, t("privacy2")), h("li", {}, t("privacy3")), h("li", { id: "privacy-experts" }, t("privacy4")))),
        h("div", { class: "check" }, consentBox, h("label", { for: "consent" }, t("consent")))),
      err, submit);
    // A scheduled session's invitee who cannot come says so (signaling/intake.py).
    const cannotCome = h("p", {}, h("a", { id: "join-decline", href: `/decline#t=${encodeURIComponent(invite)}` },
      prefs.lang === "en" ? "Cannot come at the scheduled time? Tell the mediator" : "无法按时参加？告知调解员"));
    clear(app, page(t("appFull"), [h("h1", { class: "page-title" }, t("joinTitle")), h("p", { class: "lead" }, t("joinIntro")), form, cannotCome]));
  }

  function connect(): void {
    room = new RoomClient({ kind: "invite", invite: invite ?? "", name, consent: true,
      joined_from: navigator.userAgent.slice(0, 200), shared_names: sharedNames });
    room.on("phase", () => render());
    room.on("net", () => { if (room?.phase === "lobby") render(); });
    room.on("joined", () => { sessionStorage.removeItem(INVITE_KEY); });
    room.on("lobby_message", (m: { text?: unknown; at?: unknown }) => {
      if (typeof m?.text !== "string") return;
      notes.push({ text: m.text, at: typeof m.at === "number" ? m.at : Date.now() / 1000 });
      announce(`${t("fromMediator")}：${m.text}`);
      if (room?.phase === "lobby") render();
    });
    room.on("server_error", (e) => { if (e?.event !== "signal") toast(e?.message ?? "", "error"); });
    room.connect();
    render();
  }

  function renderWaiting(): void {
    const me = room?.me;
    const preview = h("video", { class: "preview small mirror", autoplay: true, playsinline: true, muted: true, "aria-label": t("camPreview") });
    preview.muted = true;
    if (local.stream) preview.srcObject = local.stream;
    const err = room?.lastError;
    clear(app, page(t("appFull"), [h("div", { class: "card waiting", "aria-live": "polite" },
      h("div", { class: "spinner", "aria-hidden": "true" }),
      h("h1", { id: "waiting-title" }, t("waitingTitle")),
      h("p", { class: "lead" }, t("waitingText")),
      me ? h("p", { class: "who" }, `${t("waitingAs")}：${me.name} · ${roleName(me.role, me.side)}`) : null,
      err ? h("p", { class: "form-error", role: "alert" }, err.message) : null,
      room?.net === "reconnecting" ? h("p", { class: "notice", id: "room-notice", "data-state": "reconnecting", "data-net": "reconnecting" }, t("reconnecting")) : null,
      notes.length ? h("section", { class: "lobby-notes", "aria-labelledby": "notes-h" },
        h("h2", { id: "notes-h" }, t("fromMediator")),
        h("ul", { class: "list", id: "lobby-notes" }, notes.map((n) => h("li", { class: "lobby-note" },
          h("span", { class: "muted" }, fmtTime(n.at)), " ", n.text)))) : null,
      local.stream ? preview : null)]));
  }

  function renderRoom(): void {
    if (!media) {
      media = new MediaSession(room!, local);
      (window as unknown as { tiaojieMedia: MediaSession }).tiaojieMedia = media;  // for tests and support
      void media.start();
    }
    view ??= new RoomView(room!, media, local);
    view.render();
    clear(app, page(t("appFull"), [view.el], [], "main main-room"));
  }

  function renderEnd(phase: string): void {
    local.stop();
    const title = phase === "denied" ? t("deniedTitle") : phase === "removed" ? t("removedTitle")
      : phase === "left" ? t("leftTitle") : phase === "ended" ? t("endedTitle") : t("error");
    const msg = phase === "error" ? room?.lastError?.message ?? "" : t("endedText");
    clear(app, page(t("appFull"), [h("div", { class: "card end" },
      h("h1", { id: "end-title" }, title), h("p", { class: "lead" }, msg))]));
  }

  // Coming back after a reload: the seat is in this tab's storage.
  if (RoomClient.resumeToken()) {
    void local.open().then(() => connect());
  }
  render();
}
