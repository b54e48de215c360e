// The zip page's filters and sorts as data: what the URL's query says, which
// plans match, in what order, and how to say so. No DOM here, so node's test
// runner checks it directly. `estimates` is the drug list's estimates by
// plan id (drug-pages.mjs), or null without a list.

import { cents, money } from "./format.mjs";
import { isNo, isYes, featureLabel as humanize, yearlyCents, YEARLY_LABEL } from "./rules.mjs";

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** A plan's estimated total with the drugs; one the list cannot price goes last, never on a partial sum. */
const totalKey = (p, estimates) => {
  const e = estimates && estimates.get(p.plan_id);
  return e && e.total != null ? e.total : Infinity;
};

/** The default order: by the total with drugs when there is a list. */
export const defaultSort = (estimates) => (estimates ? "total" : "cost");

/** Each sort: what the status line says, what the select says, the key (lowest first). */
export const SORTS = {
  // The select is narrow; the words that say the order are the status line's.
  total: { label: "Estimated total for the year with your drugs (lowest first)", option: "Total with your drugs", key: totalKey },
  cost: { label: `${YEARLY_LABEL} (lowest first)`, option: YEARLY_LABEL, key: yearlyCents },
  premium: { label: "Monthly premium (lowest first)", key: (p) => cents(p.avg_monthly_cost) },
  deductible: { label: "Deductible (lowest first)", key: (p) => cents(p.annual_deductible) },
  copay: { label: "Copay (lowest first)", key: (p) => cents(p.avg_copay_amount) },
  rating: { label: "Star rating (highest first)", key: (p) => -(parseFloat((p.features || {}).star_rating) || -Infinity) },
  name: { label: "Plan name (A to Z)", key: (p) => p.plan_name.toLocaleLowerCase() },
};

/** The filter state a query string (`location.search`) asks for; `kinds` from {@link featureKinds}. */
export function readState(search, kinds, estimates) {
  const q = new URLSearchParams(search);
  const state = {
    sort: SORTS[q.get("sort")] && (q.get("sort") !== "total" || estimates) ? q.get("sort") : defaultSort(estimates),
    covers: q.get("covers") === "1",
    age: /^\d{1,3}$/.test(q.get("age") || "") ? q.get("age") : "",
    insurer: q.get("insurer") || "",
    max: /^\d+(\.\d{1,2})?$/.test(q.get("max_premium") || "") ? q.get("max_premium") : "",
    has: q.getAll("has").filter((k) => kinds.get(k) === "bool"),
    values: {},
  };
  for (const [key, kind] of kinds) {
    const v = q.get(`f.${key}`);
    if (kind === "values" && v) state.values[key] = v;
  }
  return state;
}

/** The query string of a state (`?sort=premium&age=67`), or `pathname` when it has nothing to say. */
export function stateQuery(state, estimates, pathname) {
  const q = new URLSearchParams();
  if (state.sort !== defaultSort(estimates)) q.set("sort", state.sort);
  if (state.covers && estimates) q.set("covers", "1");
  if (state.age) q.set("age", state.age);
  if (state.insurer) q.set("insurer", state.insurer);
  if (state.max) q.set("max_premium", state.max);
  for (const k of state.has) q.append("has", k);
  for (const [k, v] of Object.entries(state.values)) q.set(`f.${k}`, v);
  const s = q.toString();
  return s ? `?${s}` : pathname;
}

/** Whether a plan passes every filter of the state. */
export function matches(plan, state, estimates) {
  const f = plan.features || {};
  if (state.age) {
    const age = Number(state.age);
    if (plan.min_age != null && age < plan.min_age) return false;
    if (plan.max_age != null && age > plan.max_age) return false;
  }
  if (state.insurer && plan.insurer_name !== state.insurer) return false;
  if (state.covers && estimates) {
    const e = estimates.get(plan.plan_id);
    if (!e || !e.coversAll) return false;
  }
  if (state.max && cents(plan.avg_monthly_cost) > cents(state.max)) return false;
  for (const k of state.has) if (!isYes(f[k] || "")) return false;
  for (const [k, v] of Object.entries(state.values)) if (f[k] !== v) return false;
  return true;
}

/** The plans in a sort's order, ties by plan id. */
export function sorted(plans, sort, estimates) {
  const key = SORTS[sort].key;
  return plans
    .map((p) => ({ p, k: key(p, estimates) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.p.plan_id < b.p.plan_id ? -1 : a.p.plan_id > b.p.plan_id ? 1 : 0))
    .map((x) => x.p);
}

/** Feature key -> 'bool' (yes/no-like values only) or 'values' (a select of distinct values). */
export function featureKinds(plans) {
  const values = new Map();
  for (const p of plans) {
    for (const [k, v] of Object.entries(p.features || {})) {
      if (!values.has(k)) values.set(k, new Set());
      values.get(k).add(v);
    }
  }
  const kinds = new Map();
  for (const k of [...values.keys()].sort()) {
    const vs = [...values.get(k)];
    kinds.set(k, vs.every((v) => isYes(v) || isNo(v)) ? "bool" : "values");
  }
  return { kinds, values };
}

/** "2 filters: age 67, has dental", and the sort when it is not the default. */
export function activeFilters(state, estimates) {
  const parts = [];
  if (state.covers) parts.push("covers all my drugs");
  if (state.age) parts.push(`age ${state.age}`);
  if (state.insurer) parts.push(state.insurer);
  if (state.max) parts.push(`premium up to ${money(cents(state.max))}`);
  for (const k of state.has) parts.push(`has ${humanize(k).toLowerCase()}`);
  for (const [k, v] of Object.entries(state.values)) parts.push(`${humanize(k).toLowerCase()}: ${v}`);
  const filters = parts.length ? `${plural(parts.length, "filter", "filters")}: ${parts.join(", ")}` : "No filters";
  return state.sort === defaultSort(estimates) ? filters : `${filters}; sorted by ${SORTS[state.sort].label.toLowerCase()}`;
}
