// The browser side of the shared rule tables: the plan-id rule and the
// feature words, as templates/assets/rules.mjs applies them with the data
// the generator writes into rules-data.mjs. The Rust side runs the same
// tables (whatever-database's unit tests). Run: node --test tests/rules/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as r from '../../templates/assets/rules.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const table = (name) => JSON.parse(readFileSync(path.join(here, name), 'utf8'));

test('plan ids: every case of plan-ids.json', () => {
  const cases = table('plan-ids.json');
  assert.ok(cases.length > 20);
  for (const c of cases) assert.equal(r.isPlanId(c.id), c.publishable, `${JSON.stringify(c.id.slice(0, 80))}: ${c.why}`);
});

test('feature values: every case of feature-words.json', () => {
  for (const c of table('feature-words.json').values) {
    const yes = r.isYes(c.value);
    const no = r.isNo(c.value);
    assert.ok(!(yes && no), `${JSON.stringify(c.value)} is both`);
    assert.equal(yes ? 'yes' : no ? 'no' : 'other', c.reads, JSON.stringify(c.value));
  }
});

test('feature labels: every case of feature-words.json', () => {
  for (const c of table('feature-words.json').labels) assert.equal(r.featureLabel(c.key), c.label, JSON.stringify(c.key));
});

test('ZIP codes: every case of zips.json', () => {
  const cases = table('zips.json');
  assert.ok(cases.length > 10);
  for (const c of cases) assert.equal(r.isZip(c.text), c.zip, `${JSON.stringify(c.text)}: ${c.why}`);
});
