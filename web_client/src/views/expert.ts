// The expert's console: online status and incoming calls once the experts package
// offers them; until then, experts join with a link like everyone else.

import { hasApi } from "../api";
import { clear, h } from "../dom";
import { t } from "../i18n";
import { onRerender, page } from "../ui";
import { logoutButton, requireUser } from "./login";

export async function expertPage(app: HTMLElement): Promise<void> {
  const user = await requireUser();
  if (!user) return;
  const render = (): void => {
    const status = h("div", { class: "card", id: "expert-status" }, h("h2", {}, t("online")), h("p", {}, t("expertWaiting")),
      h("p", { class: "muted", id: "expert-api" }, t("expertSoon")));
    void hasApi("expert").then((yes) => { if (yes) document.getElementById("expert-api")?.remove(); });
    clear(app, page(t("expertConsole"), [h("h1", { class: "page-title" }, t("expertConsole")), status],
      [h("span", { class: "user" }, user.display_name), logoutButton()]));
  };
  onRerender(render);
  render();
}
