// The product rules the pages apply, as the generator defines them in Rust
// (generator/src/site/rules.rs writes their data into rules-data.mjs). The
// cases of tests/rules/ hold for this module and for the Rust side alike
// (see docs/rules.md).

import data from "./rules-data.mjs";
import { cents } from "./format.mjs";

const planId = new RegExp(data.plan_id.pattern);
const yes = new Set(data.feature_words.yes);
const no = new Set(data.feature_words.no);
const separators = new Set(data.feature_words.key_separators);
// ASCII whitespace only, as the Rust side trims and splits.
const isAsciiSpace = (c) => c === " " || c === "\t" || c === "\n" || c === "\f" || c === "\r";
// Trimmed, ASCII letters lower-cased: nothing else, so both sides agree.
const normalize = (v) =>
  String(v)
    .replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "")
    .replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Whether the site publishes a plan with this id (so it may be in a URL). */
export const isPlanId = (id) => typeof id === "string" && planId.test(id);
/** Whether a feature value means the plan has the feature. */
export const isYes = (v) => v != null && yes.has(normalize(v));
/** Whether a feature value means the plan does not have it. */
export const isNo = (v) => v != null && no.has(normalize(v));

/** A feature key as a label: `mail_order_pharmacy` -> "Mail order pharmacy". */
export function featureLabel(key) {
  const words = [];
  let word = "";
  for (const c of String(key)) {
    if (isAsciiSpace(c) || separators.has(c)) {
      if (word) words.push(word);
      word = "";
    } else {
      word += c;
    }
  }
  if (word) words.push(word);
  if (!words.length) return String(key);
  const text = words.join(" ");
  const first = String.fromCodePoint(text.codePointAt(0));
  return first.toUpperCase() + text.slice(first.length);
}

const zip = new RegExp(data.zip.pattern);
/** Whether a text is a ZIP code the site has pages for: five ASCII digits. */
export const isZip = (text) => typeof text === "string" && zip.test(text);

const rxcui = new RegExp(data.rxcui.pattern);
/** Whether a text is an RxNorm concept id (RXCUI): 1 to 10 ASCII digits. */
export const isRxcui = (text) => typeof text === "string" && rxcui.test(text);

/**
 * Pharmacy types by the word the JSON spells them with, in the order the
 * page offers them: the letter a drug-list link writes, the choice's label
 * and the words inside a sentence.
 */
export const PHARMACIES = Object.fromEntries(
  data.pharmacies.map((p) => [p.word, { code: p.code, label: p.label, phrase: p.phrase }]),
);

/** Days supplies by their days: how often a fill happens, in words. */
export const SUPPLIES = Object.fromEntries(data.days_supplies.map((s) => [s.days, { label: s.label, short: s.short }]));

/**
 * The drug-name shard a name is listed in, or a typed query is looked up
 * in: its first letters or digits, lower-cased, other characters skipped;
 * "" when there are none.
 */
export function shardOf(text) {
  let out = "";
  for (const ch of String(text).toLowerCase()) {
    if (/[a-z0-9]/.test(ch)) out += ch;
    if (out.length === data.drug_shard.len) break;
  }
  return out;
}

/** What the yearly figure without drugs is called, and the note beside it. */
export const YEARLY_LABEL = data.yearly_cost.label;
export const YEARLY_NOTE = data.yearly_cost.note;
/** Twelve premiums plus the deductible, in cents: the yearly figure without drugs. */
export const yearlyCents = (p) => data.yearly_cost.months * cents(p.avg_monthly_cost) + cents(p.annual_deductible);
