// Shared devices (多人共用设备): several people on one phone or one table microphone. At
// the device check they tick "多人共用此设备" and type their names (sent with the join:
// the mediator sees them); the mediator marks the seat as shared from the participant
// list; then, in the room, each person in turn reads one sentence shown on screen while
// the level meter runs, and the captions of that seat name who spoke. Enrolling happens
// in the room because the sentence must reach the captioning through the room's audio.
// Enrolling is open to the mediator (any seat) and to the seat itself.

import { h, toast } from "../dom";
import { t } from "../i18n";
import type { Participant, RoomClient } from "../room";

import type { VoicesInfo } from "../room";

/** A shared seat as its own page or the mediator's list sees it. */
export type VoicesState = VoicesInfo;

type Act = (event: string, data: object) => Promise<void>;

const DECLARED_KEY = "tj.shared";
/** Most people one seat may be shared by (the server's limit too). */
export const MAX_SHARED = 8;

/** The names typed at this tab's device check (kept across a reload of the room). */
export function declaredNames(): string[] {
  try {
    const v: unknown = JSON.parse(sessionStorage.getItem(DECLARED_KEY) ?? "[]");
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").slice(0, MAX_SHARED) : [];
  } catch { return []; }
}

export function saveDeclaredNames(names: string[]): void {
  if (names.length > 1) sessionStorage.setItem(DECLARED_KEY, JSON.stringify(names));
  else sessionStorage.removeItem(DECLARED_KEY);
}

/** The device check's step: "several people share this device", then their names.
 * ``names()`` gives the distinct names typed, or null when the box is ticked with fewer
 * than two (the form says so; the first empty name has the focus). */
export function sharedDeviceStep(): { el: HTMLElement; names: () => string[] | null } {
  const start = declaredNames();
  const list = h("ol", { class: "shared-names", id: "shared-names" });
  const addBtn = h("button", { class: "btn btn-small", type: "button", id: "shared-add",
    onclick: () => { addRow(""); sync(); (list.lastElementChild?.querySelector("input") as HTMLInputElement | null)?.focus(); } },
  t("sharedAdd"));
  const body = h("div", { class: "shared-body", id: "shared-body" },
    h("p", { class: "hint" }, t("sharedJoinHint")), list, addBtn);
  const box = h("input", { type: "checkbox", id: "shared-check", checked: start.length > 1,
    onchange: () => { sync(); if (box.checked) (list.querySelector("input") as HTMLInputElement | null)?.focus(); } });
  const rows = (): HTMLInputElement[] => Array.from(list.querySelectorAll("input"));
  function addRow(value: string): void {
    const i = list.children.length + 1;
    const input = h("input", { type: "text", id: `shared-name-${i}`, class: "shared-name", maxlength: "40",
      autocomplete: "off", value, placeholder: t("enrollNameHint") });
    const remove = h("button", { class: "btn btn-small shared-remove", type: "button", "aria-label": t("sharedRemove", { n: String(i) }),
      onclick: () => { li.remove(); renumber(); sync(); } }, "×");
    const li = h("li", { class: "shared-row" },
      h("label", { for: input.id }, t("sharedPerson", { n: String(i) })), input, remove);
    list.append(li);
  }
  function renumber(): void {
    Array.from(list.children).forEach((li, k) => {
      const n = String(k + 1);
      const input = li.querySelector("input"), label = li.querySelector("label"), rm = li.querySelector("button");
      if (input) input.id = `shared-name-${n}`;
      if (label) { label.htmlFor = `shared-name-${n}`; label.textContent = t("sharedPerson", { n }); }
      rm?.setAttribute("aria-label", t("sharedRemove", { n }));
    });
  }
  function sync(): void {
    body.classList.toggle("hidden", !box.checked);
    while (box.checked && list.children.length < 2) addRow("");
    const n = list.children.length;
    addBtn.disabled = n >= MAX_SHARED;
    // Two rows at least: the remove buttons show from the third.
    for (const li of Array.from(list.children)) (li.querySelector("button") as HTMLButtonElement).classList.toggle("hidden", n <= 2);
  }
  for (const n of start) addRow(n);
  sync();
  const el = h("div", { class: "shared-step" },
    h("div", { class: "check" }, box, h("label", { for: "shared-check" }, t("sharedJoin"))), body);
  return { el, names: () => {
    if (!box.checked) return [];
    const names = [...new Set(rows().map((i) => i.value.trim()).filter(Boolean))];
    if (names.length < 2) { rows().find((i) => !i.value.trim())?.focus(); return null; }
    return names;
  } };
}

/** The level meter while someone reads their sentence: stopped when the panel is drawn again. */
let stopReadMeter: () => void = () => {};
type Meter = (cb: (level: number) => void) => () => void;

/** The enrollment form: a name, "录入声音", then the sentence to read (with the seat's
 * own level meter on its page). */
function enrollForm(room: RoomClient, pid: string, st: VoicesState, idPrefix: string, meter?: Meter): HTMLElement {
  const input = h("input", { type: "text", id: `${idPrefix}-name`, maxlength: "40", autocomplete: "off",
    placeholder: t("enrollNameHint") });
  const full = st.voices.length >= st.people;
  const form = h("form", { class: "enroll-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    const name = input.value.trim();
    if (!name) { toast(t("enrollNameRequired"), "error"); return; }
    const a = await room.call("voice_enroll", { participant_id: pid, name });
    if (!a.ok) { toast(a.error?.message ?? "", "error"); return; }
    input.value = "";
  } },
  h("label", { for: input.id }, t("enrollName")), input,
  h("button", { class: "btn btn-small", type: "submit", id: `${idPrefix}-enroll`, disabled: full ? "" : null }, t("enrollVoice")));
  return h("div", { class: "enroll" },
    st.voices.length
      ? h("p", { class: "enroll-done", id: `${idPrefix}-voices` }, `${t("enrolledVoices")}${st.voices.join("、")}`)
      : null,
    st.enrolling ? readingBox(room, pid, st.enrolling, idPrefix, meter) : null,
    full ? null : form);
}

/** Who reads now, the sentence shown on screen, the level meter, and a way out. */
function readingBox(room: RoomClient, pid: string, name: string, idPrefix: string, meter?: Meter): HTMLElement {
  let level: HTMLElement | null = null;
  if (meter) {
    const m = h("meter", { id: `${idPrefix}-meter`, min: "0", max: "1", low: "0.05", high: "0.9", optimum: "0.5", value: "0" });
    stopReadMeter();
    stopReadMeter = meter((v) => { m.value = v; });
    level = h("div", { class: "enroll-level" }, h("label", { for: m.id }, t("micLevel")), m);
  }
  return h("div", { class: "enroll-waiting", role: "status", id: `${idPrefix}-waiting` },
    h("p", { class: "enroll-read-who" }, t("enrollSay", { name })),
    h("p", { class: "enroll-sentence", id: `${idPrefix}-sentence` }, t("enrollSentence", { name })),
    level,
    h("p", { class: "hint" }, t("enrollReadHint")),
    h("button", { class: "btn btn-small", type: "button", onclick: () =>
      void room.call("voice_enroll", { participant_id: pid, name: null }) }, t("enrollCancel")));
}

/** The mediator's control in a participant's row: how many share the seat, their voices. */
export function sharedDeviceControl(room: RoomClient, p: Participant, act: Act): HTMLElement {
  const people = p.shared_device ?? 1;
  const sel = h("select", { class: "shared-select", "aria-label": `${t("sharedPeople")}: ${p.name}`,
    "data-pid": p.participant_id,
    onchange: () => act("shared_device", { participant_id: p.participant_id, people: Number(sel.value) }) },
  h("option", { value: "1" }, t("sharedNone")),
  [2, 3, 4, 5, 6, 7, 8].map((n) => h("option", { value: String(n) }, t("sharedCount", { n: String(n) }))));
  sel.value = String(people);
  const declared = p.declared_voices ?? [];
  return h("div", { class: "shared-device" },
    h("label", {}, t("sharedDevice"), " ", sel),
    declared.length > 1 ? h("p", { class: "shared-declared" }, t("sharedDeclared", { names: declared.join("、") }),
      people < 2 ? h("button", { class: "btn btn-small", type: "button", "data-pid": p.participant_id,
        onclick: () => act("shared_device", { participant_id: p.participant_id, people: Math.min(MAX_SHARED, declared.length) }) },
      t("sharedMarkDeclared", { n: String(declared.length) })) : null) : null,
    people > 1 ? enrollForm(room, p.participant_id,
      { people, voices: p.voices ?? [], enrolling: p.enrolling ?? null }, `enroll-${p.participant_id}`) : null);
}

/** The people named at the device check, one by one: who has read, who reads, who is next. */
function readingSteps(room: RoomClient, pid: string, st: VoicesState, declared: string[]): HTMLElement | null {
  const people = [...new Set([...st.voices, ...declared])];
  if (!declared.length) return null;
  const full = st.voices.length >= st.people;
  const reading = st.enrolling;
  return h("div", { class: "enroll-steps" },
    h("ol", { class: "enroll-people", id: "enroll-people" }, people.map((name) => {
      const done = st.voices.includes(name);
      return h("li", { class: `enroll-person${done ? " done" : ""}`, "data-name": name },
        h("span", { class: "enroll-person-name" }, name), " ",
        h("span", { class: "muted" }, done ? `✓ ${t("enrollStateDone")}` : name === reading ? t("enrollStateReading") : t("enrollStateWaiting")),
        !done && name !== reading && !full ? h("button", { class: "btn btn-small btn-primary", type: "button",
          disabled: reading ? "" : null, "aria-label": t("enrollStart", { name }),
          onclick: async () => {
            const a = await room.call("voice_enroll", { participant_id: pid, name });
            if (!a.ok) toast(a.error?.message ?? "", "error");
          } }, t("enrollStart", { name })) : null);
    })));
}

export interface EnrollOptions {
  /** Names typed at this tab's device check. */
  declared?: string[];
  /** The microphone's level, for the meter while someone reads (returns a stop). */
  meter?: Meter;
}

/** The seat's own panel (a party's page): while the mediator has marked it shared, the
 * reading of one sentence each; before that, when names were given at the device check,
 * a line saying the mediator has been told. */
export function enrollPanel(room: RoomClient, st: VoicesState, opts: EnrollOptions = {}): HTMLElement | null {
  stopReadMeter();
  stopReadMeter = () => {};
  const pid = room.me?.participant_id;
  const declared = opts.declared ?? [];
  if (!pid) return null;
  if (st.people < 2) {
    if (declared.length < 2) return null;
    return h("section", { class: "panel enroll-panel", id: "enroll-panel", "aria-labelledby": "enroll-h" },
      h("h2", { id: "enroll-h" }, t("sharedJoin")),
      h("p", { id: "enroll-pending" }, t("sharedTold", { names: declared.join("、") })));
  }
  return h("section", { class: "panel enroll-panel", id: "enroll-panel", "aria-labelledby": "enroll-h" },
    h("h2", { id: "enroll-h" }, t("enrollTitle", { n: String(st.people) })),
    h("p", {}, declared.length ? t("enrollIntroDeclared") : t("enrollIntro")),
    readingSteps(room, pid, st, declared),
    enrollForm(room, pid, st, "my-enroll", opts.meter));
}

/** Stop the reading's meter (the room page goes away). */
export function stopEnrollMeter(): void { stopReadMeter(); stopReadMeter = () => {}; }
