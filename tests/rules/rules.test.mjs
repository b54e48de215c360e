// The browser side of the shared rule tables, as templates/assets/rules.mjs
// applies them with the data the generator writes into rules-data.mjs. The
// Rust side runs the same tables (whatever-database's unit tests), and
// Postgres those its CHECKs apply. Run: node --test tests/rules/

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

test('pharmacy types: every case of pharmacies.json', () => {
  const cases = table('pharmacies.json').pharmacies;
  assert.ok(cases.length > 10);
  for (const c of cases) {
    assert.equal(Object.hasOwn(r.PHARMACIES, c.text), c.pharmacy, `${JSON.stringify(c.text)}: ${c.why}`);
    if (c.pharmacy) assert.deepEqual(r.PHARMACIES[c.text], { code: c.code, label: c.label, phrase: c.phrase }, c.text);
  }
  // The page offers them in the table's order.
  assert.deepEqual(Object.keys(r.PHARMACIES), cases.filter((c) => c.pharmacy).map((c) => c.text));
});

test('days supplies: every case of pharmacies.json', () => {
  const cases = table('pharmacies.json').days_supplies;
  assert.ok(cases.length > 10);
  for (const c of cases) {
    assert.equal(Object.hasOwn(r.SUPPLIES, c.days), c.supply, `${c.days}: ${c.why}`);
    if (c.supply) assert.deepEqual(r.SUPPLIES[c.days], { label: c.label, short: c.short }, String(c.days));
  }
});

test('RXCUIs: every case of rxcuis.json', () => {
  const cases = table('rxcuis.json');
  assert.ok(cases.length > 10);
  for (const c of cases) assert.equal(r.isRxcui(c.text), c.rxcui, `${JSON.stringify(c.text)}: ${c.why}`);
});

test('drug-name shards: every case of drug-shards.json', () => {
  const cases = table('drug-shards.json');
  assert.ok(cases.length > 10);
  // Rust says None where the browser has the empty string.
  for (const c of cases) assert.equal(r.shardOf(c.text), c.shard ?? '', `${JSON.stringify(c.text)}: ${c.why}`);
});

test('yearly cost: every case of yearly-costs.json', () => {
  const cases = table('yearly-costs.json');
  assert.ok(cases.length > 5);
  for (const c of cases) assert.equal(r.yearlyCents(c), Math.round(c.yearly * 100), c.why);
  assert.equal(r.YEARLY_LABEL, 'Premiums and deductible for the year');
  assert.equal(r.YEARLY_NOTE, 'Drug costs not included');
});
