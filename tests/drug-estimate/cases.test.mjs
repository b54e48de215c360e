// The hand-computed cases of cases.json against the browser's engine (the
// Rust engine runs the same file: generator/tests/it/drug_estimate_cases.rs).
// Run: node --test tests/drug-estimate/

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { estimate, formatDollars, resolveEntry, toCents } from "../../templates/assets/drug-estimate.mjs";

const table = JSON.parse(readFileSync(new URL("./cases.json", import.meta.url), "utf8"));

for (const c of table.cases) {
  test(c.name, () => {
    const entries = c.entries.map((e) => resolveEntry(c.plan, e.drug, e.days, e.pharmacy));
    assert.deepEqual(estimate(table.year, c.plan, c.start_month, entries), c.expected, c.why);
  });
}

test("amounts are read as whole cents, exactly", () => {
  assert.equal(toCents(0.07), 7);
  assert.equal(toCents(1234.56), 123456);
  assert.equal(toCents(33.33), 3333);
  assert.equal(toCents(99999999.99), 9999999999);
  assert.throws(() => toCents(-1));
  assert.throws(() => toCents("1.00"));
});

test("dollars read with separators", () => {
  assert.equal(formatDollars(123456789), "$1,234,567.89");
  assert.equal(formatDollars(7), "$0.07");
  assert.equal(formatDollars(-150), "-$1.50");
});

test("a start month outside 1-12 is refused", () => {
  assert.throws(() => estimate(table.year, table.cases[0].plan, 13, []), RangeError);
  assert.throws(() => estimate(table.year, table.cases[0].plan, 0, []), RangeError);
});
