// The product rules the page script applies, as the generator defines them
// in Rust: `generator build` writes their data in place of the placeholder
// at the bottom and publishes this file under a hashed name, loaded before
// site.js. The cases of tests/rules/ hold for this file and for the Rust
// side alike (see docs/rules.md).
((root, data) => {
  'use strict';
  if (!data) throw new Error('rules.js was served without the data the build writes into it');

  const planId = new RegExp(data.plan_id.pattern);
  const yes = new Set(data.feature_words.yes);
  const no = new Set(data.feature_words.no);
  const separators = new Set(data.feature_words.key_separators);
  // ASCII whitespace only, as the Rust side trims and splits.
  const isAsciiSpace = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';
  // Trimmed, ASCII letters lower-cased: nothing else, so both sides agree.
  const normalize = (v) =>
    String(v)
      .replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '')
      .replace(/[A-Z]/g, (c) => c.toLowerCase());

  /** A feature key as a label: `mail_order_pharmacy` -> "Mail order pharmacy". */
  function featureLabel(key) {
    const words = [];
    let word = '';
    for (const c of String(key)) {
      if (isAsciiSpace(c) || separators.has(c)) {
        if (word) words.push(word);
        word = '';
      } else {
        word += c;
      }
    }
    if (word) words.push(word);
    if (!words.length) return String(key);
    const text = words.join(' ');
    const first = String.fromCodePoint(text.codePointAt(0));
    return first.toUpperCase() + text.slice(first.length);
  }

  root.WhateverRules = Object.freeze({
    /** Whether the site publishes a plan with this id (so it may be in a URL). */
    isPlanId: (id) => typeof id === 'string' && planId.test(id),
    /** Whether a feature value means the plan has the feature. */
    isYes: (v) => v != null && yes.has(normalize(v)),
    /** Whether a feature value means the plan does not have it. */
    isNo: (v) => v != null && no.has(normalize(v)),
    featureLabel,
  });
})(globalThis, /*@rules@*/ null);
