// The browser side of the shared rule tables: the plan-id rule and the
// feature words, as rules.js applies them with the data the generator wrote
// into it. The Rust side runs the same tables (whatever-database's unit
// tests). Run by `cargo nextest run -p generator --test rules`, which emits
// rules.js and passes its path in WHATEVER_RULES_JS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from './load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const table = (name) => JSON.parse(readFileSync(path.join(here, name), 'utf8'));

function rules() {
  const file = process.env.WHATEVER_RULES_JS;
  assert.ok(file, 'set WHATEVER_RULES_JS to an emitted rules.js (cargo nextest run -p generator --test rules)');
  return loadRules(file);
}

test('plan ids: every case of plan-ids.json', () => {
  const r = rules();
  const cases = table('plan-ids.json');
  assert.ok(cases.length > 20);
  for (const c of cases) assert.equal(r.isPlanId(c.id), c.publishable, `${JSON.stringify(c.id.slice(0, 80))}: ${c.why}`);
});

test('feature values: every case of feature-words.json', () => {
  const r = rules();
  for (const c of table('feature-words.json').values) {
    const yes = r.isYes(c.value);
    const no = r.isNo(c.value);
    assert.ok(!(yes && no), `${JSON.stringify(c.value)} is both`);
    assert.equal(yes ? 'yes' : no ? 'no' : 'other', c.reads, JSON.stringify(c.value));
  }
});

test('feature labels: every case of feature-words.json', () => {
  const r = rules();
  for (const c of table('feature-words.json').labels) assert.equal(r.featureLabel(c.key), c.label, JSON.stringify(c.key));
});
