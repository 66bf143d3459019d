// A tiny DOM builder. Text always goes through textContent, never innerHTML, so that
// names and chat from other people can never become markup.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "class") {
      el.className = String(v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  }
}

export function clear(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

export function $(sel: string, root: ParentNode = document): HTMLElement | null {
  return root.querySelector(sel);
}

let uid = 0;
export function newId(prefix = "f"): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: the label is tied to the control for screen readers. */
export function field(label: string, control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
                      hint?: string): HTMLElement {
  if (!control.id) control.id = newId();
  const hintEl = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/** Polite announcements for screen readers (one live region for the whole app). */
export function announce(text: string): void {
  let live = document.getElementById("live");
  if (!live) {
    live = h("div", { id: "live", class: "sr-only", "aria-live": "polite", role: "status" });
    document.body.append(live);
  }
  live.textContent = "";
  window.setTimeout(() => { live!.textContent = text; }, 30);
}

let toastTimer = 0;
export function toast(text: string, kind: "info" | "error" = "info"): void {
  let el = document.getElementById("toast");
  if (!el) {
    el = h("div", { id: "toast", role: "alert" });
    document.body.append(el);
  }
  el.className = `toast toast-${kind}`;
  el.textContent = text;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => { el!.className = "toast hidden"; }, 5000);
}

export function fmtTime(d: Date | string | number): string {
  const x = d instanceof Date ? d : new Date(typeof d === "number" && d < 1e12 ? d * 1000 : d);
  return x.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
