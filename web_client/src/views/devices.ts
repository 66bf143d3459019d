// Choosing the camera, microphone and speaker: in the device check before joining and in
// the room. A switch in the room replaces the track being sent (no renegotiation, the seat
// is kept); a device that is missing, refused or busy is said in words, with a retry.

import { clear, h, toast } from "../dom";
import { t, type Key } from "../i18n";
import { canChooseSpeaker, type DeviceError, type DeviceKind, type LocalMedia } from "../media";

const WORD: Record<DeviceError, string> = { denied: "Denied", none: "None", busy: "Busy" };

/** What is wrong with the camera and the microphone, one sentence each. */
export function deviceProblems(local: LocalMedia): string[] {
  const out: string[] = [];
  if (local.problems.camera) out.push(t(`cam${WORD[local.problems.camera]}` as Key));
  if (local.problems.mic) out.push(t(`mic${WORD[local.problems.mic]}` as Key));
  return out;
}

export interface PickerOptions {
  /** Distinguishes the ids of two pickers on one page. */
  idPrefix: string;
  /** After a camera or microphone was switched (the preview, the meter follow it). */
  onSwitched?: (kind: "audio" | "video") => void;
  /** The speaker was chosen: play sound there. */
  onSpeaker?: (deviceId: string) => void;
  /** "Check devices again": open what is missing. */
  retry: () => Promise<void>;
}

export interface Picker { el: HTMLElement; refresh: () => Promise<void>; destroy: () => void }

export function devicePicker(local: LocalMedia, opts: PickerOptions): Picker {
  const sel = (kind: DeviceKind) => h("select", { id: `${opts.idPrefix}-${kind}`, class: "device-select", "data-kind": kind });
  const cam = sel("videoinput"), mic = sel("audioinput"), spk = sel("audiooutput");
  const problems = h("div", { class: "dev-problems", role: "alert", id: `${opts.idPrefix}-problems` });
  const retryBtn = h("button", { class: "btn", type: "button", id: `${opts.idPrefix}-retry`, onclick: async () => {
    retryBtn.disabled = true;
    try { await opts.retry(); } finally { retryBtn.disabled = false; }
    await refresh();
  } }, t("retryDevices"));
  const field = (label: Key, control: HTMLSelectElement) =>
    h("div", { class: "field device-field" }, h("label", { for: control.id }, t(label)), control);
  const el = h("div", { class: "device-picker", role: "group", "aria-label": t("devices") },
    field("deviceCamera", cam), field("deviceMic", mic),
    canChooseSpeaker ? field("deviceSpeaker", spk) : null,
    problems, retryBtn);

  const current = (kind: DeviceKind): string | undefined => {
    if (kind === "audioinput") return local.audio?.getSettings().deviceId ?? local.choice.audioinput;
    if (kind === "videoinput") return local.video?.getSettings().deviceId ?? local.choice.videoinput;
    return local.choice.audiooutput;
  };

  async function refresh(): Promise<void> {
    const all = await local.devices();
    for (const [kind, s] of [["videoinput", cam], ["audioinput", mic], ["audiooutput", spk]] as [DeviceKind, HTMLSelectElement][]) {
      const list = all.filter((d) => d.kind === kind && d.deviceId);
      const label = kind === "videoinput" ? t("deviceCamera") : kind === "audioinput" ? t("deviceMic") : t("deviceSpeaker");
      const opts2 = list.map((d, i) => h("option", { value: d.deviceId }, d.label || `${label} ${i + 1}`));
      if (kind === "audiooutput" && !list.some((d) => d.deviceId === "default")) opts2.unshift(h("option", { value: "" }, t("deviceDefault")));
      clear(s, opts2.length ? opts2 : h("option", { value: "" }, t("deviceNone")));
      s.disabled = !list.length && kind !== "audiooutput";
      const cur = current(kind);
      if (cur && list.some((d) => d.deviceId === cur)) s.value = cur;
    }
    const words = deviceProblems(local);
    clear(problems, words.map((w) => h("p", { class: "dev-status warn" }, w)));
  }

  const onSwitch = (kind: "audioinput" | "videoinput", s: HTMLSelectElement) => async () => {
    if (!s.value || s.value === current(kind)) return;
    s.disabled = true;
    try {
      await local.switchTo(kind, s.value);
      toast(t("deviceSwitched"));
      opts.onSwitched?.(kind === "audioinput" ? "audio" : "video");
    } catch { /* said in the problems line */ }
    s.disabled = false;
    await refresh();
  };
  cam.addEventListener("change", onSwitch("videoinput", cam));
  mic.addEventListener("change", onSwitch("audioinput", mic));
  spk.addEventListener("change", () => {
    local.choose("audiooutput", spk.value);
    opts.onSpeaker?.(spk.value);
  });
  const onDeviceChange = () => { void refresh(); };
  navigator.mediaDevices?.addEventListener?.("devicechange", onDeviceChange);
  void refresh();
  return { el, refresh, destroy: () => navigator.mediaDevices?.removeEventListener?.("devicechange", onDeviceChange) };
}
