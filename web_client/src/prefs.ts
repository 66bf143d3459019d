// Language and large-text preferences, kept in localStorage and applied to <html>.

type Lang = "zh" | "en";

function load(key: string): string | null {
  try { return localStorage.getItem(key); } catch { return null; }
}
function save(key: string, v: string): void {
  try { localStorage.setItem(key, v); } catch { /* private mode: keep it for this page */ }
}

function initialLang(): Lang {
  const q = new URLSearchParams(location.search).get("lang");
  if (q === "en" || q === "zh") return q;
  const v = load("tj.lang");
  return v === "en" ? "en" : "zh";
}

export const prefs = {
  lang: initialLang(),
  big: load("tj.big") === "1",
  bigCaptions: load("tj.bigcap") !== "0",
  setLang(l: Lang): void { this.lang = l; save("tj.lang", l); apply(); },
  setBig(b: boolean): void { this.big = b; save("tj.big", b ? "1" : "0"); apply(); },
  setBigCaptions(b: boolean): void { this.bigCaptions = b; save("tj.bigcap", b ? "1" : "0"); apply(); },
};

export function apply(): void {
  const html = document.documentElement;
  html.lang = prefs.lang === "zh" ? "zh-CN" : "en";
  html.classList.toggle("big", prefs.big);
  html.classList.toggle("bigcap", prefs.bigCaptions);
}
