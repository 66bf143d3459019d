// Caucuses the mediator shapes: a dialog to choose any members (any side, experts,
// interpreters), a name and a time limit; on the board, a running timer per caucus that
// warns at that limit, with "5 more minutes" and "end".

import { announce, field, h, toast } from "../dom";
import { roleName, t } from "../i18n";
import type { CaucusInfo, RoomClient } from "../room";
import { groupBySide } from "./sides";

/** Open the dialog; resolves when it closes. The caucus is created on the server in one
 * step (members moved together, their interpreters following). */
export function openCaucusDialog(room: RoomClient): void {
  const lay = room.layout;
  if (!lay) return;
  const me = room.me?.participant_id;
  const n = lay.caucuses.length + 1;
  const name = h("input", { type: "text", id: "caucus-name", maxlength: "120", required: true, value: `${t("caucus")} ${n}` });
  const limit = h("input", { type: "number", id: "caucus-limit", min: "1", max: "240", step: "1", inputmode: "numeric" });
  const error = h("p", { class: "form-error", role: "alert", id: "caucus-error" });
  const others = lay.participants.filter((p) => p.participant_id !== me && p.caucus_id === null);
  const boxes: HTMLInputElement[] = [];
  const groups = groupBySide(lay, others).map(([key, heading, list]) => h("fieldset", { class: "member-group", "data-side": key ?? "none" },
    h("legend", {}, heading),
    list.map((p) => {
      const box = h("input", { type: "checkbox", value: p.participant_id, id: `cm-${p.participant_id}`, "data-pid": p.participant_id });
      boxes.push(box);
      return h("label", { class: "check", for: box.id }, box, h("span", {}, p.name, h("span", { class: "muted" }, ` · ${roleName(p.role)}`)));
    })));
  const meBox = h("input", { type: "checkbox", id: "caucus-me", checked: true });
  const dlg = h("dialog", { class: "dialog caucus-dialog", id: "caucus-dialog", "aria-labelledby": "caucus-dlg-h" });
  const close = (): void => { dlg.close(); dlg.remove(); document.getElementById("caucus-new")?.focus(); };
  const form = h("form", { method: "dialog", class: "caucus-form", onsubmit: async (e: Event) => {
    e.preventDefault();
    const members = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!members.length) { error.textContent = t("caucusNeedsMembers"); boxes[0]?.focus(); return; }
    if (!name.value.trim()) { name.focus(); return; }
    if (meBox.checked && me) members.push(me);
    const minutes = limit.value ? Number(limit.value) : null;
    const a = await room.call("caucus_create", { name: name.value.trim(), members, limit_minutes: minutes });
    if (!a.ok) { error.textContent = a.error?.message ?? ""; return; }
    announce(`${t("caucus")}: ${name.value.trim()}`);
    close();
  } },
  h("h2", { id: "caucus-dlg-h" }, t("caucusDialogTitle")),
  field(t("caucusNameLabel"), name),
  h("div", { class: "field" }, h("p", { class: "label", id: "caucus-members-h" }, t("caucusMembers")),
    h("div", { class: "member-groups", role: "group", "aria-labelledby": "caucus-members-h" }, groups)),
  h("label", { class: "check", for: meBox.id }, meBox, h("span", {}, t("caucusIncludeMe"))),
  field(t("caucusLimit"), limit),
  error,
  h("div", { class: "row-actions" },
    h("button", { class: "btn btn-primary", type: "submit", id: "caucus-start" }, t("caucusStart")),
    h("button", { class: "btn", type: "button", id: "caucus-cancel", onclick: close }, t("cancelBtn"))));
  dlg.append(form);
  dlg.addEventListener("cancel", (e) => { e.preventDefault(); close(); });
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
  name.select();
}

// -- timers ------------------------------------------------------------------------------

interface Running { el: HTMLElement; c: CaucusInfo; received: number; warned: boolean }
const running = new Map<string, Running>();
let ticker = 0;

function mmss(s: number): string {
  const m = Math.floor(s / 60), r = Math.floor(s % 60);
  return `${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
}

function paint(r: Running): void {
  const elapsed = (r.c.elapsed_s ?? 0) + (performance.now() - r.received) / 1000;
  const limit = r.c.limit_s ?? null;
  const over = limit !== null && elapsed >= limit;
  r.el.textContent = limit !== null ? t("caucusTimerOf", { t: mmss(elapsed), limit: mmss(limit) }) : t("caucusTimer", { t: mmss(elapsed) });
  r.el.classList.toggle("timer-over", over);
  r.el.dataset.over = String(over);
  if (over) r.el.append(h("span", { class: "timer-flag" }, ` · ${t("caucusOver")}`));
  if (over && !r.warned) {
    r.warned = true;
    announce(t("caucusWarn", { name: r.c.name }));
    toast(t("caucusWarn", { name: r.c.name }));
  }
}

function tick(): void {
  for (const [id, r] of running) {
    if (!r.el.isConnected) { running.delete(id); continue; }
    paint(r);
  }
  if (!running.size) { window.clearInterval(ticker); ticker = 0; }
}

/** A caucus's running time (mm:ss / limit), warning once at its limit; the element keeps
 * itself current for as long as it is in the page. */
export function caucusTimer(c: CaucusInfo, received: number): HTMLElement {
  const prev = running.get(c.id);
  // A new layout (extension, someone moved) restarts from the server's figure; a warning
  // given stays given unless the limit moved past the time run.
  const warned = !!prev && prev.c.limit_s === c.limit_s && prev.warned;
  const el = h("span", { class: "caucus-timer", id: `timer-${c.id}`, "data-caucus": c.id });
  const r: Running = { el, c, received, warned };
  running.set(c.id, r);
  paint(r);
  if (!ticker) ticker = window.setInterval(tick, 1000);
  return el;
}

/** The board's controls of one caucus: its timer, 5 more minutes, end. */
export function caucusControls(room: RoomClient, c: CaucusInfo, act: (event: string, data: object) => Promise<void>): HTMLElement {
  return h("div", { class: "caucus-controls" },
    caucusTimer(c, room.layout?.received ?? performance.now()),
    h("button", { class: "btn btn-small", type: "button", "data-extend": c.id, "aria-label": `${t("extend5")}: ${c.name}`,
      onclick: async () => { await act("caucus_extend", { caucus_id: c.id, minutes: 5 }); announce(t("caucusExtended")); } }, t("extend5")),
    h("button", { class: "btn btn-small btn-quiet", type: "button", "data-end": c.id,
      "aria-label": `${t("endCaucus")}: ${c.name}`, onclick: () => act("caucus_end", { caucus_id: c.id }) }, "✕"));
}
