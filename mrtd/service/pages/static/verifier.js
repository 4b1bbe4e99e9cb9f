// The verifier page: choose or photograph a seal, get a verdict card. Online: the issuing office verifies
// (POST /v1/verify/seal) and answers the document's status (POST /v1/status). On this device (or when the
// network is gone): PDF.js renders a PDF's first pages, zxing-cpp (WebAssembly) reads the barcode, seal.js
// verifies it against the trust list.

import { verifySeal } from "/static/seal.js";
import { prepareZXingModule, readBarcodes } from "/static/vendor/zxing-wasm/dist/es/reader/index.js";

const WASM = "/static/vendor/zxing-wasm/dist/reader/zxing_reader.wasm";
const PDFJS = "/static/vendor/pdfjs-dist/build/pdf.min.mjs";
const PDFJS_WORKER = "/static/vendor/pdfjs-dist/build/pdf.worker.min.mjs";
const BARCODES = { formats: ["QRCode", "DataMatrix"], tryHarder: true, maxNumberOfSymbols: 4 };
// Load the WebAssembly reader from this site now (the worker keeps it), not from a CDN on the first photo.
prepareZXingModule({ overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM : prefix + path) },
                     fireImmediately: true }).catch(() => {});

const $ = (id) => document.getElementById(id);
const T = JSON.parse($("messages").textContent);
const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
const STORE = "mrtd-trust";

function loadTrust() {
  const bundled = JSON.parse($("trust-list").textContent);
  try {
    const kept = JSON.parse(localStorage.getItem(STORE) || "null");
    if (kept && kept.issuer === bundled.issuer && kept.made_at > bundled.made_at) return kept;
  } catch { /* nothing kept */ }
  return bundled;
}

let trust = loadTrust();

function showTrust() {
  $("trust-info").textContent = fmt(T.trust, { issuer: trust.issuer, when: trust.made_at.slice(0, 16).replace("T", " "),
                                               cscas: trust.cscas.length, signers: trust.signers.length });
}

async function refreshTrust() {
  try {
    const answer = await fetch("/verify/trust.json", { cache: "no-store" });
    if (!answer.ok) throw new Error(String(answer.status));
    trust = await answer.json();
    localStorage.setItem(STORE, JSON.stringify(trust));
    showTrust();
    $("offline-info").textContent = T["trust-refreshed"];
  } catch {
    $("offline-info").textContent = T["trust-failed"];
  }
}

async function decodeImage(file) {
  const options = BARCODES;
  let found = (await readBarcodes(file, options)).filter((r) => r.isValid);
  if (!found.length) {
    // A small seal in a photo: try again at twice the size, as the service does.
    const bitmap = await createImageBitmap(file);
    const canvas = new OffscreenCanvas(bitmap.width * 2, bitmap.height * 2);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    found = (await readBarcodes(ctx.getImageData(0, 0, canvas.width, canvas.height), options)).filter((r) => r.isValid);
  }
  if (!found.length) throw new Error(T["no-barcode"]);
  return found[0].bytes;
}

// A PDF's first pages rendered as the service renders them (mrtd.limits.pdf_pages: the same resolution and
// pixel budget), each searched for a seal until one is found. PDF.js is loaded only when a PDF is chosen.
async function decodePdf(file) {
  const limits = JSON.parse($("pdf-limits").textContent);
  const pdfjs = await import(PDFJS);
  pdfjs.GlobalWorkerOptions.workerSrc = PDFJS_WORKER;
  const task = pdfjs.getDocument({ data: new Uint8Array(await file.arrayBuffer()), isEvalSupported: false,
                                   enableXfa: false });
  let doc;
  try {
    doc = await task.promise;
  } catch (e) {
    await task.destroy();
    throw new Error(`${T["no-pdf"]} (${e.name || e})`);
  }
  try {
    let budget = limits.pixels;
    for (let n = 1; n <= Math.min(doc.numPages, limits.pages) && budget >= 10000; n++) {
      const page = await doc.getPage(n);
      const { width, height } = page.getViewport({ scale: 1 }); // points
      let scale = limits.dpi / 72;
      if (width * height * scale * scale > budget) scale = Math.sqrt(budget / (width * height));
      budget -= Math.floor(width * height * scale * scale);
      const viewport = page.getViewport({ scale });
      const canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      await page.render({ canvas, canvasContext: ctx, viewport }).promise;
      const found = (await readBarcodes(ctx.getImageData(0, 0, canvas.width, canvas.height), BARCODES))
        .filter((r) => r.isValid);
      page.cleanup();
      if (found.length) return found[0].bytes;
    }
  } finally {
    await task.destroy();
  }
  throw new Error(T["no-barcode"]);
}

async function verifyHere(file) {
  $("progress").textContent = T.reading;
  const pdf = file.type === "application/pdf" || file.name.toLowerCase().endsWith(".pdf");
  const bytes = await (pdf ? decodePdf(file) : decodeImage(file));
  return { report: await verifySeal(bytes, trust, new Date()), where: "local", status: null };
}

async function verifyOnline(file) {
  $("progress").textContent = T.asking;
  const answer = await fetch("/v1/verify/seal", { method: "POST", body: file,
                                                   headers: { "Content-Type": file.type || "application/octet-stream" } });
  const report = await answer.json();
  if (!answer.ok) throw Object.assign(new Error(report.detail || String(answer.status)), { fromServer: true });
  let status = null;
  const s = report.summary || {};
  if (s.document_number && s.date_of_birth && s.date_of_expiry) {
    const asked = await fetch("/v1/status", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ number: s.document_number, date_of_birth: s.date_of_birth, date_of_expiry: s.date_of_expiry }) });
    if (asked.ok) status = (await asked.json()).status;
  }
  return { report, where: "online", status };
}

function show(result, ms) {
  const { report, where, status } = result;
  const s = report.summary || {};
  const card = $("card");
  card.hidden = false;
  card.dataset.verdict = report.verdict;
  card.dataset.where = where;
  $("verdict").textContent = T[report.verdict] || report.verdict;
  $("verdict-why").textContent = T[`${report.verdict}-why`] || "";
  for (const [id, key] of [["v-holder", "holder"], ["v-birth", "date_of_birth"], ["v-number", "document_number"],
                           ["v-type", "document_type"], ["v-expiry", "date_of_expiry"], ["v-state", "issuing_state"],
                           ["v-signer", "signer"]]) {
    $(id).textContent = s[key] || "—";
  }
  $("v-status").textContent = status ? T[`status-${status}`] || status : T["status-offline"];
  $("v-status").dataset.status = status || "";
  // a genuine seal on a document the office has ended: said at a glance, above the data
  const ended = ["voided", "reported-lost", "reported-stolen"].includes(status);
  card.dataset.status = ended ? status : "";
  $("status-warning").hidden = !ended;
  $("status-warning").textContent = ended ? fmt(T["status-warning"], { status: T[`status-${status}`] }) : "";
  $("v-where").textContent = T[`where-${where}`];
  const rows = $("v-checks");
  rows.replaceChildren(...(report.checks || []).map((c) => {
    const tr = document.createElement("tr");
    for (const text of [c.name, c.passed ? T.pass : T.fail, c.reason]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
  $("v-content").textContent = JSON.stringify({ format: report.format, header: report.header, content: report.content }, null, 1);
  $("progress").textContent = fmt(T.done, { ms: Math.round(ms) });
  window.mrtdLast = { verdict: report.verdict, where, status, ms, summary: s };
  document.body.dataset.lastMs = String(ms);
}

async function verify(file) {
  const start = performance.now();
  $("card").hidden = true;
  window.mrtdLast = null;
  const mode = document.querySelector("input[name=mode]:checked").value;
  try {
    let result;
    if (mode === "auto" && navigator.onLine) {
      try {
        result = await verifyOnline(file);
      } catch (e) {
        if (e.fromServer) throw e;
        result = await verifyHere(file); // the network went away: verify here
      }
    } else {
      result = await verifyHere(file);
    }
    show(result, performance.now() - start);
  } catch (e) {
    $("progress").textContent = `${T.error} ${e.message || e}`;
    window.mrtdLast = { error: String(e.message || e), ms: performance.now() - start };
  }
}

for (const id of ["camera", "file"]) {
  $(id).addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) verify(file);
    event.target.value = "";
  });
}
$("refresh-trust").addEventListener("click", refreshTrust);
showTrust();

if ("serviceWorker" in navigator) {
  $("offline-info").textContent = T["offline-preparing"];
  navigator.serviceWorker.register("/verify/sw.js", { scope: "/verify/" }).then(() => navigator.serviceWorker.ready)
    .then(() => { $("offline-info").textContent = T["offline-ready"]; document.body.dataset.offlineReady = "1"; })
    .catch(() => { $("offline-info").textContent = T["offline-unsupported"]; });
} else {
  $("offline-info").textContent = T["offline-unsupported"];
}
window.mrtdVerify = verify; // for the browser tests and the benchmark: the same path a chosen file takes
