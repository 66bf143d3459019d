// Transcript review for clerks (and mediators): every stored utterance of a session with
// its speaker, an edit control per line (each save is a new version), the history of a
// line's corrections, and the exports the server offers.

import { api } from "../api";
import { clear, h, toast } from "../dom";
import { prefs } from "../prefs";

const zh = {
  review: "转录校对", reviewEmpty: "这个场次还没有转录文字。", edit: "修改", save: "保存", cancel: "取消",
  history: "修改记录", noHistory: "没有修改记录。", version: "版本", exportAs: "导出", saved: "已保存，第 {v} 版。",
  textOf: "{who} 的发言", before: "修改前", after: "修改后", hide: "收起", caucus: "单独谈话",
  listen: "收听", noAudio: "这一行没有录音。",
  sourceLive: "实时字幕", sourceRecord: "复核识别", sourceClerk: "人工校对", liveText: "实时字幕原文",
  editorRecord: "复核识别（第二遍）",
};
const en: typeof zh = {
  review: "Transcript review", reviewEmpty: "No transcript in this session yet.", edit: "Edit", save: "Save", cancel: "Cancel",
  history: "History", noHistory: "No corrections.", version: "version", exportAs: "Export", saved: "Saved as version {v}.",
  textOf: "What {who} said", before: "Before", after: "After", hide: "Hide", caucus: "Caucus",
  listen: "Listen", noAudio: "No recording for this line.",
  sourceLive: "Live caption", sourceRecord: "Second pass", sourceClerk: "Corrected by staff", liveText: "Live caption text",
  editorRecord: "Second pass (recognizer)",
};
type K = keyof typeof zh;
function tt(key: K, vars: Record<string, string> = {}): string {
  let s = (prefs.lang === "en" ? en : zh)[key];
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

type Source = "live" | "record" | "clerk";
interface Utterance { id: string; speaker_name: string; speaker_role: string; start: number; end: number; text: string; version: number; caucus_id: string | null; text_source?: Source; live_text?: string | null }
const SOURCE_LABEL: Record<Source, K> = { live: "sourceLive", record: "sourceRecord", clerk: "sourceClerk" };
const RECORD_EDITOR = "asr:second-pass";
interface Edit { version: number; text_before: string; text_after: string; editor_id: string; at: string }

function clock(s: number): string {
  const m = Math.floor(s / 60), sec = Math.floor(s % 60);
  return `${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
}

/** The review of one session's transcript, loaded into ``el``. */
export async function transcriptReview(sessionId: string, el: HTMLElement): Promise<void> {
  const sid = encodeURIComponent(sessionId);
  let items: Utterance[];
  try {
    items = (await api<{ items: Utterance[] }>("GET", `sessions/${sid}/transcript`)).items;
  } catch (x) { toast((x as Error).message, "error"); return; }
  const exports = h("p", { class: "row-actions transcript-exports" }, h("span", {}, `${tt("exportAs")}：`),
    ...["txt", "srt", "vtt", "json"].map((f) => h("a", { class: "btn btn-small", download: "",
      href: `/api/v1/sessions/${sid}/transcript/export?format=${f}` }, f.toUpperCase())));
  const list = h("ol", { class: "list review-list", id: "review-list" });
  clear(el, h("section", { class: "card review", "aria-labelledby": "rv-h" },
    h("h2", { id: "rv-h" }, tt("review")), exports, list));
  if (!items.length) { clear(list, h("li", { class: "muted" }, tt("reviewEmpty"))); return; }
  clear(list, items.map((u) => line(u)));
}

function line(u: Utterance): HTMLElement {
  const li = h("li", { class: "review-line", "data-id": u.id });
  const hist = h("div", { class: "review-history" });
  const player = h("div", { class: "review-audio" });
  const show = (): void => {
    clear(li,
      h("div", { class: "review-meta" }, h("strong", {}, u.speaker_name), h("span", { class: "muted" },
        u.caucus_id ? ` · ${tt("caucus")}` : "", ` · ${clock(u.start)}–${clock(u.end)} · ${tt("version")} `, h("span", { class: "review-version" }, String(u.version)),
        " · ", h("span", { class: `badge review-source source-${u.text_source ?? "live"}`, "data-source": u.text_source ?? "live" }, tt(SOURCE_LABEL[u.text_source ?? "live"])))),
      h("p", { class: "review-text" }, u.text),
      u.live_text && u.live_text !== u.text
        ? h("p", { class: "muted review-live" }, `${tt("liveText")}：`, u.live_text) : false,
      h("span", { class: "row-actions" },
        h("button", { class: "btn btn-small", type: "button", "aria-label": `${tt("edit")}: ${tt("textOf", { who: u.speaker_name })}`,
          onclick: () => editing() }, tt("edit")),
        h("button", { class: "btn btn-small", type: "button", "aria-expanded": String(hist.childNodes.length > 0),
          "aria-label": `${tt("history")}: ${tt("textOf", { who: u.speaker_name })}`,
          onclick: () => void toggleHistory() }, tt("history")),
        h("button", { class: "btn btn-small review-listen", type: "button", "aria-label": `${tt("listen")}: ${tt("textOf", { who: u.speaker_name })}`,
          onclick: () => listen(u, player) }, tt("listen"))),
      player, hist);
  };
  const toggleHistory = async (): Promise<void> => {
    if (hist.childNodes.length) { clear(hist); show(); return; }
    try {
      const { items } = await api<{ items: Edit[] }>("GET", `utterances/${encodeURIComponent(u.id)}/history`);
      clear(hist, items.length ? h("ol", { class: "history-list" }, items.map((e) => h("li", {},
        h("span", { class: "muted" }, `${tt("version")} ${e.version} · ${new Date(e.at).toLocaleString()}`,
          e.editor_id === RECORD_EDITOR ? ` · ${tt("editorRecord")}` : ""),
        h("div", {}, `${tt("before")}：`, h("del", {}, e.text_before)),
        h("div", {}, `${tt("after")}：`, h("ins", {}, e.text_after)))))
        : h("p", { class: "muted" }, tt("noHistory")));
      show();
    } catch (x) { toast((x as Error).message, "error"); }
  };
  const editing = (): void => {
    const box = h("textarea", { class: "review-edit", rows: "3", maxlength: "5000", "aria-label": tt("textOf", { who: u.speaker_name }) });
    box.value = u.text;
    clear(li, h("form", { onsubmit: async (e: Event) => {
      e.preventDefault();
      const text = box.value.trim();
      if (!text) { box.focus(); return; }
      try {
        const out = await api<Utterance>("PATCH", `utterances/${encodeURIComponent(u.id)}`, { text });
        Object.assign(u, out);
        clear(hist);
        show();
        toast(tt("saved", { v: String(u.version) }));
        (li.querySelector("button") as HTMLElement | null)?.focus();
      } catch (x) { toast((x as Error).message, "error"); }
    } }, h("strong", {}, u.speaker_name), box,
    h("span", { class: "row-actions" },
      h("button", { class: "btn btn-small btn-primary", type: "submit" }, tt("save")),
      h("button", { class: "btn btn-small", type: "button", onclick: () => { show(); (li.querySelector("button") as HTMLElement | null)?.focus(); } }, tt("cancel")))));
    box.focus();
  };
  show();
  return li;
}

/** The line's recorded audio, cut on the server to exactly its span (Range requests). */
function listen(u: Utterance, player: HTMLElement): void {
  const audio = h("audio", { controls: "", preload: "auto", class: "review-player",
    src: `/api/v1/utterances/${encodeURIComponent(u.id)}/audio`, "aria-label": `${tt("listen")}: ${tt("textOf", { who: u.speaker_name })}` }) as HTMLAudioElement;
  audio.onerror = () => { clear(player); toast(tt("noAudio"), "error"); };
  clear(player, audio);
  void audio.play().catch(() => {});
}
