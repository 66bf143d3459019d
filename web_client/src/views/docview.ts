// A server-rendered document (the agreement's preview) copied into the page through an
// allow-list of plain elements with no attributes: no markup from a document can run or
// restyle the page.

const ALLOWED = new Set(["H1", "H2", "H3", "H4", "P", "OL", "UL", "LI", "TABLE", "THEAD", "TBODY", "TR", "TD", "TH",
  "STRONG", "EM", "B", "I", "BR", "DIV", "SPAN", "SECTION", "ARTICLE", "HEADER", "FOOTER", "DL", "DT", "DD", "HR"]);

export function sanitize(html: string): DocumentFragment {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const out = document.createDocumentFragment();
  const copy = (src: Node, dst: Node): void => {
    for (const n of Array.from(src.childNodes)) {
      if (n.nodeType === Node.TEXT_NODE) { dst.appendChild(document.createTextNode(n.textContent ?? "")); continue; }
      if (n.nodeType !== Node.ELEMENT_NODE) continue;
      const el = n as Element;
      if (["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT"].includes(el.tagName)) continue;
      if (!ALLOWED.has(el.tagName)) { copy(el, dst); continue; }
      // Document headings sit below the panel's own h2.
      const tag = /^H[1-4]$/.test(el.tagName) ? `h${Math.min(6, Number(el.tagName[1]) + 2)}` : el.tagName.toLowerCase();
      const c = document.createElement(tag);
      for (const a of ["colspan", "rowspan"]) if (el.hasAttribute(a)) c.setAttribute(a, el.getAttribute(a)!);
      copy(el, c);
      dst.appendChild(c);
    }
  };
  copy(doc.body, out);
  return out;
}
