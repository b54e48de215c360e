// Computes drug-cost estimates with the browser's engine from a built
// site's published JSON. Usage: node agreement.mjs SITE_DIR CASES_JSON
// CASES_JSON: [{"plan_id","year","start_month","entries":[{"rxcui","days","pharmacy"}]}]
// Prints one JSON array of results (cents) on stdout, in case order.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { estimate, resolveEntry } from "../../templates/assets/drug-estimate.mjs";

const [site, casesPath] = process.argv.slice(2);
const read = (key) => JSON.parse(readFileSync(join(site, key), "utf8"));
const cache = new Map();
const cached = (key) => {
  if (!cache.has(key)) cache.set(key, read(key));
  return cache.get(key);
};

const years = cached("data/benefit-year.json").years;
const results = JSON.parse(readFileSync(casesPath, "utf8")).map((c) => {
  const plan = cached(`data/plans/${c.plan_id}.json`);
  const year = years.find((y) => y.year === c.year);
  const entries = c.entries.map((e) =>
    resolveEntry(plan, cached(`data/drugs/${e.rxcui}.json`), e.days, e.pharmacy),
  );
  return estimate(year, plan, c.start_month, entries);
});
process.stdout.write(JSON.stringify(results));
