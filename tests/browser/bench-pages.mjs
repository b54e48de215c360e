// Benchmark of a first visit, in Chromium, on the seeded sample with one zip
// crowded to 40 plans: the bytes of the HTML, stylesheets and scripts of the
// home page, that zip's page and a plan page (each response compressed with
// gzip -9 as the CDN would send it; fonts and images apart), the largest
// script bundle, and how many screens tall the zip page is with three drugs
// listed, on a phone (375x812) and on a desktop (1280x900). Prints figures
// beside their targets; it fails nothing. Run: node tests/browser/bench-pages.mjs
// (BROWSER_TEST_SKIP_CARGO=1 to use binaries already built.)

import { gzipSync } from 'node:zlib';
import { startStack, launchBrowser, newPage, screenshotPath } from './harness.mjs';
import { zipsBySize, crowdBusiestZip } from './data.mjs';
import { siteJson, drugsNamed, settled } from './drugs-support.mjs';

const PLANS = 40;
const KB = 1024;
const TARGETS = { home: 50 * KB, zip: 60 * KB, plan: 50 * KB };
const BUNDLE_TARGET = 25 * KB;
const SCREENS_TARGET = { phone: 8, desktop: 7 };
const VIEWPORTS = { phone: { width: 375, height: 812 }, desktop: { width: 1280, height: 900 } };

const stack = await startStack('bench-pages', { beforeBuild: crowdBusiestZip(PLANS) });
const browser = await launchBrowser();
const kb = (n) => `${(n / KB).toFixed(1)} KB`;
try {
  const zip = zipsBySize(stack.siteDir)[0];
  const pages = { home: '/', zip: `/zip/${zip.zip}/`, plan: `/plans/${zip.plans[0].plan_id}/` };
  const bundles = new Map();
  for (const [name, url] of Object.entries(pages)) {
    const page = await newPage(browser, VIEWPORTS.phone);
    const responses = [];
    page.on('response', (r) => responses.push(r));
    await page.goto(`${stack.baseUrl}${url}`, { waitUntil: 'networkidle' });
    const rows = [];
    for (const r of responses) {
      const u = new URL(r.url());
      if (u.origin !== stack.baseUrl || r.status() >= 300) continue;
      const body = await r.body();
      rows.push({ path: u.pathname, type: r.request().resourceType(), gzip: gzipSync(body, { level: 9 }).length });
    }
    const sum = (types) => rows.filter((r) => types.includes(r.type)).reduce((n, r) => n + r.gzip, 0);
    const first = sum(['document', 'stylesheet', 'script']);
    for (const r of rows.filter((r) => r.type === 'script')) bundles.set(r.path, r.gzip);
    console.log(
      `${name} ${url}: HTML ${kb(sum(['document']))} + CSS ${kb(sum(['stylesheet']))} + JS ${kb(sum(['script']))} = ${kb(first)} gzip ` +
        `(target <= ${kb(TARGETS[name])}) ${first <= TARGETS[name] ? 'ok' : 'OVER'}; then JSON ${kb(sum(['fetch']))}, fonts ${kb(sum(['font']))}, images ${kb(sum(['image']))}`,
    );
    await page.context().close();
  }
  const [largest, size] = [...bundles].sort((a, b) => b[1] - a[1])[0];
  console.log(`largest script: ${largest} ${kb(size)} gzip (target <= ${kb(BUNDLE_TARGET)}) ${size <= BUNDLE_TARGET ? 'ok' : 'OVER'}`);

  const drugs = await drugsNamed(siteJson(stack.baseUrl), ['Lipitor', 'Lisinopril', 'Amlodipine']);
  const link = `${stack.baseUrl}/zip/${zip.zip}/#drugs=${drugs.map((d) => `${d.rxcui}.30p`).join(',')}`;
  for (const [name, viewport] of Object.entries(VIEWPORTS)) {
    const page = await newPage(browser, viewport);
    await page.goto(link);
    await page.locator('#plan-tools').waitFor({ state: 'visible' });
    await settled(page);
    await page.evaluate(() => document.fonts.ready);
    const tall = await page.evaluate(() => document.documentElement.scrollHeight);
    const screens = tall / viewport.height;
    const perForty = (screens * PLANS) / zip.plans.length;
    console.log(
      `${name} ${viewport.width}x${viewport.height}, three drugs: ${zip.plans.length} plans, ${tall}px, ${screens.toFixed(1)} screens ` +
        `(${perForty.toFixed(1)} per 40 plans; target <= ${SCREENS_TARGET[name]}) ${perForty <= SCREENS_TARGET[name] ? 'ok' : 'OVER'}`,
    );
    await page.screenshot({ path: screenshotPath(`bench-zip-${name}-drugs`), fullPage: true });
    await page.context().close();
  }
} finally {
  await browser.close();
  await stack.stop();
}
