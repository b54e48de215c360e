// Reads the built site's JSON so tests can compute what the pages must show
// independently of the page script. Feature words and labels come from the
// rules module the pages bundle (templates/assets/rules.mjs, whose data the
// generator writes from its Rust definition), so tests and pages cannot
// disagree about them.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as siteRules from '../../templates/assets/rules.mjs';

const rules = () => siteRules;

/** Yes-like feature values, as the site reads them. */
export const YES = { test: (v) => rules().isYes(v) };
const NO = { test: (v) => rules().isNo(v) };

export const cents = (d) => Math.round(Number(d) * 100);
export const yearly = (p) => 12 * cents(p.avg_monthly_cost) + cents(p.annual_deductible);
export const usd = (c) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(c / 100);

/** Every zip file of the build, as `{zip, plans}`, largest first. */
export function zipsBySize(siteDir) {
  const dir = path.join(siteDir, 'data/zip');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')))
    .sort((a, b) => b.plans.length - a.plans.length || a.zip.localeCompare(b.zip));
}

export function planJson(siteDir, id) {
  return JSON.parse(readFileSync(path.join(siteDir, 'data/plans', `${id}.json`), 'utf8'));
}

/** Feature keys whose values are all yes/no-like in these plans. */
export function boolFeatures(plans) {
  const seen = new Map();
  for (const p of plans) for (const [k, v] of Object.entries(p.features)) seen.set(k, (seen.get(k) ?? true) && (YES.test(v) || NO.test(v)));
  return [...seen].filter(([, ok]) => ok).map(([k]) => k).sort();
}

/**
 * Two yes/no features whose combined filter keeps some plans but not all,
 * and the plans it keeps; null if the zip has no such pair.
 */
export function twoFeatureFilter(plans) {
  const keys = boolFeatures(plans);
  let best = null;
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      const kept = plans.filter((p) => YES.test(p.features[keys[i]] || '') && YES.test(p.features[keys[j]] || ''));
      if (kept.length > 1 && kept.length < plans.length && (!best || kept.length > best.kept.length)) best = { keys: [keys[i], keys[j]], kept };
    }
  }
  return best;
}

/**
 * A feature with several values (not yes/no), and the value that keeps the
 * most plans while leaving some out; null if the zip has none.
 */
export function valueFeatureFilter(plans) {
  const bools = new Set(boolFeatures(plans));
  let best = null;
  for (const key of new Set(plans.flatMap((p) => Object.keys(p.features)))) {
    if (bools.has(key)) continue;
    const counts = new Map();
    for (const p of plans) if (key in p.features) counts.set(p.features[key], (counts.get(p.features[key]) ?? 0) + 1);
    for (const [value, n] of counts) {
      if (n > 1 && n < plans.length && (!best || n > best.kept.length)) {
        best = { key, value, kept: plans.filter((p) => p.features[key] === value) };
      }
    }
  }
  return best;
}

/** A feature key as the pages label it. */
export const humanize = (key) => rules().featureLabel(key);

export function byKeyThenId(key) {
  return (a, b) => key(a) - key(b) || (a.plan_id < b.plan_id ? -1 : a.plan_id > b.plan_id ? 1 : 0);
}

/**
 * SQL giving the busiest zip of the seeded sample `plans` plans: it has
 * fewer, so it gets the plans of neighbouring counties too, as a large
 * metro zip would. Run before the build (startStack's `beforeBuild`).
 */
export function crowdBusiestZip(plans) {
  return `
  WITH busiest AS (
    SELECT zip_code, count(*) AS n FROM plan_to_zip JOIN plan USING (plan_id)
     WHERE status = 'active' GROUP BY zip_code ORDER BY n DESC, zip_code LIMIT 1),
  others AS (
    SELECT p.plan_id, b.zip_code, b.n, row_number() OVER (ORDER BY p.plan_id) AS k
      FROM busiest b JOIN plan p ON p.status = 'active'
     WHERE NOT EXISTS (SELECT 1 FROM plan_to_zip z WHERE z.zip_code = b.zip_code AND z.plan_id = p.plan_id))
  INSERT INTO plan_to_zip (plan_id, zip_code)
  SELECT plan_id, zip_code FROM others WHERE k <= ${Number(plans)} - n
  ON CONFLICT DO NOTHING`;
}

/**
 * SQL making a plan cost nothing before drugs: the lowest plan id, which
 * crowdBusiestZip always puts in the busiest zip.
 */
export const FREE_PLAN = `
  UPDATE plan SET avg_monthly_cost = 0, annual_deductible = 0
   WHERE plan_id = (SELECT min(plan_id) FROM plan WHERE status = 'active')`;
