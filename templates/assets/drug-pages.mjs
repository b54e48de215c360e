// What a drug list costs on the pages: the totals on the zip page's cards
// (and the order and filter site.js applies to them), the plan page's
// drugs and months, the comparison's rows. Loaded by drugs.mjs only once
// there is a list, with the engine it needs.

import { $, $$, h, svg, plural, drugs, json, planCostsFile, drugMap } from "./dom.mjs";
import { drugLabel, howFilled } from "./drug-list.mjs";

/** Everything an estimate of `list` on these plans needs, the engine included. */
async function inputs(list, planIds) {
  const [costs, years, byRxcui, plans] = await Promise.all([
    import("./drug-costs.mjs"),
    json("/data/benefit-year.json"),
    drugMap(list),
    Promise.all(planIds.map(planCostsFile)),
  ]);
  // The visitor's own clock: the estimate runs from this month to December.
  const now = new Date();
  return { costs, year: costs.yearOf(years.years, now), start: now.getMonth() + 1, byRxcui, plans, entries: list };
}

function estimateAll(x) {
  return x.plans.map((p) => x.costs.planEstimate(x.year, p, x.start, x.entries, x.byRxcui));
}

/** Names, "A, B and C". */
const names = (ds) => {
  const n = ds.map((d) => drugLabel(d.drug));
  return n.length < 2 ? n.join("") : `${n.slice(0, -1).join(", ")} and ${n.at(-1)}`;
};

function coverageLine(est) {
  if (est.noFormulary) return "Drug coverage details not available";
  if (!est.notCovered.length) return est.drugs.length === 1 ? "Your drug is covered" : `All ${drugs(est.drugs.length)} covered`;
  return `Not covered: ${names(est.notCovered)} (you pay the full price)`;
}

function noEstimateText(est) {
  if (est.noFormulary) return "No estimate with your drugs: this plan publishes no drug list.";
  return `No estimate with your drugs: it cannot price ${names(est.unpriced)} (${est.unpriced[0].why}).`;
}

/** "Lipitor 10 MG": short enough for a card. */
const shortName = (d) => [d.drug.name, d.drug.strength].filter(Boolean).join(" ");

/**
 * A card's figure with the drugs, in place of premiums and deductible: the
 * total, or which drug the plan cannot price.
 */
function cardFact(est, c) {
  return h(
    "div",
    { class: "plan-card__fact plan-card__fact--drugs" },
    // Short enough to head a narrow column; read in full.
    h("dt", {}, "Total", h("span", { class: "usa-sr-only" }, " for the year"), " with drugs"),
    est.total != null
      ? h("dd", {}, h("span", { class: "plan-card__total-value" }, c.dollars(est.total)), " ", h("span", { class: "plan-card__note" }, `Drugs ${c.dollars(est.drugTotal)}`))
      : h(
          "dd",
          { class: "plan-card__total--none" },
          "No estimate",
          " ",
          h("span", { class: "plan-card__note" }, est.noFormulary ? "No drug list published" : `Cannot price ${est.unpriced.map(shortName).join(", ")}`),
        ),
  );
}

const LIMIT_WORDS = { PA: "prior authorization", ST: "step therapy", QL: "quantity limit" };

/**
 * Under the plan's figures, in one short line: whether the drugs are covered,
 * and the limits on them by their codes (PA, ST, QL), each code saying for
 * which drugs.
 */
function cardCoverage(est) {
  const byCode = new Map();
  for (const d of est.drugs) for (const code of d.codes) byCode.set(code, [...(byCode.get(code) || []), shortName(d)]);
  const covered = est.noFormulary
    ? "Drug coverage details not available"
    : est.notCovered.length
      ? `Not covered: ${est.notCovered.map(shortName).join(", ")}`
      : est.drugs.length === 1
        ? "Your drug is covered"
        : `All ${drugs(est.drugs.length)} covered`;
  return h(
    "p",
    { class: `plan-card__drugs${est.coversAll ? "" : " plan-card__drugs--gap"}` },
    h("span", { class: "plan-card__coverage" }, covered),
    byCode.size
      ? [
          " · ",
          h(
            "span",
            { class: "plan-card__limits" },
            [...byCode].map(([code, who], i) => [i ? ", " : "", h("abbr", { title: `${LIMIT_WORDS[code]}: ${who.join(", ")}` }, code), h("span", { class: "usa-sr-only" }, ` (${LIMIT_WORDS[code]}: ${who.join(", ")})`)]),
          ),
        ]
      : null,
  );
}

/** What heads the column of the cards' yearly figures, as the page drew it. */
let yearlyHeading;
let yearlyHeadingText = "";

/** Takes a card back to how the page drew it. */
function plainCard(card) {
  $(".plan-card__drugs", card)?.remove();
  $(".plan-card__fact--drugs", card)?.remove();
  const yearly = $(".plan-card__fact--yearly", card);
  if (yearly) yearly.hidden = false;
}

/** Said when the site publishes no benefit year for the visitor's year. */
function noYear() {
  return h("p", { class: "drug-estimate__none" }, "Drug cost estimates are not available for this year yet.");
}

let intro;
let introText = "";

/**
 * Zip page: a total on every card, handed to `onEstimates` (the zip page's
 * order and "Covers all my drugs" filter). `cards` are the server-rendered
 * cards; `current()` says whether this run is still the latest. Each
 * estimate pass is timed as the User Timing measure "drug-estimates".
 */
export async function zip(list, cards, current, onEstimates) {
  if (intro === undefined) {
    intro = $(".zip-intro");
    introText = intro ? intro.textContent : "";
    yearlyHeading = $(".plan-list__yearly");
    yearlyHeadingText = yearlyHeading ? yearlyHeading.textContent : "";
  }
  const clear = () => {
    if (intro) intro.textContent = introText;
    if (yearlyHeading) yearlyHeading.textContent = yearlyHeadingText;
    cards.forEach(plainCard);
    onEstimates(null);
  };
  if (!list.length) return clear();
  // The server-rendered cards name every plan of the zip.
  const x = await inputs(list, cards.map((c) => c.dataset.planId));
  if (!current()) return;
  if (!x.year) return clear();
  const t0 = performance.now();
  const estimates = estimateAll(x);
  performance.measure("drug-estimates", { start: t0, detail: { plans: estimates.length, startMonth: x.start } });
  const byId = new Map(estimates.map((e) => [e.plan_id, e]));
  if (yearlyHeading) yearlyHeading.textContent = "Total with drugs";
  if (intro) intro.textContent = `Each plan shows its estimated total for the year with your ${drugs(list.length)}: premiums and drug costs from ${x.costs.monthsSpan(x.start)}. Open a plan to see its costs month by month.`;
  for (const card of cards) {
    const est = byId.get(card.dataset.planId);
    plainCard(card);
    const yearly = $(".plan-card__fact--yearly", card);
    if (!est || !yearly) continue;
    // The card keeps its height: the total takes the place of premiums and
    // deductible, and the coverage line fits beside the total's breakdown.
    yearly.hidden = true;
    yearly.after(cardFact(est, x.costs));
    $(".plan-card__facts", card).after(cardCoverage(est));
  }
  onEstimates(byId);
}

function monthChart(est, c) {
  const max = Math.max(1, ...est.months);
  const w = 36;
  const chart = svg("svg", { class: "drug-chart", viewBox: `0 0 ${est.months.length * w} 120`, "aria-hidden": "true", focusable: "false" });
  est.months.forEach((m, i) => {
    const height = Math.round((m / max) * 100);
    chart.append(svg("rect", { class: "drug-chart__bar", x: i * w + 6, y: 100 - height, width: w - 12, height: Math.max(height, m ? 1 : 0) }));
    const label = svg("text", { class: "drug-chart__label", x: i * w + w / 2, y: 116, "text-anchor": "middle" });
    label.textContent = c.monthName(est.startMonth + i).slice(0, 3);
    chart.append(label);
  });
  return chart;
}

/** The plan page's "Your drugs on this plan": totals, each drug, each month. */
function estimateView(est, c) {
  if (est.total == null) {
    return [
      h("div", { class: "usa-alert usa-alert--warning usa-alert--slim" }, h("div", { class: "usa-alert__body" }, h("p", { class: "usa-alert__text drug-estimate__none" }, noEstimateText(est)))),
      drugTable(est, c),
    ];
  }
  const span = c.monthsSpan(est.startMonth);
  return [
    h(
      "dl",
      { class: "plan-costs drug-estimate__totals" },
      h("dt", {}, "Estimated total for the year with your drugs"),
      h("dd", {}, h("span", { class: "plan-costs__yearly drug-estimate__total" }, c.dollars(est.total)), h("span", { class: "plan-costs__note" }, span)),
      h("dt", {}, `Premiums (${plural(13 - est.startMonth, "month", "months")})`),
      h("dd", { class: "drug-estimate__premiums" }, c.dollars(est.premiums)),
      h("dt", {}, "Your drug costs"),
      h("dd", { class: "drug-estimate__drugs" }, c.dollars(est.drugTotal)),
    ),
    h("p", { class: `drug-estimate__coverage${est.coversAll ? "" : " text-bold"}` }, coverageLine(est)),
    drugTable(est, c),
    h("h3", { class: "margin-top-3" }, "Your drug costs month by month"),
    monthChart(est, c),
    h(
      "table",
      { class: "usa-table usa-table--borderless drug-months" },
      h("caption", {}, `What you pay for your drugs each month, ${span}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Month"), h("th", { scope: "col" }, "Drug costs"))),
      h("tbody", {}, est.months.map((m, i) => h("tr", {}, h("th", { scope: "row" }, c.monthName(est.startMonth + i)), h("td", {}, c.dollars(m))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), h("td", { class: "text-bold" }, c.dollars(est.drugTotal)))),
    ),
  ];
}

function drugTable(est, c) {
  return h(
    "table",
    { class: "usa-table usa-table--borderless usa-table--stacked drug-coverage" },
    h("caption", {}, "Each of your drugs on this plan"),
    h("thead", {}, h("tr", {}, ["Drug", "Tier", "Coverage and limits", "You pay per fill", "Full price per fill"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      est.drugs.map((d) =>
        h(
          "tr",
          { "data-rxcui": d.entry.rxcui },
          h("th", { scope: "row", "data-label": "Drug" }, drugLabel(d.drug), h("span", { class: "drug-coverage__how" }, howFilled(d.entry))),
          h("td", { "data-label": "Tier" }, d.tier ? `Tier ${d.tier}` : "None"),
          h(
            "td",
            { "data-label": "Coverage and limits" },
            d.coverage === "covered" ? ["Covered", d.limits.length ? `: ${d.limits.join(", ")}` : ""] : d.coverage === "not_covered" ? "Not covered" : "No drug list",
          ),
          h("td", { "data-label": "You pay per fill" }, d.gap ? `No estimate: ${d.why}` : d.coverage === "not_covered" ? "Full price" : c.shareText(d)),
          h("td", { "data-label": "Full price per fill" }, d.fullCost == null ? "Not published" : c.dollars(d.fullCost)),
        ),
      ),
    ),
  );
}

/**
 * The plan page's "Costs" box says premiums and deductible for the year,
 * drug costs not included; beside a total with drugs that is a second
 * yearly figure, so it gives way while there is one (one figure per page).
 */
export function showYearlyWithoutDrugs(show) {
  for (const el of $$(".plan-costs__without-drugs")) el.hidden = !show;
}

/** Plan page: the total, each drug, each month, into `out`. */
export async function plan(list, id, out, current) {
  const x = await inputs(list, [id]);
  if (!current()) return;
  if (!x.year) {
    showYearlyWithoutDrugs(true);
    return out.replaceChildren(noYear());
  }
  const [est] = estimateAll(x);
  showYearlyWithoutDrugs(est.total == null);
  out.replaceChildren(...estimateView(est, x.costs).flat());
}

/**
 * Compare page: drug rows in the table site.js drew for `shown`
 * (`{plans, current}`), and the visitor's current plan beside when it is
 * not one of them.
 */
export async function compare(list, shown, isCurrent) {
  const table = $("#compare table");
  $$(".compare-drug-row").forEach((r) => r.remove());
  $("#compare-current-drugs")?.remove();
  if (!shown || !list.length || !table) return;
  const mine = shown.current && !shown.plans.some((p) => p.plan_id === shown.current.plan_id) ? shown.current : null;
  const ids = shown.plans.map((p) => p.plan_id);
  const x = await inputs(list, mine ? [...ids, mine.plan_id] : ids);
  if (!isCurrent() || !x.year) return;
  const estimates = estimateAll(x);
  const c = x.costs;
  const mineEst = mine ? estimates.pop() : null;
  const totals = estimates.map((e) => e.total);
  const priced = totals.filter((t) => t != null);
  const low = priced.length > 1 ? Math.min(...priced) : null;
  const row = (label, cells) => h("tr", { class: "compare-drug-row" }, h("th", { scope: "row" }, label), cells.map((cell) => h("td", {}, cell)));
  const rows = [
    row(`Estimated total for the year with your ${drugs(list.length)}`, estimates.map((e) => (e.total == null ? noEstimateText(e) : [c.dollars(e.total), e.total === low ? " (lowest)" : ""]))),
    row(`Your drug costs, ${c.monthsSpan(x.start)}`, estimates.map((e) => (e.drugTotal == null ? "No estimate" : c.dollars(e.drugTotal)))),
    row("Your drugs covered", estimates.map(coverageLine)),
    ...list.map((entryRow, i) =>
      row(
        drugLabel(x.byRxcui.get(entryRow.rxcui)),
        estimates.map((e) => {
          const d = e.drugs[i];
          if (d.coverage === "no_formulary") return "No drug list";
          if (d.coverage === "not_covered") return "Not covered";
          return [`Tier ${d.tier}`, d.limits.length ? `, ${d.limits.join(", ")}` : "", d.gap ? ` (no estimate: ${d.why})` : ""];
        }),
      ),
    ),
  ];
  const tbody = $("tbody", table);
  // Before the row of Remove buttons, which stays last.
  const last = tbody.lastElementChild;
  for (const r of rows) tbody.insertBefore(r, last);
  if (mineEst) {
    $("#compare").before(
      h(
        "div",
        { class: "usa-summary-box margin-y-2", id: "compare-current-drugs", role: "region", "aria-label": "Your current plan with your drugs" },
        h(
          "p",
          { class: "margin-0" },
          "Your current plan, ",
          h("a", { href: `/plans/${encodeURIComponent(mine.plan_id)}/` }, mine.plan_name),
          ", with your drugs: ",
          mineEst.total == null
            ? noEstimateText(mineEst)
            : `estimated total for the year ${c.dollars(mineEst.total)} (premiums ${c.dollars(mineEst.premiums)} + drugs ${c.dollars(mineEst.drugTotal)}, ${c.monthsSpan(mineEst.startMonth)}).`,
        ),
      ),
    );
  }
}
