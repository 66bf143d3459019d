// The mediator's agreement editor: parties from the room (side A applicant, side B
// respondent, each party's seat signs), the facts, responsibility and one or more
// clauses; saving creates the draft or a new version that everyone in the space sees.

import { api } from "../api";
import { field, h, toast } from "../dom";
import { t } from "../i18n";
import type { RoomClient } from "../room";

interface Clause { obligor: string; obligee: string; obligation: string; amount: string; deadline: string }

export function draftEditor(room: RoomClient, sessionId: string, draftOf: () => { draft_id: string; version: number } | null): HTMLElement {
  const today = new Date().toISOString().slice(0, 10);
  const facts = h("textarea", { id: "agr-facts", rows: "3" });
  const resp = h("textarea", { id: "agr-resp", rows: "2" });
  const committee = h("input", { type: "text", id: "agr-committee", value: "人民调解委员会" });
  const obligation = h("textarea", { id: "agr-obligation", rows: "2" });
  const amount = h("input", { type: "text", id: "agr-amount", inputmode: "decimal" });
  const deadline = h("input", { type: "date", id: "agr-deadline", value: today });
  const obligor = h("select", { id: "agr-obligor" });
  const obligee = h("select", { id: "agr-obligee" });
  const fillParties = (): void => {
    const parties = (room.layout?.participants ?? []).filter((p) => p.side && (p.role === "party" || p.role === "representative"));
    for (const sel of [obligor, obligee]) {
      const cur = sel.value;
      sel.replaceChildren(...parties.map((p) => h("option", { value: p.participant_id }, `${p.name}（${p.side === "A" ? t("sideA") : t("sideB")}）`)));
      if (cur) sel.value = cur;
    }
    if (!obligee.value || obligee.value === obligor.value) obligee.selectedIndex = Math.min(1, parties.length - 1);
  };
  room.on("layout", fillParties);
  fillParties();
  let caseNumber = "";
  void api<{ case_id: string }>("GET", `sessions/${sessionId}`).then((s: any) => api("GET", `cases/${s.session.case_id}`))
    .then((c: any) => { caseNumber = c.number; }).catch(() => {});

  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    const people = (room.layout?.participants ?? []).filter((p) => p.side && (p.role === "party" || p.role === "representative"));
    const clause: Clause = { obligor: obligor.value, obligee: obligee.value, obligation: obligation.value.trim(),
      amount: amount.value.trim(), deadline: deadline.value };
    const data = {
      case_number: caseNumber || "—", committee: committee.value.trim(),
      parties: people.map((p) => ({ party_id: p.participant_id, role: p.side === "A" ? "applicant" : "respondent", kind: "person", name: p.name })),
      facts: facts.value.trim(), responsibility: resp.value.trim(),
      clauses: [{ obligor: clause.obligor, obligee: clause.obligee, obligation: clause.obligation,
        ...(clause.amount ? { amount: clause.amount } : {}), deadline: clause.deadline }],
      // The recorder is the clerk present (who signs as recorder), else the mediator records.
      mediator: { name: room.me?.name ?? "" },
      recorder: { name: (room.layout?.participants ?? []).find((p) => p.role === "clerk")?.name ?? room.me?.name ?? "" },
      signed_on: today,
    };
    const cur = draftOf();
    const a = cur ? await room.call("draft_edit", { draft_id: cur.draft_id, data, base_version: cur.version })
      : await room.call("draft_create", { kind: "agreement", data });
    if (!a.ok) toast(a.error?.message ?? "", "error"); else toast(t("draftSaved"));
  };
  return h("details", { class: "draft-editor" }, h("summary", {}, t("editDraft")),
    h("form", { onsubmit: save },
      field(t("committee"), committee), field(t("facts"), facts), field(t("responsibility"), resp),
      h("fieldset", {}, h("legend", {}, t("clause")),
        h("div", { class: "grid2" }, field(t("obligor"), obligor), field(t("obligee"), obligee)),
        field(t("obligation"), obligation),
        h("div", { class: "grid2" }, field(t("amount"), amount), field(t("deadline"), deadline))),
      h("button", { class: "btn btn-primary", type: "submit", id: "draft-save" }, t("saveDraft"))));
}
