// A drug list priced under plans, for the pages: the engine's estimate
// (drug-estimate.mjs, the one the reference implementation is checked
// against) plus what a shopper reads beside it — which drugs are covered,
// their tier and limits, and why a plan cannot be priced. No DOM here.

import { estimate, resolveEntry } from "./drug-estimate.mjs";
import { PHARMACIES } from "./rules.mjs";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** The month name of 1-12. */
export const monthName = (m) => MONTHS[m - 1];

/** The benefit-year row of `date`'s year, or null. */
export function yearOf(years, date) {
  const y = date.getFullYear();
  return (Array.isArray(years) ? years : []).find((r) => r.year === y) || null;
}

/** "December" or "March to December". */
export function monthsSpan(startMonth) {
  return startMonth === 12 ? "December" : `${monthName(startMonth)} to December`;
}

/** The limits a formulary puts on a drug, in words. */
export function limits(placement) {
  if (!placement) return [];
  const out = [];
  if (placement.prior_authorization) out.push("prior authorization");
  if (placement.step_therapy) out.push("step therapy");
  if (placement.quantity_limit) {
    const q = placement.quantity_limit;
    out.push(`quantity limit (${Number(q.amount)} per ${q.days} days)`);
  }
  return out;
}

/** Short codes of the limits, as cards show them: PA, ST, QL. */
export function limitCodes(placement) {
  if (!placement) return [];
  return [placement.prior_authorization && "PA", placement.step_therapy && "ST", placement.quantity_limit && "QL"].filter(Boolean);
}

/** Why one entry cannot be priced, in words. */
export function gapReason(gap, resolved, e) {
  if (gap === "no_formulary") return "this plan publishes no drug list";
  if (gap === "no_tier_cost") return `no cost is published for tier ${resolved.tier} by ${PHARMACIES[e.pharmacy].phrase} for a ${e.days}-day supply`;
  return `no price is published for a ${e.days}-day supply`;
}

/**
 * Prices `list` (entries `{rxcui, days, pharmacy}`) under `plan` (its
 * published JSON), with `drugs` a Map of rxcui to drug JSON. Returns the
 * engine's result and, per entry, its coverage, tier, limits and any gap.
 */
export function planEstimate(year, plan, startMonth, list, drugs) {
  const resolved = list.map((e) => resolveEntry(plan, drugs.get(e.rxcui), e.days, e.pharmacy));
  const result = estimate(year, plan, startMonth, resolved);
  const gaps = new Map(result.gaps);
  const drugsOut = list.map((e, i) => {
    const drug = drugs.get(e.rxcui);
    const r = resolved[i];
    const placement = plan.formulary_id ? drug.formularies[plan.formulary_id] || null : null;
    const gap = gaps.get(i) || null;
    return {
      entry: e,
      drug,
      coverage: r.coverage,
      tier: r.coverage === "covered" ? r.tier : null,
      cost: r.coverage === "covered" ? r.cost : null,
      fullCost: r.fullCost,
      limits: limits(placement),
      codes: limitCodes(placement),
      gap,
      why: gap ? gapReason(gap, r, e) : null,
    };
  });
  return {
    plan_id: plan.plan_id,
    startMonth,
    noFormulary: !plan.formulary_id,
    premiums: result.premiums,
    months: result.months,
    drugTotal: result.drugTotal,
    total: result.total,
    drugs: drugsOut,
    notCovered: drugsOut.filter((d) => d.coverage === "not_covered"),
    unpriced: drugsOut.filter((d) => d.gap),
    coversAll: Boolean(plan.formulary_id) && drugsOut.every((d) => d.coverage === "covered"),
  };
}

/** Order of plans by estimate: priced ones by total, then the rest; then plan id. */
export function byTotal(a, b) {
  const ka = a.total == null ? Infinity : a.total;
  const kb = b.total == null ? Infinity : b.total;
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.plan_id < b.plan_id ? -1 : a.plan_id > b.plan_id ? 1 : 0;
}

/** "$12.00 copay", "25% coinsurance", with when the deductible comes first. */
export function shareText(d) {
  if (!d.cost) return null;
  const amount = d.cost.coinsurance ? `${d.cost.amount / 100}% coinsurance` : `${dollars(d.cost.amount)} copay`;
  if (d.drug.is_insulin) return `${amount}, at most the insulin cap`;
  return d.cost.deductibleApplies ? `${amount} after the deductible` : amount;
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
/** Cents as "$1,234.56". */
export const dollars = (cents) => usd.format(cents / 100);
