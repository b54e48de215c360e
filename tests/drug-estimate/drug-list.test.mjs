// The drug list's link format, the type-ahead's matching, and what the
// pages say beside an estimate (templates/assets/drug-list.mjs and
// drug-costs.mjs); the shard rule's cases are in tests/rules/. Run:
// node --test tests/drug-estimate/

import { test } from "node:test";
import assert from "node:assert/strict";
import { clean, decode, encode, fromHash, search, toHash, MAX_DRUGS } from "../../templates/assets/drug-list.mjs";
import { byTotal, limitCodes, monthsSpan, planEstimate, shareText } from "../../templates/assets/drug-costs.mjs";

test("a list is written short in a link and read back the same", () => {
  const list = [
    { rxcui: "9100003", days: 30, pharmacy: "preferred_retail" },
    { rxcui: "9100002", days: 90, pharmacy: "mail" },
    { rxcui: "42", days: 30, pharmacy: "standard_retail" },
  ];
  assert.equal(encode(list), "9100003.30p,9100002.90m,42.30s");
  assert.deepEqual(decode("9100003.30p,9100002.90m,42.30s"), list);
  assert.equal(toHash("", list), "#drugs=9100003.30p,9100002.90m,42.30s");
  assert.deepEqual(fromHash("#drugs=9100003.30p,9100002.90m,42.30s"), list);
  // Other fragment parameters stay; an empty list leaves no trace.
  assert.equal(toHash("#x=1", list.slice(0, 1)), "#x=1&drugs=9100003.30p");
  assert.equal(toHash("#drugs=1.30p", []), "");
  assert.equal(fromHash("#x=1"), null);
  assert.equal(fromHash(""), null);
});

test("a hostile or damaged link gives only valid entries, each drug once", () => {
  assert.deepEqual(decode("9100003.30p,abc,9100003.90m,1.60p,2.30x,<script>,12345678901.30p,7.90s"), [
    { rxcui: "9100003", days: 30, pharmacy: "preferred_retail" },
    { rxcui: "7", days: 90, pharmacy: "standard_retail" },
  ]);
  const many = Array.from({ length: MAX_DRUGS + 5 }, (_, i) => `${i + 1}.30p`).join(",");
  assert.equal(decode(many).length, MAX_DRUGS);
  assert.deepEqual(clean("not a list"), []);
  assert.deepEqual(clean([null, { rxcui: "1", days: "90", pharmacy: "mail" }, { rxcui: 2, days: 30, pharmacy: "preferred_retail" }]), [
    { rxcui: "1", days: 90, pharmacy: "mail" },
    { rxcui: "2", days: 30, pharmacy: "preferred_retail" },
  ]);
  // A stored list naming what every object inherits is no pharmacy or supply.
  assert.deepEqual(clean([{ rxcui: "1", days: 30, pharmacy: "constructor" }, { rxcui: "2", days: "__proto__", pharmacy: "mail" }]), []);
  assert.deepEqual(decode("1.030p,2.60m,3.30x"), []);
});

test("typing finds drugs by name or generic name, names first", () => {
  const shard = {
    shard: "at",
    drugs: [
      { rxcui: "1", name: "Atenolol", generic_name: "atenolol", strength: "25 MG", dose_form: "Oral Tablet", is_generic: true },
      { rxcui: "2", name: "Atorvastatin", generic_name: "atorvastatin", strength: "20 MG", dose_form: "Oral Tablet", is_generic: true },
      { rxcui: "3", name: "Lipitor", generic_name: "atorvastatin", strength: "20 MG", dose_form: "Oral Tablet", is_generic: false },
    ],
  };
  assert.deepEqual(search(shard, "atorv").map((d) => d.rxcui), ["2", "3"]);
  assert.deepEqual(search(shard, "AT").map((d) => d.rxcui), ["1", "2", "3"]);
  assert.deepEqual(search(shard, "at", 1).map((d) => d.rxcui), ["1"]);
  assert.deepEqual(search(shard, "a"), []);
  assert.deepEqual(search(shard, "atx"), []);
});

// A plan and drugs small enough to price by hand.
const year = { year: 2026, deductible_cap: 615.0, oop_threshold: 2100.0, insulin_monthly_cap: 35.0 };
const plan = {
  plan_id: "S0001-001-0",
  plan_name: "Test plan",
  avg_monthly_cost: 30.0,
  annual_deductible: 0.0,
  formulary_id: "F1",
  tier_costs: [
    { tier: 1, pharmacy: "preferred_retail", days_supply: 30, cost_type: "copay", amount: 5.0, deductible_applies: false },
    { tier: 3, pharmacy: "preferred_retail", days_supply: 30, cost_type: "coinsurance", amount: 25.0, deductible_applies: false },
  ],
};
const drug = (rxcui, formularies, price = 100.0) => ({ rxcui, name: `Drug ${rxcui}`, strength: "1 MG", dose_form: "Oral Tablet", is_generic: true, is_insulin: false, prices: { 30: price }, generics: [], formularies });

test("a plan's estimate says what is covered, its limits, and never a partial sum", () => {
  const drugs = new Map([
    ["1", drug("1", { F1: { tier: 1 } }, 10.0)],
    ["3", drug("3", { F1: { tier: 3, prior_authorization: true, quantity_limit: { amount: 30.0, days: 30 } } }, 200.0)],
    ["9", drug("9", {}, 40.0)],
  ]);
  const list = [
    { rxcui: "1", days: 30, pharmacy: "preferred_retail" },
    { rxcui: "3", days: 30, pharmacy: "preferred_retail" },
  ];
  // November and December: 2 x ($5 copay + 25% of $200) = $110; premiums 2 x $30.
  const est = planEstimate(year, plan, 11, list, drugs);
  assert.deepEqual(est.months, [5500, 5500]);
  assert.equal(est.drugTotal, 11000);
  assert.equal(est.premiums, 6000);
  assert.equal(est.total, 17000);
  assert.equal(est.coversAll, true);
  assert.deepEqual(est.drugs.map((d) => d.codes), [[], ["PA", "QL"]]);
  assert.deepEqual(est.drugs[1].limits, ["prior authorization", "quantity limit (30 per 30 days)"]);
  assert.equal(shareText(est.drugs[1]), "25% coinsurance");
  assert.equal(shareText(est.drugs[0]), "$5.00 copay");

  // Not covered: full price, counted, and named.
  const withUncovered = planEstimate(year, plan, 12, [...list, { rxcui: "9", days: 30, pharmacy: "preferred_retail" }], drugs);
  assert.equal(withUncovered.drugTotal, 500 + 5000 + 4000);
  assert.equal(withUncovered.coversAll, false);
  assert.deepEqual(withUncovered.notCovered.map((d) => d.entry.rxcui), ["9"]);

  // Mail has no tier row: no total at all, and the reason names the drug's terms.
  const gap = planEstimate(year, plan, 12, [{ rxcui: "3", days: 30, pharmacy: "mail" }, list[0]], drugs);
  assert.equal(gap.total, null);
  assert.equal(gap.drugTotal, null);
  assert.deepEqual(gap.unpriced.map((d) => d.entry.rxcui), ["3"]);
  assert.equal(gap.unpriced[0].why, "no cost is published for tier 3 by mail order for a 30-day supply");

  // No formulary: never covers, never priced.
  const none = planEstimate(year, { ...plan, formulary_id: null }, 12, list, drugs);
  assert.equal(none.total, null);
  assert.equal(none.noFormulary, true);
  assert.equal(none.coversAll, false);
});

test("plans sort by total, the ones without an estimate last", () => {
  const rows = [
    { plan_id: "B", total: null },
    { plan_id: "C", total: 500 },
    { plan_id: "A", total: null },
    { plan_id: "D", total: 500 },
    { plan_id: "E", total: 20 },
  ];
  assert.deepEqual(rows.sort(byTotal).map((r) => r.plan_id), ["E", "C", "D", "A", "B"]);
  assert.equal(monthsSpan(12), "December");
  assert.equal(monthsSpan(3), "March to December");
  assert.deepEqual(limitCodes({ tier: 2, step_therapy: true }), ["ST"]);
});
