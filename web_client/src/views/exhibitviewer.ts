// The exhibit viewer: an image or PDF shown in the page, never as a download.
//
// PDFs are drawn by pdf.js (pdfjs-dist from npm, bundled with its worker by build.mjs and
// served from our own origin: no CDN). When the mediator shows an exhibit to the space
// they are in, everyone there opens it and follows the presenter's page: page turns go
// out as `exhibit_page` events, which the server sends to that space only and accepts
// from the presenting mediator only.

import * as pdfjs from "pdfjs-dist";
import { announce, clear, h, toast } from "../dom";
import { prefs } from "../prefs";
import type { RoomClient } from "../room";

declare const __PDF_WORKER_URL__: string;
declare const __PDF_CMAP_URL__: string;
declare const __PDF_FONT_URL__: string;
pdfjs.GlobalWorkerOptions.workerSrc = __PDF_WORKER_URL__;

const zh = {
  viewer: "证据查看", close: "关闭", prev: "上一页", next: "下一页", page: "第 {n} 页，共 {total} 页",
  following: "正在跟随调解员翻页", presenting: "您在向当前房间展示：翻页时，房间里的人会跟着翻",
  loading: "正在打开…", failed: "无法打开该证据：", pageOf: "{title}，第 {n} 页，共 {total} 页",
};
const en: typeof zh = {
  viewer: "Exhibit viewer", close: "Close", prev: "Previous page", next: "Next page", page: "Page {n} of {total}",
  following: "Following the mediator's page", presenting: "You are presenting to this room: people here follow your page",
  loading: "Opening…", failed: "Could not open the exhibit: ", pageOf: "{title}, page {n} of {total}",
};
type K = keyof typeof zh;
function vt(key: K, vars: Record<string, string> = {}): string {
  let s = (prefs.lang === "en" ? en : zh)[key];
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

export interface Exhibit { id: string; title: string; content_type: string }
type Fetcher = (id: string) => Promise<Blob>;

/** One viewer per room page; `open` shows an exhibit in it. */
export class ExhibitViewer {
  el = h("section", { class: "exhibit-viewer hidden", id: "exhibit-viewer", "aria-labelledby": "exhibit-h", tabindex: "-1" });
  current: Exhibit | null = null;
  page = 1;
  pages = 1;
  presenter = false;
  private doc: pdfjs.PDFDocumentProxy | null = null;
  private url: string | null = null;
  // Scrolls (a tall page on a phone): reachable by keyboard, and named.
  private body = h("div", { class: "exhibit-body", tabindex: "0", role: "group", "aria-label": vt("viewer") });
  private pendingPage: { id: string; page: number } | null = null;
  private rendering: Promise<void> = Promise.resolve();
  /** The exhibit still being fetched and parsed (its page count is not known yet). */
  private loading: Exhibit | null = null;

  constructor(private room: RoomClient, private fetcher: Fetcher) {
    room.on("exhibit_page", (d: { evidence_id: string; page: number }) => {
      if (this.current?.id === d.evidence_id && !this.presenter) void this.go(d.page, false);
      else this.pendingPage = { id: d.evidence_id, page: d.page };
    });
  }

  /** Open `ex` (at `page`: a late joiner's, from the presenter's last turn). */
  async open(ex: Exhibit, presenter: boolean, page?: number): Promise<void> {
    this.close(false);
    this.current = ex;
    this.presenter = presenter;
    this.page = this.pendingPage?.id === ex.id ? this.pendingPage.page : page ?? 1;
    this.pendingPage = null;
    this.el.className = "exhibit-viewer";
    this.el.dataset.evidence = ex.id;
    clear(this.body, h("p", { class: "muted" }, vt("loading")));
    this.frame();
    this.loading = ex;
    try {
      const blob = await this.fetcher(ex.id);
      if (this.current !== ex) return;
      const data = new Uint8Array(await blob.arrayBuffer());
      // Typed by content, as the server typed it on upload ("%PDF-").
      if (data[0] === 0x25 && data[1] === 0x50 && data[2] === 0x44 && data[3] === 0x46) {
        this.doc = await pdfjs.getDocument({
          data, isEvalSupported: false,
          // Chinese text in PDFs without embedded fonts needs the Adobe-GB1 maps.
          cMapUrl: __PDF_CMAP_URL__, cMapPacked: true, standardFontDataUrl: __PDF_FONT_URL__,
        }).promise;
        this.pages = this.doc.numPages;
        if (this.loading === ex) this.loading = null;
        this.page = Math.min(Math.max(1, this.page), this.pages);
      } else {
        if (this.loading === ex) this.loading = null;
        this.pages = 1;
        this.page = 1;
        this.url = URL.createObjectURL(new Blob([data], { type: ex.content_type.startsWith("image/") ? ex.content_type : "image/png" }));
      }
      await this.draw();
      this.el.focus();
    } catch (e) {
      if (this.loading === ex) this.loading = null;
      clear(this.body, h("p", { class: "form-error" }, vt("failed") + String((e as Error)?.message ?? e)));
    }
  }

  /** Turn to a page; the presenter's turn goes to the room first. */
  async go(page: number, tell = this.presenter): Promise<void> {
    const ex = this.current;
    if (!ex) return;
    // Still loading (a late joiner told the page twice): keep it, clamped once loaded.
    if (this.loading === ex && !tell) { this.page = Math.max(1, page); return; }
    const n = Math.min(Math.max(1, page), this.pages);
    if (tell) {
      const a = await this.room.call("exhibit_page", { evidence_id: ex.id, page: n });
      if (!a.ok) { toast(a.error?.message ?? "", "error"); return; }
    }
    this.page = n;
    await this.draw();
    announce(vt("page", { n: String(n), total: String(this.pages) }));
  }

  close(hide = true): void {
    void this.doc?.destroy();
    this.doc = null;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    if (hide) { this.current = null; this.el.className = "exhibit-viewer hidden"; this.el.dataset.evidence = ""; clear(this.el); }
  }

  private frame(): void {
    const ex = this.current!;
    const nav = this.pages > 1 ? h("div", { class: "exhibit-nav" },
      this.presenter ? h("button", { class: "btn btn-small", type: "button", id: "exhibit-prev", disabled: this.page <= 1,
        onclick: () => { void this.go(this.page - 1); } }, vt("prev")) : null,
      h("span", { class: "exhibit-page", id: "exhibit-page", "data-page": String(this.page), "aria-live": "polite" },
        vt("page", { n: String(this.page), total: String(this.pages) })),
      this.presenter ? h("button", { class: "btn btn-small", type: "button", id: "exhibit-next", disabled: this.page >= this.pages,
        onclick: () => { void this.go(this.page + 1); } }, vt("next")) : null) : null;
    clear(this.el,
      h("div", { class: "exhibit-head" },
        h("h2", { id: "exhibit-h" }, `${vt("viewer")}：${ex.title}`),
        h("button", { class: "btn btn-small", type: "button", id: "exhibit-close", onclick: () => this.close() }, vt("close"))),
      h("p", { class: "hint" }, this.presenter ? vt("presenting") : vt("following")),
      nav, this.body);
  }

  private async draw(): Promise<void> {
    const run = async (): Promise<void> => {
      const ex = this.current;
      if (!ex) return;
      this.frame();
      const label = vt("pageOf", { title: ex.title, n: String(this.page), total: String(this.pages) });
      if (this.doc) {
        const page = await this.doc.getPage(this.page);
        const width = Math.max(280, Math.min(900, this.body.clientWidth || 640));
        const base = page.getViewport({ scale: 1 });
        const viewport = page.getViewport({ scale: width / base.width });
        const ratio = window.devicePixelRatio || 1;
        const canvas = h("canvas", { class: "exhibit-canvas", role: "img", "aria-label": label, "data-page": String(this.page) });
        canvas.width = Math.floor(viewport.width * ratio);
        canvas.height = Math.floor(viewport.height * ratio);
        canvas.style.width = `${Math.floor(viewport.width)}px`;
        await page.render({ canvas, viewport, transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : undefined }).promise;
        if (this.current === ex) { clear(this.body, canvas); this.body.dataset.rendered = String(this.page); }
      } else if (this.url) {
        clear(this.body, h("img", { class: "exhibit-image", src: this.url, alt: ex.title }));
        this.body.dataset.rendered = "1";
      }
    };
    this.rendering = this.rendering.then(run, run);
    await this.rendering;
  }
}

const viewers = new WeakMap<RoomClient, ExhibitViewer>();

/** The room's viewer (made on first use). */
export function exhibitViewer(room: RoomClient, fetcher: Fetcher): ExhibitViewer {
  let v = viewers.get(room);
  if (!v) { v = new ExhibitViewer(room, fetcher); viewers.set(room, v); }
  return v;
}
