// The product rules the pages apply, as the generator defines them in Rust
// (generator/src/site/rules.rs writes their data into rules-data.mjs). The
// cases of tests/rules/ hold for this module and for the Rust side alike
// (see docs/rules.md).

import data from "./rules-data.mjs";

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
