// One page, four faces: pick the view from the path.

import { clear, h } from "./dom";
import { t } from "./i18n";
import { apply } from "./prefs";
import { onRerender, page } from "./ui";
import { applyPage, declinePage, posterPage, statusPage } from "./views/apply";
import { clerkPage } from "./views/clerk";
import { copyPage } from "./views/copies";
import { expertPage } from "./views/expert";
import { joinPage } from "./views/join";
import { loginPage } from "./views/login";
import { mediatorPage } from "./views/mediator";
import { officePage } from "./views/office";

function home(app: HTMLElement): void {
  const render = (): void => {
    clear(app, page(t("appFull"), [h("div", { class: "card narrow" }, h("h1", {}, t("appFull")), h("p", { class: "lead" }, t("homeIntro")),
      h("p", {}, h("a", { class: "btn btn-primary", href: "/login" }, t("staffEntry"))))]));
  };
  onRerender(render);
  render();
}

function start(): void {
  apply();
  const app = document.getElementById("app")!;
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const routes: Record<string, (el: HTMLElement) => void | Promise<void>> = {
    "/join": joinPage, "/login": loginPage, "/mediator": mediatorPage, "/expert": expertPage, "/clerk": clerkPage, "/copy": copyPage, "/office": officePage,
    "/application": statusPage, "/decline": declinePage,
  };
  // The office's public application page and its QR poster: /apply/<office>[/poster].
  if (/^\/apply\/[^/]+\/poster$/.test(path)) { void posterPage(app); return; }
  if (/^\/apply\/[^/]+$/.test(path)) { void applyPage(app); return; }
  void (routes[path] ?? home)(app);
}

start();
