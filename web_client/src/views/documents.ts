// A case's sealed documents, as the clerk's list and the mediator's case page show them:
// downloads, the 司法确认 deadline with the days left (人民调解法 art. 33), and the court
// bundle for an agreement.

import { api, hasApi, type Schema } from "../api";
import { h } from "../dom";
import { t } from "../i18n";

/** A sealed document of the case (agreements' OpenAPI model, api-types.ts). */
export type DocumentOut = Schema<"DocumentOut">;

/** "司法确认申请期限：2027-01-05（剩 12 天）"; overdue said as such. Null for a record. */
export function deadlineLine(d: DocumentOut): HTMLElement | null {
  const date = d.judicial_confirmation_deadline;
  const left = d.judicial_confirmation_days_left;
  if (!date || left === null || left === undefined) return null;
  const note = left < 0 ? t("jcOverdue", { n: String(-left) }) : left === 0 ? t("jcLastDay") : t("jcDaysLeft", { n: String(left) });
  const cls = left < 0 ? "deadline deadline-overdue" : left <= 7 ? "deadline deadline-soon" : "deadline";
  return h("span", { class: cls, "data-deadline": date, "data-days-left": String(left) }, t("jcDeadline", { date, left: note }));
}

export async function documentsList(caseId: string): Promise<HTMLElement | null> {
  if (!(await hasApi("/documents"))) return null;
  const { items } = await api<Schema<"DocumentList">>("GET", `cases/${caseId}/documents`);
  return h("div", { class: "documents" }, h("h3", {}, t("documents")),
    items.length ? h("ul", { class: "list", id: "documents" }, items.map((d) => h("li", { class: "row", "data-document": d.id },
      h("span", {}, h("strong", {}, d.kind === "agreement" ? t("agreement") : d.kind === "record" ? t("record") : d.kind),
        h("span", { class: "muted" }, ` v${d.version_number} · ${new Date(d.sealed_at).toLocaleString()}`),
        deadlineLine(d) ? h("br") : null, deadlineLine(d)),
      h("span", { class: "row-actions" },
        h("a", { class: "btn btn-small", href: d.pdf_url, download: "" }, `${t("download")} PDF`),
        h("a", { class: "btn btn-small", href: d.docx_url, download: "" }, `${t("download")} DOCX`),
        d.court_bundle_url ? h("a", { class: "btn btn-small", href: d.court_bundle_url, download: "", "data-court-bundle": d.session_id }, t("courtBundle")) : null))))
      : h("p", { class: "muted" }, t("noDocuments")));
}
