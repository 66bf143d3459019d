// Shared page furniture: the top bar with language and large-text switches, icons.

import { h } from "./dom";
import { t } from "./i18n";
import { prefs } from "./prefs";

let rerender: () => void = () => {};
export function onRerender(fn: () => void): void { rerender = fn; }

export function topbar(title: string, ...extra: (Node | null)[]): HTMLElement {
  const lang = h("button", {
    class: "btn btn-quiet", type: "button", lang: prefs.lang === "zh" ? "en" : "zh-CN",
    "aria-label": t("langLabel"),
    onclick: () => { prefs.setLang(prefs.lang === "zh" ? "en" : "zh"); rerender(); },
  }, t("lang"));
  const big = h("button", {
    class: "btn btn-quiet", type: "button", "aria-pressed": String(prefs.big),
    title: t("bigTextLabel"),
    onclick: () => { prefs.setBig(!prefs.big); big.setAttribute("aria-pressed", String(prefs.big)); },
  }, icon("text"), h("span", {}, t("bigText")));
  return h("header", { class: "topbar" },
    h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }, "调"), h("span", {}, title)),
    h("div", { class: "topbar-tools" }, ...extra.filter(Boolean) as Node[], big, lang));
}

const PATHS: Record<string, string> = {
  mic: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z",
  micoff: "M19 11a7 7 0 0 1-1.2 3.9l-1.5-1.5A5 5 0 0 0 17 11zM15 11.2 9 5.2V5a3 3 0 0 1 6 0zM4.3 3 3 4.3l6 6V11a3 3 0 0 0 4.4 2.6l1.6 1.6A5 5 0 0 1 7 11H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 3.4-1.4l3.3 3.3 1.3-1.3z",
  cam: "M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11z",
  camoff: "M21 6.5l-4 4V7a1 1 0 0 0-1-1H9.8L21 17.2zM3.3 2 2 3.3 4.7 6H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12c.2 0 .4-.1.5-.2l3.2 3.2 1.3-1.3z",
  hand: "M21 7v11a4 4 0 0 1-4 4h-5.3a4 4 0 0 1-2.9-1.2L2.5 14.4s1.1-1 1.1-1c.3-.3.7-.4 1.1-.3l.1.1L8 14.8V4.5a1.5 1.5 0 0 1 3 0V11h1V2.5a1.5 1.5 0 0 1 3 0V11h1V3.5a1.5 1.5 0 0 1 3 0V11h1V7a1.5 1.5 0 0 1 3 0z",
  leave: "M10.1 15.6 11.5 17l5-5-5-5-1.4 1.4 2.6 2.6H3v2h9.7zM19 3H5a2 2 0 0 0-2 2v4h2V5h14v14H5v-4H3v4a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2z",
  text: "M2.5 4v3h5v12h3V7h5V4zm19 5h-9v3h3v7h3v-7h3z",
  chat: "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z",
  cc: "M19 4H5a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm-8 7H9.5v-.5h-2v3h2V13H11v1a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1v-4a1 1 0 0 1 1-1h3a1 1 0 0 1 1 1zm7 0h-1.5v-.5h-2v3h2V13H18v1a1 1 0 0 1-1 1h-3a1 1 0 0 1-1-1v-4a1 1 0 0 1 1-1h3a1 1 0 0 1 1 1z",
  bell: "M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6v-5c0-3.1-1.6-5.6-4.5-6.3V4a1.5 1.5 0 0 0-3 0v.7C7.6 5.4 6 7.9 6 11v5l-2 2v1h16v-1z",
  check: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z",
  gear: "M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3h-4l-.4 2.9a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.3 7.3 0 0 0 1.7 1L11 21h4l.4-2.9a7.3 7.3 0 0 0 1.7-1l2.5 1 2-3.5zM12 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z",
  screen: "M21 3H3a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h7v2H8v2h8v-2h-2v-2h7a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm0 14H3V5h18zM12 6l-4 4h3v4h2v-4h3z",
  audio: "M3 10v4h4l5 5V5L7 10zm13.5 2A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z",
  doc: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm2 16H8v-2h8zm0-4H8v-2h8zm-3-5V3.5L18.5 9z",
};

export function icon(name: keyof typeof PATHS | string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", PATHS[name] ?? "");
  svg.append(p);
  return svg;
}

/** A page frame: top bar plus a main landmark holding the content. */
export function page(title: string, content: Node[], extra: (Node | null)[] = [], mainClass = "main"): HTMLElement[] {
  return [topbar(title, ...extra), h("main", { id: "main", class: mainClass }, ...content)];
}
