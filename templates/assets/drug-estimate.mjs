// The yearly drug-cost estimate in the browser. The same rules as the
// generator's reference implementation (generator/src/drugs/estimate.rs),
// stated in docs/drug-data.md; a test requires the two to agree to the
// cent. Every amount is held in whole cents (integers): the published JSON
// has two-decimal numbers, read once with toCents and never added as
// dollars.

/** A two-decimal JSON number of dollars (or percent) as whole hundredths. */
export function toCents(amount) {
  if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
    throw new TypeError(`not an amount: ${amount}`);
  }
  return Math.round(amount * 100);
}

/** `n / d` rounded half up, for integers n >= 0 and d > 0. */
function halfUp(n, d) {
  const m = n + d / 2;
  return (m - (m % d)) / d;
}

/**
 * Resolves one entry of a drug list against a plan, from the published
 * files: `drug` is `data/drugs/{rxcui}.json`, `plan` is
 * `data/plans/{plan_id}.json`. Returns the facts the estimate needs.
 */
export function resolveEntry(plan, drug, days, pharmacy) {
  const price = drug.prices[String(days)];
  const entry = {
    days,
    fullCost: price === undefined ? null : toCents(price),
    isInsulin: drug.is_insulin,
  };
  if (!plan.formulary_id) return { ...entry, coverage: "no_formulary" };
  const placement = drug.formularies[plan.formulary_id];
  if (!placement) return { ...entry, coverage: "not_covered" };
  const row = plan.tier_costs.find(
    (r) => r.tier === placement.tier && r.pharmacy === pharmacy && r.days_supply === days,
  );
  return {
    ...entry,
    coverage: "covered",
    tier: placement.tier,
    cost: row
      ? {
          coinsurance: row.cost_type === "coinsurance",
          amount: toCents(row.amount),
          deductibleApplies: row.deductible_applies,
        }
      : null,
  };
}

function gapOf(entry) {
  if (entry.coverage === "no_formulary") return "no_formulary";
  if (entry.coverage === "covered" && entry.cost === null) return "no_tier_cost";
  if (entry.fullCost === null) return "no_price";
  return null;
}

/**
 * Estimates resolved `entries` under `plan` (its JSON) for `year` (an
 * entry of `data/benefit-year.json`) from `startMonth` (1-12) to December.
 * Returns `{startMonth, premiums, gaps, months, drugTotal, total}` in cents;
 * `months`, `drugTotal` and `total` are null when any entry has a gap.
 */
export function estimate(year, plan, startMonth, entries) {
  if (!Number.isInteger(startMonth) || startMonth < 1 || startMonth > 12) {
    throw new RangeError(`month ${startMonth}`);
  }
  const count = 13 - startMonth;
  const premiums = toCents(plan.avg_monthly_cost) * count;
  const gaps = [];
  entries.forEach((e, i) => {
    const gap = gapOf(e);
    if (gap) gaps.push([i, gap]);
  });
  if (gaps.length > 0) {
    return { startMonth, premiums, gaps, months: null, drugTotal: null, total: null };
  }
  const threshold = toCents(year.oop_threshold);
  const insulinCap = toCents(year.insulin_monthly_cap);
  let deductibleLeft = Math.min(toCents(plan.annual_deductible), toCents(year.deductible_cap));
  let outOfPocket = 0;
  const months = [];
  for (let month = startMonth; month <= 12; month++) {
    let paid = 0;
    for (const e of entries) {
      if ((month - startMonth) % (e.days / 30) !== 0) continue;
      const cost = e.fullCost;
      if (e.coverage === "not_covered") {
        // Full price, counted toward nothing.
        paid += cost;
        continue;
      }
      const deductible =
        e.cost.deductibleApplies && !e.isInsulin ? Math.min(cost, deductibleLeft) : 0;
      deductibleLeft -= deductible;
      const rest = cost - deductible;
      const share = e.cost.coinsurance
        ? halfUp(rest * e.cost.amount, 10000)
        : Math.min(e.cost.amount, rest);
      let fill = deductible + share;
      if (e.isInsulin) fill = Math.min(fill, (insulinCap * e.days) / 30);
      fill = Math.min(fill, threshold - outOfPocket);
      outOfPocket += fill;
      paid += fill;
    }
    months.push(paid);
  }
  const drugTotal = months.reduce((a, b) => a + b, 0);
  return { startMonth, premiums, gaps, months, drugTotal, total: premiums + drugTotal };
}

/** Cents as dollars for reading: 123456 -> "$1,234.56". */
export function formatDollars(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const dollars = String((abs - (abs % 100)) / 100).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, "0")}`;
}
