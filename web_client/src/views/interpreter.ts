// Interpreters (sign language, dialect, foreign language): a seat of their own, attached to
// the party they interpret for. The server moves them with that party; this module pins
// their video on that party's page and labels their captions.

import { h } from "../dom";
import { t, type Key } from "../i18n";
import type { Caption, Participant, RoomClient } from "../room";

/** The interpreter in my space who interprets for me: their tile is pinned large. */
export function pinnedInterpreter(room: RoomClient): Participant | undefined {
  const me = room.me?.participant_id;
  if (!me) return undefined;
  return room.spaceMates().find((p) => p.role === "interpreter" && p.interprets_for === me);
}

export function interpretationName(kind: string | null | undefined): string {
  return kind ? t(`interp_${kind}` as Key) : t("role_interpreter");
}

/** "手语翻译，为 张三": the label an interpreter's caption carries. */
export function interpretedLabel(c: Caption): string | null {
  if (!c.interpreted) return null;
  return t("interpretedBy", { kind: interpretationName(c.interpreted.kind), name: c.interpreted.for_name ?? t("nobody") });
}

/** The mediator's control on an interpreter's row: whom they interpret for. */
export function attachSelect(room: RoomClient, p: Participant, act: (event: string, data: object) => void): HTMLSelectElement {
  const candidates = (room.layout?.participants ?? []).filter((x) =>
    x.participant_id !== p.participant_id && x.role !== "interpreter" && x.role !== "mediator" && x.role !== "clerk");
  const sel = h("select", { class: "attach-select", "data-interpreter": p.participant_id,
    "aria-label": `${t("interpretFor")}: ${p.name}`,
    onchange: () => act("interpreter_attach", { participant_id: p.participant_id, interprets_for: sel.value || null }) },
    h("option", { value: "" }, t("nobody")),
    candidates.map((x) => h("option", { value: x.participant_id }, x.name)));
  sel.value = p.interprets_for ?? "";
  return sel;
}
