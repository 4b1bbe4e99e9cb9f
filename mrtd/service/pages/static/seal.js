// The offline seal verifier: the bytes of a decoded barcode -> the same verdict and summary the service's
// `POST /v1/verify/seal` gives (mrtd.seals.verify), computed in the browser against a bundled trust list.
//
// Formats: ICAO Doc 9303-13 VDS (versions 3 and 4), the ICAO Datastructure for Barcode (IDB, RDB1/NDB1,
// zlib-compressed or not) and VDS-NC (JSON, RFC 8785 canonical form signed). Signatures: ECDSA r||s with
// WebCrypto for P-256/384/521, and @noble/curves for brainpoolP256r1/384r1/512r1 (WebCrypto has no
// brainpool). The trust list (GET /verify/trust.json) carries each seal signer's key as a curve point, how
// seals name it, its validity and whether the issuing office validated its path to a CSCA.
//
// Written by hand because no maintained JS library reads these seal formats; it is a second implementation
// of the Python verifier by necessity (the page must work without the server), and the browser tests check
// that both give the same verdict and summary on the same seals.

import { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } from "@noble/curves/misc.js";

const NOBLE = { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 };
const WEBCRYPTO = { secp256r1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const HASHES = { sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512", sha224: "SHA-224" };
const C40 = "    0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const IDB_ALG = { 1: "sha256", 2: "sha384", 3: "sha512" };
const VDSNC_ALG = { ES256: "sha256", ES384: "sha384", ES512: "sha512" };

export class SealError extends Error {}

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const ascii = (b) => String.fromCharCode(...b);

function c40(bytes, field) {
  if (bytes.length % 2) throw new SealError(`${field}: C40 data has odd length ${bytes.length}`);
  let out = "";
  for (let p = 0; p < bytes.length; p += 2) {
    const last = p === bytes.length - 2;
    if (bytes[p] === 0xfe) {
      if (!last) throw new SealError(`${field}: unlatch byte before the end`);
      out += String.fromCharCode(bytes[p + 1] - 1);
      continue;
    }
    const v = ((bytes[p] << 8) | bytes[p + 1]) - 1;
    if (v < 0 || v >= 64000) throw new SealError(`${field}: not a C40 triplet at offset ${p}`);
    const triplet = [Math.floor(v / 1600), Math.floor(v / 40) % 40, v % 40];
    for (let k = 0; k < 3; k++) {
      const c = triplet[k];
      if (c >= 3) out += C40[c];
      else if (c === 0 && last && k > 0 && triplet.slice(k).every((t) => t === 0)) break;
      else throw new SealError(`${field}: shift value ${c} outside the VDS character set`);
    }
  }
  return out;
}

// MMDDYYYY as a decimal integer in 3 bytes (Doc 9303-13 §2.3.1)
function date3(b, field) {
  const n = (b[0] << 16) | (b[1] << 8) | b[2];
  const s = String(n).padStart(8, "0");
  const iso = `${s.slice(4)}-${s.slice(0, 2)}-${s.slice(2, 4)}`;
  const d = new Date(iso + "T00:00:00Z");
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) throw new SealError(`${field}: not a date`);
  return iso;
}

// The IDB masked date: a mask byte (a bit per unknown digit of MMDDYYYY) then the 3-byte date.
function maskedDate(b, field) {
  const mask = b[0];
  const n = (b[1] << 16) | (b[2] << 8) | b[3];
  const digits = String(n).padStart(8, "0").split("");
  for (let i = 0; i < 8; i++) if (mask & (0x80 >> i)) digits[i] = "x";
  const s = digits.join("");
  const iso = `${s.slice(4)}-${s.slice(0, 2)}-${s.slice(2, 4)}`;
  if (!mask) date3(b.slice(1), field);
  return iso;
}

// A seal TLV: one tag byte, a DER length (short, 0x81, 0x82, 0x83).
function tlv(data, pos, what) {
  if (pos + 2 > data.length) throw new SealError(`${what}: cut off at offset ${pos}`);
  const tag = data[pos];
  let len = data[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || start + n > data.length) throw new SealError(`${what}: bad length at offset ${pos}`);
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | data[start + i];
    start += n;
  }
  if (start + len > data.length) throw new SealError(`${what}: length ${len} runs past the end`);
  return { tag, value: data.subarray(start, start + len), end: start + len };
}

function tlvs(data, what) {
  const out = [];
  for (let pos = 0; pos < data.length; ) {
    const t = tlv(data, pos, what);
    out.push(t);
    pos = t.end;
  }
  return out;
}

// --- VDS (Doc 9303-13) ---------------------------------------------------------------------------

function parseVds(data) {
  const version = data[1];
  if (version !== 0x02 && version !== 0x03) throw new SealError(`header.version: byte ${version} is neither 3 nor 4`);
  const country = c40(data.subarray(2, 4), "header.issuing_country");
  let pos = 4, signerId, certRef;
  if (version === 0x02) {
    const t = c40(data.subarray(4, 10), "header.signer");
    signerId = t.slice(0, 4); certRef = t.slice(4); pos = 10;
  } else {
    const t = c40(data.subarray(4, 8), "header.signer");
    signerId = t.slice(0, 4);
    const n = parseInt(t.slice(4), 16);
    if (Number.isNaN(n)) throw new SealError("header.signer: reference length is not hex");
    const size = 2 * Math.floor((n + 2) / 3);
    certRef = c40(data.subarray(8, 8 + size), "header.cert_ref");
    pos = 8 + size;
  }
  if (data.length < pos + 8) throw new SealError("header: cut off after the signer");
  const header = {
    version: version + 1, issuing_country: country, signer_id: signerId, cert_ref: certRef,
    issue_date: date3(data.subarray(pos, pos + 3), "header.issue_date"),
    signature_date: date3(data.subarray(pos + 3, pos + 6), "header.signature_date"),
    feature_ref: data[pos + 6], category: data[pos + 7],
  };
  pos += 8;
  const messages = [];
  while (pos < data.length && data[pos] !== 0xff) {
    const t = tlv(data, pos, "message");
    messages.push(t);
    pos = t.end;
  }
  let signature = null;
  const signedLength = pos;
  if (pos < data.length) {
    const t = tlv(data, pos, "signature");
    if (t.end !== data.length) throw new SealError("signature: does not end at the end of the seal");
    signature = t.value;
  }
  return { header, messages, signature, signed: data.subarray(0, signedLength) };
}

// --- IDB (ICAO Datastructure for Barcode) --------------------------------------------------------

function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const out = [];
  let bits = 0, value = 0;
  for (const ch of text) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new SealError("barcode.payload: not upper-case base32 (RFC 4648)");
    value = (value << 5) | v; bits += 5;
    if (bits >= 8) { out.push((value >> (bits - 8)) & 0xff); bits -= 8; }
  }
  return new Uint8Array(out);
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    throw new SealError("barcode.payload: flag says zlib-compressed, data does not inflate");
  }
}

async function parseIdb(text) {
  text = text.trim();
  const prefix = text.slice(0, 4);
  if (prefix[3] !== "1") throw new SealError("barcode.version: not IDB version 1");
  const flag = text.charCodeAt(4) - 65;
  if (flag < 0 || flag > 3) throw new SealError("barcode.flag: not A, B, C or D");
  const signed = Boolean(flag & 1), compressed = Boolean(flag & 2);
  let payload = base32(text.slice(5).replace(/=+$/, ""));
  if (compressed) payload = await inflate(payload);
  const header = { prefix, signed, compressed, country: c40(payload.subarray(0, 2), "header.country") };
  let pos = 2;
  if (signed) {
    header.algorithm = payload[2];
    if (!IDB_ALG[header.algorithm]) throw new SealError(`header.algorithm: ${header.algorithm} is not 1, 2 or 3`);
    header.cert_ref = hex(payload.subarray(3, 8));
    let found = false;
    for (const width of [3, 4]) {
      const end = 8 + width;
      if (end < payload.length && payload[end] === 0x61) {
        try {
          header.signature_date = width === 3 ? date3(payload.subarray(8, end), "header.signature_date")
            : maskedDate(payload.subarray(8, end), "header.signature_date");
          pos = end; found = true; break;
        } catch (e) { if (!(e instanceof SealError)) throw e; }
      }
    }
    if (!found) throw new SealError("header.signature_date: no valid date before the message group");
  }
  if (payload[pos] !== 0x61) throw new SealError(`message_group: expected tag 0x61 at offset ${pos}`);
  const group = tlv(payload, pos, "message_group");
  const messages = tlvs(group.value, "message");
  let certificate = null, signature = null;
  for (pos = group.end; pos < payload.length; ) {
    const t = tlv(payload, pos, "trailer");
    if (t.tag === 0x7e && !certificate && !signature) certificate = t.value;
    else if (t.tag === 0x7f && !signature) signature = t.value;
    else throw new SealError(`trailer: unexpected tag 0x${t.tag.toString(16)}`);
    pos = t.end;
  }
  if (signed && !signature) throw new SealError("signature: the flag says signed but there is no signature");
  return { header, messages, certificate, signature, signed: payload.subarray(0, group.end) };
}

// --- VDS-NC (JSON) -------------------------------------------------------------------------------

// RFC 8785: keys sorted by UTF-16 code units, JSON.stringify's own number and string forms.
function canonical(value) {
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  if (value && typeof value === "object") {
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}

function b64url(text) {
  const s = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(s + "=".repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function parseVdsnc(bytes) {
  let doc;
  try { doc = JSON.parse(new TextDecoder().decode(bytes)); } catch { throw new SealError("VDS-NC: not JSON"); }
  const { data, sig } = doc || {};
  if (!data || !data.hdr || !data.msg || !sig || typeof sig.alg !== "string" || !sig.cer || !sig.sigvl) {
    throw new SealError("VDS-NC: needs data.hdr, data.msg and sig.alg, sig.cer, sig.sigvl");
  }
  if (!VDSNC_ALG[sig.alg]) throw new SealError(`sig.alg: ${sig.alg} is not ES256, ES384 or ES512`);
  return { data, alg: sig.alg, certificate: b64url(sig.cer), signature: b64url(sig.sigvl),
           signed: new TextEncoder().encode(canonical(data)) };
}

// --- MRZ -> what a person checks first -----------------------------------------------------------

const SHAPES = { 90: [30, 30, 30], 72: [36, 36], 88: [44, 44] };

function mrzLines(value) {
  if (Array.isArray(value) && value.length && value.every((v) => typeof v === "string")) return value;
  if (typeof value !== "string") return null;
  const text = value.replace(/\n/g, "");
  if (!/^[A-Z0-9<]+$/.test(text)) return null;
  const widths = SHAPES[text.length];
  if (!widths) return null;
  const out = [];
  let pos = 0;
  for (const w of widths) { out.push(text.slice(pos, pos + w)); pos += w; }
  return out;
}

const spaced = (s) => s.replace(/<+$/, "").split("<").filter(Boolean).join(" ");

function checkDigit(text) {
  const weights = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const v = c === "<" ? 0 : /[0-9]/.test(c) ? Number(c) : c.charCodeAt(0) - 55;
    sum += v * weights[i % 3];
  }
  return String(sum % 10);
}

// An MRZ date as the service reads it (mrtd.mrz.dates): YYYY-MM-DD with X for a part written "<<" (only a
// date of birth may have them, Doc 9303-3 §4.7); a birth's century puts it not after today, an expiry's
// within [this year - 50, this year + 49].
function mrzDate(yymmdd, today, kind) {
  const m = /^([0-9]{2}|<<)([0-9]{2}|<<)([0-9]{2}|<<)$/.exec(yymmdd);
  if (!m) return null;
  const [yy, mm, dd] = m.slice(1).map((p) => (p === "<<" ? null : Number(p)));
  if (kind !== "birth" && (yy === null || mm === null || dd === null)) return null;
  const part = (v, n) => (v === null ? "X".repeat(n) : String(v).padStart(n, "0"));
  const ty = today.getUTCFullYear();
  let year = null;
  if (yy !== null && kind === "birth") {
    year = ty - (((ty - yy) % 100) + 100) % 100;
    if (`${part(year, 4)}-${part(mm ?? 1, 2)}-${part(dd ?? 1, 2)}` > today.toISOString().slice(0, 10)) year -= 100;
  } else if (yy !== null) {
    const low = ty - 50;
    year = low + (((yy - low) % 100) + 100) % 100;
  }
  return `${part(year, 4)}-${part(mm, 2)}-${part(dd, 2)}`;
}

// One record from TD1 (3 x 30) or TD2/TD3/MRV (2 lines): names, number, dates; null when the check
// digits of the number and dates do not hold (it is then not an MRZ, or not this shape).
function decodeMrz(lines, today) {
  let names, number, numberCd, birth, birthCd, expiry, expiryCd, fmt;
  const l1 = lines[0], l2 = lines[1];
  if (lines.length === 3) {
    fmt = "TD1";
    number = l1.slice(5, 14); numberCd = l1[14];
    birth = l2.slice(0, 6); birthCd = l2[6]; expiry = l2.slice(8, 14); expiryCd = l2[14];
    names = lines[2];
  } else {
    fmt = l1.length === 44 ? "TD3" : "TD2";
    if (l1[0] === "V") fmt = l1.length === 44 ? "MRV-A" : "MRV-B";
    names = l1.slice(5);
    number = l2.slice(0, 9); numberCd = l2[9];
    birth = l2.slice(13, 19); birthCd = l2[19]; expiry = l2.slice(21, 27); expiryCd = l2[27];
  }
  if (checkDigit(number) !== numberCd || checkDigit(birth) !== birthCd || checkDigit(expiry) !== expiryCd) return null;
  const [primary, secondary = ""] = names.split("<<");
  return {
    holder: [spaced(primary), spaced(secondary.replace(/<+$/, ""))].filter(Boolean).join(" "),
    date_of_birth: mrzDate(birth, today, "birth"),
    document_number: number.replace(/<+$/, ""),
    document_type: `${l1.slice(0, 2).replace(/<+$/, "")} (${fmt})`,
    date_of_expiry: mrzDate(expiry, today, "expiry"),
    issuing_state: l1.slice(2, 5).replace(/<+$/, ""),
  };
}

function summaryOf(content, header, signer, today) {
  const values = [...Object.values(content)];
  while (values.length) {
    const v = values.shift();
    if (v && typeof v === "object" && !Array.isArray(v)) { values.push(...Object.values(v)); continue; }
    const lines = mrzLines(v);
    const record = lines && decodeMrz(lines, today);
    if (record) return signer ? { ...record, signer: `${signer.subject} (serial ${signer.serial})` } : record;
  }
  const out = {};
  const pid = content.pid || {};
  for (const [k, name] of [["n", "holder"], ["dob", "date_of_birth"], ["i", "document_number"]]) {
    if (typeof pid[k] === "string" || typeof pid[k] === "number") out[name] = String(pid[k]);
  }
  const state = header.issuing_state || header.issuing_country || header.country;
  if (state) out.issuing_state = String(state).trim();
  if (signer) out.signer = `${signer.subject} (serial ${signer.serial})`;
  return out;
}

// The messages as text where they are C40 (an MRZ, a number), nested TLVs opened (IDB visa and ETD).
function contentOf(messages, nestedTags) {
  const out = {};
  for (const m of messages) {
    const key = `tag_${m.tag.toString(16).padStart(2, "0")}`;
    if (nestedTags.includes(m.tag)) {
      try { out[key] = contentOf(tlvs(m.value, "message"), []); continue; } catch { /* not nested */ }
    }
    try {
      const text = c40(m.value, key);
      out[key] = /^[A-Z0-9 ]+$/.test(text) ? text.replace(/ /g, "<") : hex(m.value);
    } catch {
      out[key] = hex(m.value);
    }
  }
  return out;
}

// --- signatures and trust ------------------------------------------------------------------------

async function digest(hashName, data) {
  return new Uint8Array(await crypto.subtle.digest(HASHES[hashName], data));
}

function fromHex(text) {
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}

export async function verifySignature(signer, hashName, signed, signature) {
  const point = fromHex(signer.point);
  if (WEBCRYPTO[signer.curve]) {
    const key = await crypto.subtle.importKey("raw", point, { name: "ECDSA", namedCurve: WEBCRYPTO[signer.curve] },
                                              false, ["verify"]);
    return crypto.subtle.verify({ name: "ECDSA", hash: HASHES[hashName] }, key, signature, signed);
  }
  const curve = NOBLE[signer.curve];
  if (!curve) throw new SealError(`signer: curve ${signer.curve} is not one this page verifies`);
  const hash = await digest(hashName, signed);
  try {
    return curve.verify(signature, hash, point, { prehash: false, lowS: false });
  } catch {
    return false; // a signature of the wrong length for the curve
  }
}

const day = (iso) => iso.slice(0, 10);

function trustChecks(signer, signedDay, purpose, checks) {
  const inPeriod = day(signer.not_before) <= signedDay && signedDay <= day(signer.not_after);
  checks.push({ name: "signer-validity", passed: inPeriod, required: true,
                reason: `signer valid ${day(signer.not_before)} .. ${day(signer.not_after)}, signed ${signedDay}` });
  const chained = (signer.purposes || []).includes(purpose);
  checks.push({ name: "chain", passed: chained, required: true,
                reason: chained ? `the issuing office validated the signer's path to its CSCA (${purpose})`
                                : `the signer does not chain to a trusted CSCA for ${purpose}` });
  return inPeriod && chained;
}

async function finish(fmt, header, content, checks, signer, hashName, signed, signature, signedDay, today) {
  const signerInfo = { subject: signer.subject, issuer: signer.issuer, serial: signer.serial, sha1: signer.sha1 };
  let good = false;
  try { good = await verifySignature(signer, hashName, signed, signature); } catch (e) {
    checks.push({ name: "signature", passed: false, required: true, reason: String(e.message || e) });
  }
  const report = { format: fmt, header, content, checks, signer: signerInfo };
  if (!good) {
    if (!checks.some((c) => c.name === "signature")) {
      checks.push({ name: "signature", passed: false, required: true, reason: "the signature does not verify" });
    }
    return { ...report, verdict: "invalid" };
  }
  checks.push({ name: "signature", passed: true, required: true,
                reason: `ECDSA with ${hashName.toUpperCase()} over ${signed.length} bytes` });
  const trusted = trustChecks(signer, signedDay, fmt === "vdsnc" ? "vdsnc" : "seal", checks);
  return { ...report, verdict: trusted ? "valid" : "untrusted" };
}

async function sha256hex(bytes) { return hex(await digest("sha256", bytes)); }

// Decode `bytes` (a barcode's content) and verify it against `trust` ({signers: [...]}) as of `now`.
export async function verifySeal(bytes, trust, now = new Date()) {
  const signers = trust.signers || [];
  const today = now;
  const text = ascii(bytes.subarray(0, 3));
  let report;
  if (bytes[0] === 0xdc) {
    const seal = parseVds(bytes);
    const h = seal.header;
    const content = contentOf(seal.messages, []);
    const checks = [];
    if (!seal.signature) {
      report = { format: "vds", header: h, content, checks: [{ name: "signature", passed: false, required: true,
                 reason: "the seal carries no signature zone" }], verdict: "unsigned", signer: null };
    } else {
      const signer = signers.find((s) => s.signer_id === h.signer_id &&
        ((/^[0-9A-Fa-f]+$/.test(h.cert_ref) && BigInt("0x" + h.cert_ref) === BigInt("0x" + s.serial)) ||
         h.cert_ref.toLowerCase() === s.sha1));
      if (!signer) {
        checks.push({ name: "signer", passed: false, required: true,
                      reason: `no certificate for signer ${h.signer_id} reference ${h.cert_ref}` });
        report = { format: "vds", header: h, content, checks, verdict: "unknown-signer", signer: null };
      } else {
        checks.push({ name: "signer", passed: true, required: true, reason: `${signer.subject} serial ${signer.serial}` });
        report = await finish("vds", h, content, checks, signer, signer.hash, seal.signed, seal.signature,
                              h.signature_date, today);
      }
    }
  } else if (text === "RDB" || text === "NDB") {
    const seal = await parseIdb(ascii(bytes));
    const h = seal.header;
    const content = contentOf(seal.messages, [0x01, 0x02]);
    const checks = [];
    if (!seal.signature) {
      report = { format: "idb", header: h, content, checks: [{ name: "signature", passed: false, required: true,
                 reason: "the IDB is unsigned" }], verdict: "unsigned", signer: null };
    } else {
      let signer;
      if (seal.certificate) {
        const sum = await sha256hex(seal.certificate);
        signer = signers.find((s) => s.sha256 === sum);
      } else {
        signer = signers.find((s) => s.idb_ref === h.cert_ref);
      }
      if (!signer) {
        checks.push({ name: "signer", passed: false, required: true,
                      reason: seal.certificate ? "the embedded signer certificate is not in the trust list"
                                               : `no certificate whose SHA-1 ends in ${h.cert_ref}` });
        report = { format: "idb", header: h, content, checks, verdict: "unknown-signer", signer: null };
      } else {
        checks.push({ name: "signer", passed: true, required: true, reason: `${signer.subject} serial ${signer.serial}` });
        const signedDay = h.signature_date && !h.signature_date.includes("x") ? h.signature_date
          : now.toISOString().slice(0, 10);
        report = await finish("idb", h, content, checks, signer, IDB_ALG[h.algorithm], seal.signed, seal.signature,
                              signedDay, today);
      }
    }
  } else if (bytes[0] === 0x7b || new TextDecoder().decode(bytes).trim().startsWith("{")) {
    const seal = parseVdsnc(bytes);
    const header = { type: seal.data.hdr.t, version: seal.data.hdr.v, issuing_state: seal.data.hdr.is, alg: seal.alg };
    const sum = await sha256hex(seal.certificate);
    const signer = signers.find((s) => s.sha256 === sum);
    const checks = [];
    if (!signer) {
      checks.push({ name: "signer", passed: false, required: true,
                    reason: "the embedded signer certificate is not in the trust list" });
      report = { format: "vdsnc", header, content: seal.data.msg, checks, verdict: "unknown-signer", signer: null };
    } else {
      checks.push({ name: "signer", passed: true, required: true, reason: `embedded: ${signer.subject} serial ${signer.serial}` });
      report = await finish("vdsnc", header, seal.data.msg, checks, signer, VDSNC_ALG[seal.alg], seal.signed,
                            seal.signature, now.toISOString().slice(0, 10), today);
    }
  } else {
    throw new SealError("input: the barcode holds neither a VDS (0xDC), an IDB string nor VDS-NC JSON");
  }
  report.ok = report.verdict === "valid";
  report.summary = summaryOf(report.content, report.header, report.signer, today);
  return report;
}
