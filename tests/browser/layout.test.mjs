// Screenshots of the zip page and the comparison at phone and desktop widths
// (saved in tests/browser/artifacts/ for a look), no sideways scrolling of
// the page at phone width, and the transfer budget of a large zip page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, launchBrowser, newPage, screenshotPath, ARTIFACTS } from './harness.mjs';
import { zipsBySize } from './data.mjs';

const VIEWPORTS = { phone: { width: 375, height: 812 }, desktop: { width: 1280, height: 900 } };
const BUDGET_BYTES = 150 * 1024;
const SITE_JS_BUDGET_BYTES = 15 * 1024;
const JS_BUDGET_BYTES = 50 * 1024;

let stack;
let browser;
let zips;

// The budget is for a zip with 40 plans; the busiest zip of the seeded
// sample has fewer, so it gets the plans of neighbouring counties too, as a
// large metro zip would.
const BUDGET_PLANS = 40;
const CROWD_BUSIEST_ZIP = `
  WITH busiest AS (
    SELECT zip_code, count(*) AS n FROM plan_to_zip JOIN plan USING (plan_id)
     WHERE status = 'active' GROUP BY zip_code ORDER BY n DESC, zip_code LIMIT 1),
  others AS (
    SELECT p.plan_id, b.zip_code, b.n, row_number() OVER (ORDER BY p.plan_id) AS k
      FROM busiest b JOIN plan p ON p.status = 'active'
     WHERE NOT EXISTS (SELECT 1 FROM plan_to_zip z WHERE z.zip_code = b.zip_code AND z.plan_id = p.plan_id))
  INSERT INTO plan_to_zip (plan_id, zip_code)
  SELECT plan_id, zip_code FROM others WHERE k <= ${BUDGET_PLANS} - n
  ON CONFLICT DO NOTHING`;

before(async () => {
  stack = await startStack('layout', { beforeBuild: CROWD_BUSIEST_ZIP });
  browser = await launchBrowser();
  zips = zipsBySize(stack.siteDir);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

for (const [name, viewport] of Object.entries(VIEWPORTS)) {
  test(`zip page and comparison at ${name} width`, async () => {
    const page = await newPage(browser, viewport);
    const zip = zips[0];
    await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`);
    await page.locator('#plan-tools').waitFor({ state: 'visible' });
    await page.evaluate(() => document.fonts.ready);
    for (const id of zip.plans.slice(0, 3).map((p) => p.plan_id)) {
      await page.locator(`li[data-plan-id="${id}"] .plan-card__actions button`).click();
    }
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the zip page does not scroll sideways');
    // The sticky tray leaves most of the screen to the plans.
    const tray = await page.locator('.compare-tray').boundingBox();
    assert.ok(tray.height <= viewport.height * 0.2, `the compare tray is ${tray.height}px of ${viewport.height}px`);
    await page.screenshot({ path: screenshotPath(`zip-${name}`), fullPage: false });
    await page.locator('#plan-list').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath(`zip-${name}-list`), fullPage: false });

    await page.getByRole('link', { name: 'Compare selected plans' }).click();
    await page.locator('#compare table').waitFor();
    await page.evaluate(() => document.fonts.ready);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the comparison scrolls inside its own box, not the page');
    await page.screenshot({ path: screenshotPath(`compare-${name}`), fullPage: true });
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}

test('a large zip page stays within the transfer budget', async () => {
  const zip = zips[0];
  const page = await newPage(browser);
  const responses = [];
  page.on('response', (r) => responses.push(r));
  await page.goto(`${stack.baseUrl}/zip/${zip.zip}/`, { waitUntil: 'networkidle' });
  await page.locator('#plan-tools').waitFor({ state: 'visible' });

  const rows = [];
  for (const r of responses) {
    const url = new URL(r.url());
    if (url.origin !== stack.baseUrl || r.status() >= 300) continue;
    const body = await r.body();
    rows.push({ path: url.pathname, type: r.request().resourceType(), raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  const sum = (pred) => rows.filter(pred).reduce((n, r) => n + r.gzip, 0);
  const pageBytes = sum((r) => ['document', 'stylesheet', 'script', 'fetch'].includes(r.type));
  const jsBytes = sum((r) => r.type === 'script');
  const siteJs = rows.find((r) => /\/site-[0-9a-f]+\.js$/.test(r.path));
  const report = {
    zip: zip.zip,
    plans: zip.plans.length,
    largest_zip_in_seed: zips[0].plans.length,
    html_css_js_json_gzip_bytes: pageBytes,
    js_gzip_bytes: jsBytes,
    site_js_gzip_bytes: siteJs?.gzip,
    fonts_images_gzip_bytes: sum((r) => ['font', 'image'].includes(r.type)),
    resources: rows,
  };
  writeFileSync(path.join(ARTIFACTS, 'budget.json'), JSON.stringify(report, null, 2));
  console.log(`budget: zip ${zip.zip} (${zip.plans.length} plans): HTML+CSS+JS+JSON ${pageBytes} B gzip, JS ${jsBytes} B (site.js ${siteJs?.gzip} B)`);

  assert.ok(zip.plans.length >= BUDGET_PLANS, `the zip has ${zip.plans.length} plans`);
  assert.ok(siteJs, 'site.js was loaded');
  assert.ok(siteJs.gzip <= SITE_JS_BUDGET_BYTES, `site.js is ${siteJs.gzip} B gzip`);
  assert.ok(jsBytes <= JS_BUDGET_BYTES, `JS is ${jsBytes} B gzip`);
  assert.ok(pageBytes <= BUDGET_BYTES, `the page transfers ${pageBytes} B gzip (budget ${BUDGET_BYTES})`);
  await page.context().close();
});
