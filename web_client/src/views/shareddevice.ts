// Shared devices (多人共用设备): several people on one phone or one table microphone. The
// mediator marks the seat as shared from the participant list; each person then types
// their name and says one sentence, and the captions of that seat name who spoke.
// Enrolling is open to the mediator (any seat) and to the seat itself.

import { h, toast } from "../dom";
import { t } from "../i18n";
import type { Participant, RoomClient } from "../room";

import type { VoicesInfo } from "../room";

/** A shared seat as its own page or the mediator's list sees it. */
export type VoicesState = VoicesInfo;

type Act = (event: string, data: object) => Promise<void>;

/** The enrollment form: a name, "录入声音", then the sentence to say. */
function enrollForm(room: RoomClient, pid: string, st: VoicesState, idPrefix: string): HTMLElement {
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
    st.enrolling
      ? h("p", { class: "enroll-waiting", role: "status", id: `${idPrefix}-waiting` },
        t("enrollSay", { name: st.enrolling }),
        h("button", { class: "btn btn-small", type: "button", onclick: () =>
          void room.call("voice_enroll", { participant_id: pid, name: null }) }, t("enrollCancel")))
      : null,
    full ? null : form);
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
  return h("div", { class: "shared-device" },
    h("label", {}, t("sharedDevice"), " ", sel),
    people > 1 ? enrollForm(room, p.participant_id,
      { people, voices: p.voices ?? [], enrolling: p.enrolling ?? null }, `enroll-${p.participant_id}`) : null);
}

/** The seat's own panel (a party's page) while the mediator has marked it shared. */
export function enrollPanel(room: RoomClient, st: VoicesState): HTMLElement | null {
  const pid = room.me?.participant_id;
  if (!pid || st.people < 2) return null;
  return h("section", { class: "panel enroll-panel", id: "enroll-panel", "aria-labelledby": "enroll-h" },
    h("h2", { id: "enroll-h" }, t("enrollTitle", { n: String(st.people) })),
    h("p", {}, t("enrollIntro")),
    enrollForm(room, pid, st, "my-enroll"));
}
