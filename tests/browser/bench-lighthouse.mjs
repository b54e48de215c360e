// Benchmark of the zip page as Lighthouse scores it: the seeded sample with
// one zip crowded to 40 plans, served by `generator serve` with gzip as the
// CDN sends it, Lighthouse's mobile preset (a mid-range phone, simulated slow
// 4G and a 4x slower CPU) in Debian's Chromium. Prints the performance score,
// Largest Contentful Paint and Cumulative Layout Shift of each run and their
// median beside the targets, and what moved when the layout shifted; it fails
// nothing. Run: node tests/browser/bench-lighthouse.mjs
// (BROWSER_TEST_SKIP_CARGO=1 to use binaries already built; LIGHTHOUSE_RUNS,
// default 3; CHROMIUM, default /usr/bin/chromium; LIGHTHOUSE_REPORT=FILE
// keeps the last run's full JSON report.)

import { writeFileSync } from 'node:fs';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { startStack } from './harness.mjs';
import { zipsBySize, crowdBusiestZip } from './data.mjs';

const PLANS = 40;
const RUNS = Number(process.env.LIGHTHOUSE_RUNS || 3);
const TARGETS = { score: 98, lcp: 1500, cls: 0.05 };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stack = await startStack('bench-lighthouse', { beforeBuild: crowdBusiestZip(PLANS) });
let chrome;
try {
  const zip = zipsBySize(stack.siteDir)[0];
  const url = `${stack.baseUrl}/zip/${zip.zip}/`;
  chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROMIUM || '/usr/bin/chromium',
    chromeFlags: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    // Lighthouse's defaults are its mobile preset; each run starts from an
    // empty cache, as a first visit does.
    const { lhr } = await lighthouse(url, { port: chrome.port, onlyCategories: ['performance'], logLevel: 'error' });
    if (process.env.LIGHTHOUSE_REPORT) writeFileSync(process.env.LIGHTHOUSE_REPORT, JSON.stringify(lhr, null, 1));
    const audit = (id) => lhr.audits[id];
    const run = {
      score: Math.round(lhr.categories.performance.score * 100),
      lcp: audit('largest-contentful-paint').numericValue,
      cls: audit('cumulative-layout-shift').numericValue,
      fcp: audit('first-contentful-paint').numericValue,
      tbt: audit('total-blocking-time').numericValue,
    };
    runs.push(run);
    console.log(
      `run ${i + 1}: score ${run.score}, LCP ${(run.lcp / 1000).toFixed(2)} s, CLS ${run.cls.toFixed(3)}, ` +
        `FCP ${(run.fcp / 1000).toFixed(2)} s, TBT ${Math.round(run.tbt)} ms`,
    );
    for (const item of audit('layout-shifts')?.details?.items ?? []) {
      console.log(`  shifted ${item.score.toFixed(3)}: ${item.node?.snippet?.slice(0, 100) ?? '(unknown)'}`);
    }
    const lcpElement = audit('largest-contentful-paint-element')?.details?.items?.[0]?.items?.[0]?.node?.snippet;
    if (lcpElement) console.log(`  largest paint: ${lcpElement.slice(0, 100)}`);
  }
  const m = (k) => median(runs.map((r) => r[k]));
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  console.log(
    `zip ${zip.zip} (${zip.plans.length} plans), median of ${RUNS}: score ${m('score')} (target >= ${TARGETS.score}) ${verdict(m('score') >= TARGETS.score)}; ` +
      `LCP ${(m('lcp') / 1000).toFixed(2)} s (target <= ${TARGETS.lcp / 1000} s) ${verdict(m('lcp') <= TARGETS.lcp)}; ` +
      `CLS ${m('cls').toFixed(3)} (target <= ${TARGETS.cls}) ${verdict(m('cls') <= TARGETS.cls)}`,
  );
} finally {
  await chrome?.kill();
  await stack.stop();
}
