// The draft agreement, read live, and the signing step. The agreements package adds its
// HTTP routes and events when it is installed; until then the panel says so.

import { h } from "../dom";
import { t } from "../i18n";
import { hasApi } from "../api";
import type { RoomClient } from "../room";
import { icon } from "../ui";

export function agreementPanel(_room: RoomClient, editor: boolean): HTMLElement {
  const body = h("div", { class: "agreement-body" }, h("p", { class: "muted" }, t("agreementNone")));
  const el = h("section", { class: "panel agreement", "aria-labelledby": "agr-h" },
    h("h2", { id: "agr-h" }, icon("doc"), t("agreement")), body);
  void hasApi("agreement").then((yes) => {
    if (!yes) body.replaceChildren(h("p", { class: "muted" }, t("agreementSoon")));
  });
  void editor;
  return el;
}
