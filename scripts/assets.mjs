#!/usr/bin/env node
// Builds the site's front end into templates/assets/dist/, the folder the
// generator embeds as it is (it hashes and writes those files, and runs no
// node): esbuild bundles and minifies one entry per page type
// (templates/assets/pages/*.mjs) with source maps; sass compiles the USWDS
// subset the pages use (templates/assets/styles/uswds.scss); the fonts and
// images that stylesheet and the templates name are copied from the USWDS
// package. The output is committed and depends only on the sources and the
// pinned packages: `npm run build` after changing a module, the Sass entry
// or a package; tests/site/assets-dist.test.mjs fails while the committed
// output differs from a fresh build.
//
// Usage: node scripts/assets.mjs [--out DIR]   (default templates/assets/dist)

import { build } from 'esbuild';
import { compile } from 'sass';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = path.join(ROOT, 'templates/assets');
/** Where the output is committed; source-map paths are relative to it wherever a build writes. */
export const DIST = path.join(ASSETS, 'dist');
const USWDS = path.join(ROOT, 'node_modules/@uswds/uswds');

/** USWDS images the templates link to directly (the rest are found in the stylesheet). */
const TEMPLATE_IMAGES = [
  'img/us_flag_small.png',
  'img/favicons/favicon-40.png',
  'img/icon-dot-gov.svg',
  'img/icon-https.svg',
  'img/usa-icons/close.svg',
  'img/usa-icons-bg/search--white.svg',
];

/**
 * The faces base.html preloads: the body text's, and the bold of the page
 * headings (each page's largest text, its largest paint), so the first paint
 * is already in them and no heading is painted again when a face arrives.
 */
const PRELOAD_FONTS = [
  'fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2',
  'fonts/source-sans-pro/sourcesanspro-bold-webfont.woff2',
];

/** The files of a fresh build: path relative to the dist folder → bytes. */
export async function buildAssets() {
  const files = new Map();
  const pages = {};

  const entries = readdirSync(path.join(ASSETS, 'pages'))
    .filter((f) => f.endsWith('.mjs'))
    .sort()
    .map((f) => `pages/${f}`);
  const js = await build({
    absWorkingDir: ASSETS,
    entryPoints: entries,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    charset: 'utf8',
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    // Nothing is written by esbuild: the output is placed below, so a build
    // into a temporary folder has the same source maps as the committed one.
    outdir: path.join(DIST, 'js'),
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  for (const file of js.outputFiles) {
    files.set(path.relative(DIST, file.path).split(path.sep).join('/'), Buffer.from(file.contents));
  }
  for (const [out, info] of Object.entries(js.metafile.outputs)) {
    const page = info.entryPoint?.match(/^pages\/([^/]+)\.mjs$/)?.[1];
    if (page) pages[page] = path.relative(DIST, path.join(ASSETS, out)).split(path.sep).join('/');
  }

  const css = compile(path.join(ASSETS, 'styles/uswds.scss'), {
    loadPaths: [path.join(USWDS, 'packages')],
    style: 'compressed',
    quietDeps: true,
  }).css;
  files.set('uswds/css/uswds.css', Buffer.from(`${css}\n`));

  const referenced = new Set(TEMPLATE_IMAGES);
  for (const [, rel] of css.matchAll(/url\(["']?\.\.\/([^"')?#]+)/g)) referenced.add(rel);
  for (const font of PRELOAD_FONTS) referenced.add(font);
  for (const rel of [...referenced].sort()) {
    if (rel.split('/').includes('..')) throw new Error(`the stylesheet points outside the USWDS package: ${rel}`);
    files.set(`uswds/${rel}`, readFileSync(path.join(USWDS, 'dist', rel)));
  }

  const manifest = {
    scripts: pages,
    stylesheet: 'uswds/css/uswds.css',
    preload_fonts: PRELOAD_FONTS.map((font) => `uswds/${font}`),
  };
  files.set('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Replaces `dir` with exactly `files`, so no file of an older build is left in it. */
export function writeAssets(files, dir) {
  mkdirSync(path.dirname(dir), { recursive: true });
  const staging = mkdtempSync(`${dir}.new-`);
  try {
    for (const [rel, bytes] of files) {
      mkdirSync(path.dirname(path.join(staging, rel)), { recursive: true });
      writeFileSync(path.join(staging, rel), bytes);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const out = at > 0 ? path.resolve(process.argv[at + 1]) : DIST;
  const started = Date.now();
  const files = await buildAssets();
  writeAssets(files, out);
  const bytes = [...files.values()].reduce((n, b) => n + b.length, 0);
  console.error(`wrote ${files.size} files (${(bytes / 1024).toFixed(0)} KB) to ${path.relative(process.cwd(), out) || '.'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
