// The zip page's filters and sorts (templates/assets/plan-filters.mjs) and
// the money format (format.mjs), imported as the pages bundle them.
// Run: node --test tests/site/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeFilters, defaultSort, featureKinds, matches, readState, sorted, stateQuery } from '../../templates/assets/plan-filters.mjs';
import { cents, money } from '../../templates/assets/format.mjs';
import { yearlyCents } from '../../templates/assets/rules.mjs';

const plan = (id, monthly, deductible, extra = {}) => ({
  plan_id: id,
  plan_name: `Plan ${id}`,
  insurer_name: 'Acme',
  avg_monthly_cost: monthly,
  avg_copay_amount: 5,
  annual_deductible: deductible,
  min_age: null,
  max_age: null,
  features: {},
  ...extra,
});

// Yearly figures by hand: A 12*30+500 = 860, B 12*50+0 = 600, C 12*10+545 = 665.
const A = plan('A', 30, 500, { features: { dental: 'Yes', star_rating: '3.5' }, insurer_name: 'Zeta' });
const B = plan('B', 50, 0, { features: { dental: 'no', star_rating: '4.5' }, min_age: 70 });
const C = plan('C', 10, 545, { features: { dental: 'TRUE', network: 'wide' } });
const plans = [A, B, C];

test('money is kept in cents and printed in dollars', () => {
  assert.equal(cents(32.5), 3250);
  assert.equal(cents('0.29'), 29);
  assert.equal(cents(null), 0);
  assert.equal(money(123450), '$1,234.50');
  assert.equal(yearlyCents(A), 86000);
});

test('sorts: the yearly figure by default, the total with drugs when there is a list', () => {
  assert.equal(defaultSort(null), 'cost');
  assert.deepEqual(sorted(plans, 'cost', null).map((p) => p.plan_id), ['B', 'C', 'A']);
  assert.deepEqual(sorted(plans, 'premium', null).map((p) => p.plan_id), ['C', 'A', 'B']);
  assert.deepEqual(sorted(plans, 'rating', null).map((p) => p.plan_id), ['B', 'A', 'C']);
  // A plan the list cannot price goes last.
  const estimates = new Map([['A', { total: 100 }], ['B', { total: null }], ['C', { total: 90 }]]);
  assert.equal(defaultSort(estimates), 'total');
  assert.deepEqual(sorted(plans, 'total', estimates).map((p) => p.plan_id), ['C', 'A', 'B']);
});

test('filters: age, insurer, premium, features and "covers all my drugs"', () => {
  const { kinds } = featureKinds(plans);
  assert.equal(kinds.get('dental'), 'bool');
  assert.equal(kinds.get('network'), 'values');
  const state = readState('?age=67&has=dental&has=network&max_premium=40', kinds, null);
  // "network" is not yes/no-like, so it is no "has" filter.
  assert.deepEqual(state.has, ['dental']);
  assert.deepEqual(plans.filter((p) => matches(p, state, null)).map((p) => p.plan_id), ['A', 'C']);
  assert.deepEqual(plans.filter((p) => matches(p, { ...state, insurer: 'Zeta' }, null)).map((p) => p.plan_id), ['A']);
  const covers = readState('?covers=1', kinds, new Map([['A', { coversAll: true }], ['C', { coversAll: false }]]));
  assert.equal(covers.sort, 'total');
  const estimates = new Map([['A', { coversAll: true }], ['C', { coversAll: false }]]);
  assert.deepEqual(plans.filter((p) => matches(p, covers, estimates)).map((p) => p.plan_id), ['A']);
});

test('the query string says only what differs from the default, and reads back the same', () => {
  const { kinds } = featureKinds(plans);
  const state = readState('?sort=premium&age=67&f.network=wide', kinds, null);
  assert.equal(stateQuery(state, null, '/zip/02134/'), '?sort=premium&age=67&f.network=wide');
  assert.equal(stateQuery(readState('', kinds, null), null, '/zip/02134/'), '/zip/02134/');
  // A sort by total without a list falls back to the default.
  assert.equal(readState('?sort=total', kinds, null).sort, 'cost');
  assert.equal(activeFilters(state, null), '2 filters: age 67, network: wide; sorted by monthly premium (lowest first)');
  assert.equal(activeFilters(readState('', kinds, null), null), 'No filters');
});
