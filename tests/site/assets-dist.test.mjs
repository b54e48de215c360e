// The committed front end (templates/assets/dist/, which the generator
// embeds) is the build of the current sources: a fresh `npm run build` in
// memory must give the same files, byte for byte, and no others. When a
// module, the Sass entry or a package changes without a rebuild, this fails
// and says what to run. Run: node --test tests/site/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildAssets, DIST } from '../../scripts/assets.mjs';

const REBUILD = 'run `npm run build` and commit templates/assets/dist/';

function committed(dir = DIST, prefix = '') {
  const files = new Map();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) for (const [k, v] of committed(path.join(dir, entry.name), `${rel}/`)) files.set(k, v);
    else files.set(rel, readFileSync(path.join(dir, entry.name)));
  }
  return files;
}

const fresh = await buildAssets();
const have = committed();

test('the committed front end is what the sources build to', () => {
  const missing = [...fresh.keys()].filter((k) => !have.has(k));
  const extra = [...have.keys()].filter((k) => !fresh.has(k));
  const differ = [...fresh.keys()].filter((k) => have.has(k) && !have.get(k).equals(fresh.get(k)));
  assert.deepEqual({ missing, extra, differ }, { missing: [], extra: [], differ: [] }, `templates/assets/dist/ is stale: ${REBUILD}`);
});

test('every page type has a minified bundle with a source map', () => {
  const manifest = JSON.parse(fresh.get('manifest.json'));
  const pages = readdirSync(path.join(DIST, '../pages')).map((f) => f.replace(/\.mjs$/, '')).sort();
  assert.deepEqual(Object.keys(manifest.scripts).sort(), pages);
  for (const [page, rel] of Object.entries(manifest.scripts)) {
    assert.match(rel, new RegExp(`^js/${page}-[A-Z0-9]{8}\\.js$`));
    const js = fresh.get(rel).toString();
    assert.ok(fresh.has(`${rel}.map`), `${rel} has no source map`);
    assert.ok(js.endsWith(`//# sourceMappingURL=${path.basename(rel)}.map\n`), rel);
    assert.ok(!/\n\s+\S/.test(js.trim()), `${rel} is not minified`);
  }
});

test('no bundle is over 25 KB gzip, and the stylesheet is the subset', () => {
  for (const [rel, bytes] of fresh) {
    if (rel.endsWith('.js')) assert.ok(gzipSync(bytes, { level: 9 }).length <= 25 * 1024, `${rel} is over 25 KB gzip`);
  }
  const css = fresh.get('uswds/css/uswds.css').toString();
  // A component the pages use is in; one they do not use is not.
  for (const used of ['.usa-banner', '.usa-alert', '.usa-memorable-date', '.grid-row', '.tablet\\:grid-col-6', '.margin-top-2', '.bg-base-lightest']) {
    assert.ok(css.includes(`${used}{`) || css.includes(`${used},`) || css.includes(`${used} `), `${used} is missing`);
  }
  for (const unused of ['.usa-modal', '.usa-date-picker', '.usa-footer', '.usa-step-indicator', '.usa-combo-box']) {
    assert.ok(!css.includes(unused), `${unused} is compiled though no page uses it`);
  }
  const faces = css.match(/@font-face\{[^}]*\}/g) ?? [];
  assert.ok(faces.length > 0 && faces.length <= 6, `${faces.length} font faces`);
  for (const face of faces) {
    assert.match(face, /font-display:swap/);
    // One source, woff2: no browser the site supports needs another.
    assert.match(face, /src:url\("?\.\.\/fonts\/[^)]+\.woff2"?\) ?format\("woff2"\)\}$/);
  }
});

/** Class names a stylesheet styles (`tablet\:grid-col-6` as `tablet:grid-col-6`). */
function classesOf(css) {
  return new Set([...css.matchAll(/\.([a-z](?:[a-z0-9_-]|\\:)*)/g)].map((m) => m[1].replace('\\:', ':')));
}

test('every USWDS class a template or module names is in the compiled stylesheet', () => {
  const full = classesOf(readFileSync(path.join(DIST, '../../../node_modules/@uswds/uswds/dist/css/uswds.min.css'), 'utf8'));
  const ours = classesOf(fresh.get('uswds/css/uswds.css').toString());
  const templates = path.join(DIST, '../..');
  const sources = [
    ...readdirSync(templates).filter((f) => f.endsWith('.html')).map((f) => path.join(templates, f)),
    ...readdirSync(path.join(templates, 'assets')).filter((f) => f.endsWith('.mjs')).map((f) => path.join(templates, 'assets', f)),
  ];
  // Every word of every quoted string or class attribute: more than the
  // class names, but only those USWDS styles are looked up.
  const named = new Set();
  for (const file of sources) {
    for (const [, text] of readFileSync(file, 'utf8').matchAll(/["'`]([^"'`]*)["'`]/g)) {
      for (const word of text.split(/[\s{}$]+/)) if (full.has(word)) named.add(word);
    }
  }
  assert.ok(named.size > 50, `${named.size} USWDS classes found`);
  const lost = [...named].filter((c) => !ours.has(c)).sort();
  assert.deepEqual(lost, [], 'add their component or utility to templates/assets/styles/uswds.scss');
});
