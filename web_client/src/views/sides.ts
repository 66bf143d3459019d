// Named sides: 申请人 (A), 被申请人 (B), and any the mediator adds per case (第三人, ...).
// The participant list grouped by side (in the room) and the case page's side editor.

import { api } from "../api";
import { announce, clear, field, h, toast } from "../dom";
import { roleName, setSideNames, sideName, t } from "../i18n";
import type { Layout, Participant, SideInfo } from "../room";

/** Side keys in the order the case has them, then any a participant carries that the
 * layout did not name (never hide a person). */
export function sideKeys(layout: Layout | null): string[] {
  const keys = (layout?.sides ?? []).map((s) => s.key);
  for (const p of layout?.participants ?? []) if (p.side && !keys.includes(p.side)) keys.push(p.side);
  return keys;
}

/** The room's people in groups, one per side, then those of no side (mediator, clerk,
 * experts). Each group: [key or null, heading, people]. */
export function groupBySide(layout: Layout | null, people: Participant[]): [string | null, string, Participant[]][] {
  if (layout?.sides) setSideNames(layout.sides);
  const out: [string | null, string, Participant[]][] = sideKeys(layout).map((k) =>
    [k, sideName(k), people.filter((p) => p.side === k)]);
  out.push([null, t("sideOthers"), people.filter((p) => !p.side)]);
  return out.filter(([, , list]) => list.length > 0);
}

/** The participant list grouped by named sides, for every page in the room. */
export function sidesList(layout: Layout | null, whereOf: (p: Participant) => string | null): HTMLElement {
  const people = layout?.participants ?? [];
  const groups = groupBySide(layout, people);
  return h("section", { class: "panel sides-panel", id: "sides-panel", "aria-labelledby": "sides-h" },
    h("h2", { id: "sides-h" }, t("bySide")),
    groups.map(([key, heading, list]) => h("div", { class: "side-group", "data-side": key ?? "none" },
      h("h3", {}, heading, h("span", { class: "count", "aria-label": t("sideCount", { n: String(list.length) }) }, String(list.length))),
      h("ul", { class: "side-people" }, list.map((p) => {
        const where = whereOf(p);
        const forWhom = p.interprets_for ? people.find((x) => x.participant_id === p.interprets_for) : undefined;
        return h("li", { "data-pid": p.participant_id },
          h("strong", {}, p.name), " ",
          h("span", { class: "muted" }, roleName(p.role),
            p.interpretation ? ` · ${t(`interp_${p.interpretation}` as never)}` : "",
            forWhom ? ` · ${t("interpretsFor", { name: forWhom.name })}` : "",
            where ? ` · ${where}` : ""));
      })))));
}

/** <option>s for a side select: the case's sides, then "none". */
export function sideOptions(sides: SideInfo[], none: string): HTMLOptionElement[] {
  setSideNames(sides);
  return [...sides.map((s) => h("option", { value: s.key }, sideName(s.key))), h("option", { value: "" }, none)];
}

export async function fetchSides(caseId: string): Promise<SideInfo[]> {
  try {
    return (await api<{ items: SideInfo[] }>("GET", `cases/${caseId}/sides`)).items;
  } catch {
    return [{ key: "A", name: "申请人" }, { key: "B", name: "被申请人" }];
  }
}

/** The case page's sides: who the parties are, and a form to add 第三人 or more. */
export function sidesCard(caseId: string, onChange: () => void = () => {}): HTMLElement {
  const listEl = h("ul", { class: "list sides-list", id: "case-sides" });
  const name = h("input", { type: "text", id: "side-name", maxlength: "60", autocomplete: "off" });
  const render = async (): Promise<void> => {
    const sides = await fetchSides(caseId);
    setSideNames(sides);
    clear(listEl, sides.map((s) => h("li", { class: "row", "data-side": s.key },
      h("span", {}, h("strong", {}, sideName(s.key)), h("span", { class: "muted" }, ` · ${s.key}`)))));
  };
  void render();
  return h("section", { class: "card", "aria-labelledby": "sides-card-h" },
    h("h2", { id: "sides-card-h" }, t("sides")), listEl,
    h("form", { class: "side-form", onsubmit: async (e: Event) => {
      e.preventDefault();
      const v = name.value.trim();
      if (!v) { name.focus(); return; }
      try {
        await api("POST", `cases/${caseId}/sides`, { name: v });
        name.value = "";
        announce(t("sideAdded", { name: v }));
        await render();
        onChange();
      } catch (x) { toast((x as Error).message, "error"); }
    } }, field(t("sideNameLabel"), name),
      h("button", { class: "btn", type: "submit", id: "side-add" }, t("addSide"))));
}
