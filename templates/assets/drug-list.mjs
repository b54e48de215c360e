// A visitor's drug list, without the page: how it is written in a link and
// in localStorage, and how the type-ahead finds drugs in the published
// name shards (docs/drug-data.md). No DOM here, so node's test runner
// imports it directly. The pharmacy types, days supplies, RXCUI format and
// shard rule come from the shared rules (rules.mjs).

import { isRxcui, PHARMACIES, SUPPLIES } from "./rules.mjs";

/** The longest list kept; a longer link is cut here. */
export const MAX_DRUGS = 20;

/** The localStorage key of the list. */
export const STORAGE_KEY = "wg.drugs";

/** Lower-cased letters and digits, single spaces: how names are matched. */
export function fold(text) {
  return String(text)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

/** "Lipitor 20 MG Oral Tablet". */
export function drugLabel(drug) {
  return [drug.name, drug.strength, drug.dose_form].filter(Boolean).join(" ");
}

/**
 * The entries of a shard that match what was typed: the name or the
 * generic name starts with it (so "atorv" finds Lipitor). Names first,
 * then generic-name matches; at most `limit`.
 */
export function search(shard, query, limit = 12) {
  const q = fold(query);
  if (q.length < 2 || !shard || !Array.isArray(shard.drugs)) return [];
  const byName = [];
  const byGeneric = [];
  for (const d of shard.drugs) {
    if (fold(d.name).startsWith(q)) byName.push(d);
    else if (fold(d.generic_name).startsWith(q)) byGeneric.push(d);
  }
  return [...byName, ...byGeneric].slice(0, limit);
}

/** A valid entry or null. */
export function entry(rxcui, days, pharmacy) {
  const d = Number(days);
  if (!isRxcui(String(rxcui)) || !SUPPLIES[d] || !Object.hasOwn(PHARMACIES, pharmacy)) return null;
  return { rxcui: String(rxcui), days: d, pharmacy };
}

/** Valid entries only, each drug once (its first entry), at most MAX_DRUGS. */
export function clean(list) {
  if (!Array.isArray(list)) return [];
  const seen = new Set();
  const out = [];
  for (const e of list) {
    const ok = e && entry(e.rxcui, e.days, e.pharmacy);
    if (!ok || seen.has(ok.rxcui)) continue;
    seen.add(ok.rxcui);
    out.push(ok);
    if (out.length === MAX_DRUGS) break;
  }
  return out;
}

const CODE_TO_PHARMACY = Object.fromEntries(Object.entries(PHARMACIES).map(([k, v]) => [v.code, k]));

/** The list as a link writes it: `9100003.30p,9100002.90m`. */
export function encode(list) {
  return clean(list)
    .map((e) => `${e.rxcui}.${e.days}${PHARMACIES[e.pharmacy].code}`)
    .join(",");
}

/** Reads `encode`'s form; anything unreadable is left out. */
export function decode(text) {
  const out = [];
  for (const part of String(text || "").split(",")) {
    const m = /^([^.]*)\.([0-9]+)([a-z])$/.exec(part.trim());
    if (!m || !Object.hasOwn(CODE_TO_PHARMACY, m[3]) || !Object.hasOwn(SUPPLIES, m[2])) continue;
    out.push({ rxcui: m[1], days: Number(m[2]), pharmacy: CODE_TO_PHARMACY[m[3]] });
  }
  return clean(out);
}

/**
 * The list a URL fragment carries (`#drugs=...`), or null when it carries
 * none. The fragment never reaches a server.
 */
export function fromHash(hash) {
  const params = new URLSearchParams(String(hash || "").replace(/^#/, ""));
  return params.has("drugs") ? decode(params.get("drugs")) : null;
}

/** The fragment for a list, keeping any other fragment parameters. */
export function toHash(hash, list) {
  const params = new URLSearchParams(String(hash || "").replace(/^#/, ""));
  const text = encode(list);
  if (text) params.set("drugs", text);
  else params.delete("drugs");
  // URLSearchParams would write the commas as %2C; a link stays readable.
  const s = params.toString().replace(/%2C/gi, ",");
  return s ? `#${s}` : "";
}

/** How one entry is filled, in words: "every month, mail order". */
export function howFilled(e) {
  return `${SUPPLIES[e.days].short}, ${PHARMACIES[e.pharmacy].label.toLowerCase()}`;
}
