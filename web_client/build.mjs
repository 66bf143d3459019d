// Build the client: bundle src/main.ts and src/styles.css with esbuild into dist/assets
// with content hashes, and write dist/index.html pointing at them. No inline script or
// style anywhere: the server's Content-Security-Policy forbids both.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const watch = process.argv.includes("--watch");

function hashed(name, ext, text) {
  const h = createHash("sha256").update(text).digest("hex").slice(0, 10);
  return `${name}-${h}.${ext}`;
}

// The PDF renderer's worker (pdfjs-dist, from npm): served from our own origin under a
// hashed name; the app learns that name at build time. No CDN.
const PDF_WORKER = join(root, "node_modules/pdfjs-dist/build/pdf.worker.min.mjs");
// Its character maps and standard fonts: a Chinese PDF that does not embed its fonts (most
// scanned-then-typed court and office forms) renders its text only with the Adobe-GB1
// maps. Served from /assets/pdf/{cmaps,standard_fonts}/.
const PDF_DATA = ["cmaps", "standard_fonts"];

async function build() {
  const worker = readFileSync(PDF_WORKER);
  const workerName = hashed("pdf.worker", "js", worker);
  const result = await esbuild.build({
    define: {
      __PDF_WORKER_URL__: JSON.stringify(`/assets/${workerName}`),
      __PDF_CMAP_URL__: JSON.stringify("/assets/pdf/cmaps/"),
      __PDF_FONT_URL__: JSON.stringify("/assets/pdf/standard_fonts/"),
    },
    entryPoints: [join(root, "src/main.ts"), join(root, "src/styles.css")],
    bundle: true,
    minify: !watch,
    sourcemap: false,
    format: "esm",
    target: ["chrome100", "safari15", "firefox100"],
    write: false,
    outdir: "out",
    legalComments: "none",
    logLevel: "warning",
  });
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "assets", workerName), worker);
  for (const d of PDF_DATA) {
    cpSync(join(root, "node_modules/pdfjs-dist", d), join(dist, "assets", "pdf", d), { recursive: true });
  }
  const names = {};
  for (const f of result.outputFiles) {
    const ext = f.path.endsWith(".css") ? "css" : "js";
    const name = hashed("app", ext, f.contents);
    writeFileSync(join(dist, "assets", name), f.contents);
    names[ext] = name;
  }
  const html = readFileSync(join(root, "index.html"), "utf8")
    .replace("%CSS%", `/assets/${names.css}`)
    .replace("%JS%", `/assets/${names.js}`);
  writeFileSync(join(dist, "index.html"), html);
  const size = result.outputFiles.reduce((n, f) => n + f.contents.length, 0);
  console.log(`built dist/ (${names.js}, ${names.css}; ${(size / 1024).toFixed(0)} KiB)`);
}

await build();
if (watch) {
  const { watch: fsWatch } = await import("node:fs");
  let timer = null;
  fsWatch(join(root, "src"), { recursive: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(() => build().catch((e) => console.error(e.message)), 150);
  });
  console.log("watching src/ …");
}
