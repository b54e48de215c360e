// Benchmark of the drug list on a zip page with 40 plans, in Chromium:
// the bytes that adding 5 drugs through the type-ahead transfers (every
// response after the page has loaded, each gzip-compressed as the CDN
// would send it), and the time of one estimate pass over the 40 plans with
// the CPU slowed 4x (CDP Emulation.setCPUThrottlingRate), as the page
// measures it (the User Timing measure "drug-estimates" around each pass),
// with the browser's clock set to January (twelve months to price, the most
// there can be, whatever today's date). Each timed pass is the page's own,
// started by rotating the list in the link. Prints figures beside their
// targets; it fails nothing. Run: node tests/browser/bench-drugs.mjs
// (BROWSER_TEST_SKIP_CARGO=1 to use binaries already built.)

import { gzipSync } from 'node:zlib';
import { startStack, launchBrowser, newPage } from './harness.mjs';
import { zipsBySize, crowdBusiestZip } from './data.mjs';
import { siteJson, addDrug, settled } from './drugs-support.mjs';

const PLANS = 40;
const BYTES_TARGET = 30 * 1024;
const MS_TARGET = 50;
const RUNS = 15;

const stack = await startStack('bench-drugs', { beforeBuild: crowdBusiestZip(PLANS) });
const browser = await launchBrowser();
try {
  const zip = zipsBySize(stack.siteDir)[0];
  const get = siteJson(stack.baseUrl);
  // Five drugs from five different shards: each one a new shard to fetch.
  const { shards } = await get('data/drugs/index/shards.json');
  const drugs = [];
  for (const s of shards) {
    if (drugs.length === 5) break;
    const shard = await get(`data/drugs/index/${s}.json`);
    const d = shard.drugs.find((x) => x.name.toLowerCase().replace(/[^a-z0-9]/g, '').startsWith(s) && x.name.length >= 4);
    if (d) drugs.push({ ...d, label: [d.name, d.strength, d.dose_form].join(' ') });
  }

  const page = await newPage(browser);
  // The page's clock says January (Playwright's fake clock would replace
  // the User Timing the page reports with): only `new Date()` and `Date.now()`.
  await page.addInitScript(() => {
    const RealDate = Date;
    const january = new RealDate(new RealDate().getFullYear(), 0, 15, 12).getTime();
    globalThis.Date = class extends RealDate {
      constructor(...args) {
        super(...(args.length ? args : [january]));
      }
      static now() {
        return january;
      }
    };
  });
  await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`, { waitUntil: 'networkidle' });
  await page.locator('#drug-tools').waitFor({ state: 'visible' });
  const responses = [];
  page.on('response', (r) => responses.push(r));
  const started = Date.now();
  for (const d of drugs) await addDrug(page, d, { typed: Math.min(4, d.name.length) });
  await settled(page);
  const seconds = (Date.now() - started) / 1000;

  const rows = [];
  for (const r of responses) {
    const url = new URL(r.url());
    if (url.origin !== stack.baseUrl || r.status() >= 300) continue;
    const body = await r.body();
    rows.push({ path: url.pathname, raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  const sum = (pred) => rows.filter(pred).reduce((n, r) => n + r.gzip, 0);
  const total = sum(() => true);
  const groups = {
    'plan drug terms (data/drugs/plans/)': sum((r) => r.path.startsWith('/data/drugs/plans/')),
    'whole plan files (data/plans/)': sum((r) => r.path.startsWith('/data/plans/')),
    'drug files': sum((r) => /^\/data\/drugs\/[0-9]+\.json$/.test(r.path)),
    'name shards': sum((r) => r.path.startsWith('/data/drugs/index/')),
    'scripts': sum((r) => r.path.startsWith('/assets/')),
    'other': sum((r) => !/^\/(data\/plans|data\/drugs|assets)\//.test(r.path)),
  };

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const measures = () => page.evaluate(() => performance.getEntriesByName('drug-estimates').map((m) => m.duration));
  const firstPass = (await measures()).at(-1);
  for (let i = 0; i < RUNS; i++) {
    const before = (await measures()).length;
    // The same drugs in another order: the same prices, a new pass.
    await page.evaluate(() => {
      const [key, value] = location.hash.slice(1).split('=');
      const items = value.split(',');
      location.hash = `${key}=${[...items.slice(1), items[0]].join(',')}`;
    });
    await page.waitForFunction((n) => performance.getEntriesByName('drug-estimates').length > n, before);
    await settled(page);
  }
  const times = (await measures()).slice(-RUNS);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const planCount = await page.locator('#plan-list > li.plan-card .plan-card__drugs').count();

  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`zip ${zip.zip}: ${zip.plans.length} plans (${planCount} cards with an estimate), drugs: ${drugs.map((d) => d.label).join('; ')}`);
  console.log(`adding 5 drugs: ${rows.length} responses, ${kb(total)} gzip (target <= ${kb(BYTES_TARGET)}) ${total <= BYTES_TARGET ? 'ok' : 'OVER'}; ${seconds.toFixed(1)} s of typing and clicking`);
  for (const [k, v] of Object.entries(groups)) console.log(`  ${k}: ${kb(v)}`);
  console.log(`estimate for ${zip.plans.length} plans, January to December, at 4x CPU throttling over ${RUNS} runs: median ${median.toFixed(2)} ms, max ${times.at(-1).toFixed(2)} ms (target <= ${MS_TARGET} ms) ${times.at(-1) <= MS_TARGET ? 'ok' : 'OVER'}`);
  console.log(`last pass while adding drugs (unthrottled, cold): ${firstPass.toFixed(2)} ms`);
} finally {
  await browser.close();
  await stack.stop();
}
