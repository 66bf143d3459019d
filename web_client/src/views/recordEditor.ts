// The 人民调解记录 drafted from the session: the server prefills it (time, place, who took
// part, the joint transcript by speaker; never a caucus), the mediator or clerk corrects it
// here, and it is read, signed and sealed in the document panel like the agreement.

import { ta } from "../agreementText";
import { h, toast } from "../dom";
import { RoomClient } from "../room";

interface RecordDraft { draft_id: string; version: number; kind: string; data?: any }

/** Create the record from the session's transcript; answers the new draft's id. */
export async function createRecordFromTranscript(room: RoomClient): Promise<string | null> {
  const a = await room.call("draft_create", { kind: "record", prefill: "session" });
  if (!a.ok) { toast(a.error?.message ?? "", "error"); return null; }
  toast(ta("recordCreated"));
  return String(a.draft_id);
}

function input(value: string, attrs: Record<string, string> = {}): HTMLInputElement {
  const el = h("input", { class: "input", type: "text", ...attrs });
  el.value = value;
  return el;
}

function area(value: string, attrs: Record<string, string> = {}): HTMLTextAreaElement {
  const el = h("textarea", { class: "input", rows: "3", ...attrs });
  el.value = value;
  return el;
}

function check(value: boolean, id: string): HTMLInputElement {
  const el = h("input", { type: "checkbox", id });
  el.checked = value;
  return el;
}

function labelled(id: string, text: string, control: HTMLElement): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: id }, text), control);
}

/** The record's editor as an overlay; saving sends ``draft_edit`` on the version read. */
export async function openRecordEditor(room: RoomClient, draftId: string): Promise<void> {
  const g = await room.call("draft_get", { draft_id: draftId });
  if (!g.ok || !g.draft) { toast(g.error?.message ?? "", "error"); return; }
  const cur = g.draft as RecordDraft;
  const data = JSON.parse(JSON.stringify(cur.data ?? {}));
  const opener = document.activeElement as HTMLElement | null;
  const subject = input(data.subject ?? "", { id: "record-subject" });
  const place = input(data.place ?? "", { id: "record-place" });
  const rights = check(!!data.rights_notified, "record-rights");
  const reached = check(!!data.outcome_reached, "record-reached");
  const outcome = area(data.outcome ?? "", { id: "record-outcome" });
  const statements: { speaker: HTMLInputElement; text: HTMLTextAreaElement; row: any }[] =
    (data.statements ?? []).map((s: any, n: number) => ({
      speaker: input(s.speaker ?? "", { id: `record-speaker-${n}`, "aria-label": ta("recordSpeaker") }),
      text: area(s.text ?? "", { id: `record-text-${n}`, "aria-label": ta("recordText") }),
      row: s,
    }));
  // The 记录人 is the office's choice, as on the agreement: a clerk in the room records and
  // signs; otherwise the mediator (or another staff member) is printed and does not sign.
  const clerks = (room.layout?.participants ?? []).filter((p) => p.role === "clerk");
  const recorderName = String(data.recorder?.name ?? "");
  const seatedClerk = data.recorder_signs !== false ? clerks.find((c) => c.name === recorderName) : undefined;
  const initialMode = seatedClerk ? `clerk:${seatedClerk.participant_id}`
    : recorderName && recorderName !== data.mediator?.name ? "other" : "mediator";
  const recorderMode = h("select", { id: "record-recorder-mode", "aria-describedby": "record-recorder-hint" },
    clerks.map((c) => h("option", { value: `clerk:${c.participant_id}` }, ta("recordRecorderClerk", { name: c.name }))),
    h("option", { value: "mediator" }, ta("recorderMediator")), h("option", { value: "other" }, ta("recorderOther")));
  recorderMode.value = initialMode;
  const otherName = input(initialMode === "other" ? recorderName : "", { id: "record-recorder-name" });
  const otherField = labelled("record-recorder-name", ta("recorderOtherName"), otherName);
  const syncRecorder = (): void => { otherField.classList.toggle("hidden", recorderMode.value !== "other"); };
  recorderMode.addEventListener("change", syncRecorder);
  syncRecorder();
  const phones: { target: any; el: HTMLInputElement; label: string }[] = [
    ...(data.parties ?? []).map((p: any) => ({ target: p, el: input(p.phone ?? "", { type: "tel" }), label: p.name })),
    { target: data.mediator, el: input(data.mediator?.phone ?? "", { type: "tel" }), label: data.mediator?.name ?? "" },
    { target: data.recorder, el: input(data.recorder?.phone ?? "", { type: "tel" }),
      label: `${ta("recordRecorder")} ${data.recorder?.name ?? ""}` },
  ];
  phones.forEach((p, n) => p.el.setAttribute("id", `record-phone-${n}`));
  const error = h("p", { class: "form-error", role: "alert" });
  const heading = h("h2", { id: "record-editor-h", tabindex: "-1" }, ta("recordTitle"));
  const close = (): void => { region.remove(); document.body.classList.remove("editing"); opener?.focus(); };
  const form = h("form", { class: "editor-form", novalidate: true },
    labelled("record-subject", ta("recordSubject"), subject),
    labelled("record-place", ta("recordPlace"), place),
    h("div", { class: "field" }, rights, h("label", { for: "record-rights" }, ta("recordRights"))),
    h("fieldset", {}, h("legend", {}, ta("recordStatements")),
      statements.map((s) => h("div", { class: "field statement" }, s.speaker, s.text))),
    h("div", { class: "field" }, reached, h("label", { for: "record-reached" }, ta("recordReached"))),
    labelled("record-outcome", ta("recordOutcome"), outcome),
    labelled("record-recorder-mode", ta("recordRecorderMode"), recorderMode),
    h("p", { class: "hint", id: "record-recorder-hint" }, ta("recordRecorderHint")), otherField,
    h("fieldset", {}, h("legend", {}, ta("recordPhones")),
      phones.map((p, n) => labelled(`record-phone-${n}`, p.label, p.el))),
    error,
    h("button", { class: "btn btn-primary", type: "submit", id: "record-save" }, ta("save")));
  const region = h("section", { class: "editor-overlay", id: "record-editor", "aria-labelledby": "record-editor-h" },
    h("div", { class: "editor-main" }, h("div", { class: "editor-head" }, heading,
      h("button", { class: "btn", type: "button", onclick: close }, ta("closeEditor"))), form));
  form.addEventListener("submit", async (e: Event) => {
    e.preventDefault();
    data.subject = subject.value.trim();
    data.place = place.value.trim();
    data.rights_notified = rights.checked;
    data.outcome_reached = reached.checked;
    data.outcome = outcome.value.trim();
    data.statements = statements.filter((s) => s.text.value.trim()).map((s) => (
      { ...s.row, speaker: s.speaker.value.trim(), text: s.text.value.trim() }));
    for (const p of phones) if (p.target) p.target.phone = p.el.value.trim() || null;
    const mode = recorderMode.value;
    const clerk = clerks.find((c) => `clerk:${c.participant_id}` === mode);
    const name = clerk ? clerk.name : mode === "other" ? otherName.value.trim() : String(data.mediator?.name ?? "");
    if (!name) { error.textContent = ta("recorderOtherName"); otherName.focus(); return; }
    data.recorder = { ...(data.recorder ?? {}), name };
    data.recorder_signs = !!clerk;
    const a = await room.call("draft_edit", { draft_id: cur.draft_id, data, base_version: cur.version });
    if (!a.ok) { error.textContent = a.error?.message ?? ""; return; }
    toast(ta("saved"));
    close();
  });
  document.body.appendChild(region);
  document.body.classList.add("editing");
  heading.focus();
}
