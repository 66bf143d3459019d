// Staff login. The session token stays in an HttpOnly cookie; the page keeps only the
// CSRF token for this tab.

import { ApiError, login, logout, me, type User } from "../api";
import { clear, field, h } from "../dom";
import { t } from "../i18n";
import { onRerender, page } from "../ui";

export function homeFor(role: string): string {
  return role === "clerk" ? "/clerk" : role === "expert" ? "/expert" : role === "head" ? "/office" : "/mediator";
}

export function loginPage(app: HTMLElement): void {
  const next = new URLSearchParams(location.search).get("next");
  const render = (): void => {
    const user = h("input", { type: "text", id: "username", autocomplete: "username", required: true });
    const pass = h("input", { type: "password", id: "password", autocomplete: "current-password", required: true });
    const err = h("p", { class: "form-error", role: "alert" });
    const form = h("form", { class: "card narrow", onsubmit: async (e: Event) => {
      e.preventDefault();
      err.textContent = "";
      try {
        const u = await login(user.value.trim(), pass.value);
        const target = next && next.startsWith("/") && !next.startsWith("//") ? next : homeFor(u.role);
        location.assign(target);
      } catch (x) {
        err.textContent = x instanceof ApiError && x.status === 401 ? t("loginFailed") : `${t("error")}${(x as Error).message}`;
      }
    } },
      h("h1", {}, t("loginTitle")), field(t("username"), user), field(t("password"), pass), err,
      h("button", { class: "btn btn-primary btn-block", type: "submit", id: "login-btn" }, t("login")));
    clear(app, page(t("appFull"), [form]));
  };
  onRerender(render);
  render();
}

/** The logged-in user, or a redirect to the login page. */
export async function requireUser(): Promise<User | null> {
  const u = await me();
  if (!u) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    return null;
  }
  return u;
}

export function logoutButton(): HTMLElement {
  return h("button", { class: "btn btn-quiet", type: "button", id: "logout",
    onclick: async () => { await logout(); location.assign("/login"); } }, t("logout"));
}
