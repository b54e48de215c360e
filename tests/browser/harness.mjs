// The real stack for browser tests: a fresh Postgres database, migrated and
// seeded, a built site, the auth-api, the fake Fulfillment API and
// `generator serve` in front of them, all on 127.0.0.1. Each test file starts
// its own stack and stops it (and drops the database) when it is done.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.join(ROOT, 'tests/browser/artifacts');
// Where cargo put the debug build (CARGO_TARGET_DIR moves it).
const BIN = path.join(process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target'), 'debug');
const PG = process.env.TEST_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const SEED_STATES = process.env.BROWSER_TEST_STATES || 'MA';

/** The demo account `generator seed` creates (see generator/src/seed). */
export const DEMO_USER = { username: 'demo01', password: 'whatever-demo-2026' };

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function psql(sql, target = PG) {
  execFileSync('psql', [target, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Runs a command to completion; its output goes to a log file named in the error. */
function run(cmd, args, env, logName) {
  const log = path.join(ARTIFACTS, 'logs', logName);
  const fd = openSync(log, 'w');
  try {
    return execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', fd], maxBuffer: 64 << 20 }).toString();
  } catch (e) {
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (exit ${e.status}); see ${log}\n${tail(log)}`);
  }
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

async function waitFor(url, what, child, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new Error(`${what} exited with ${child.exitCode}; see ${log}\n${tail(log)}`);
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url} within 60 s; see ${log}\n${tail(log)}`);
}

function startDaemon(bin, args, env, logName) {
  const log = path.join(ARTIFACTS, 'logs', logName);
  const fd = openSync(log, 'w');
  const child = spawn(path.join(BIN, bin), args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  return { child, log };
}

/**
 * Starts the whole stack. Returns `{ baseUrl, siteDir, dbUrl, mailUrl, stop() }`
 * (`mailUrl`: maildev's web and REST API, when started with `mail: true`).
 * `name` keeps the logs of concurrent test files apart.
 */
/**
 * Seeds, builds and serves the whole stack. `beforeBuild`, if given, is SQL
 * run on the seeded database before the site is built.
 */
export async function startStack(name, { beforeBuild, mail = false } = {}) {
  mkdirSync(path.join(ARTIFACTS, 'logs'), { recursive: true });
  if (!process.env.BROWSER_TEST_SKIP_CARGO) {
    // By binary name: `-p generator` is ambiguous once a dependency shares the name.
    run('cargo', ['build', '-q', '--bin', 'generator', '--bin', 'auth-api', '--bin', 'fake-fulfillment'], {}, `${name}-cargo.log`);
  }
  const dbName = `browser_${name.replace(/\W/g, '_')}_${process.pid}_${Date.now()}`;
  const dbUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const siteDir = mkdtempSync(path.join(tmpdir(), `site-${name}-`));
  const children = [];
  const stop = async () => {
    for (const { child } of children.reverse()) {
      if (child.exitCode == null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => (child.kill('SIGKILL'), r()), 5000);
          child.once('exit', () => (clearTimeout(t), r()));
        });
      }
    }
    rmSync(siteDir, { recursive: true, force: true });
    psql(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  };
  try {
    psql(`CREATE DATABASE "${dbName}"`);
    const env = { DATABASE_URL: dbUrl, RUST_LOG: process.env.RUST_LOG || 'warn' };
    const gen = path.join(BIN, 'generator');
    run(gen, ['migrate'], env, `${name}-migrate.log`);
    run(gen, ['seed', '--states', SEED_STATES], env, `${name}-seed.log`);
    if (beforeBuild) psql(beforeBuild, dbUrl);
    run(gen, ['build', '--out', siteDir], env, `${name}-build.log`);

    const [apiPort, adminPort, fulfillmentPort, sitePort, smtpPort, mailPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    // localhost, not 127.0.0.1: browsers take no IP address as the scope of
    // a passkey, and SITE_URL (the passkeys' origin) must match.
    const baseUrl = `http://localhost:${sitePort}`;
    // Mail to account holders goes to a real SMTP server that keeps it:
    // maildev, read through its REST API (`mailUrl`/email).
    const mailUrl = mail ? `http://127.0.0.1:${mailPort}` : null;
    if (mail) {
      const log = path.join(ARTIFACTS, 'logs', `${name}-maildev.log`);
      const fd = openSync(log, 'w');
      const child = spawn(path.join(ROOT, 'node_modules/.bin/maildev'), ['--ip', '127.0.0.1', '--smtp', String(smtpPort), '--web', String(mailPort)], { cwd: ROOT, stdio: ['ignore', fd, fd] });
      children.push({ child, log });
      await waitFor(`${mailUrl}/email`, 'maildev', child, log);
    }
    const fulfillment = startDaemon('fake-fulfillment', ['--listen', `127.0.0.1:${fulfillmentPort}`], {}, `${name}-fake-fulfillment.log`);
    children.push(fulfillment);
    await waitFor(`http://127.0.0.1:${fulfillmentPort}/`, 'fake-fulfillment', fulfillment.child, fulfillment.log);

    const api = startDaemon(
      'auth-api',
      [],
      { ...env, LISTEN_ADDR: `127.0.0.1:${apiPort}`, ADMIN_LISTEN_ADDR: `127.0.0.1:${adminPort}`, FULFILLMENT_URL: `http://127.0.0.1:${fulfillmentPort}`, FULFILLMENT_RATE_LIMIT: '1000', FULFILLMENT_ALLOW_HTTP: 'true', SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SITE_URL: baseUrl },
      `${name}-auth-api.log`,
    );
    children.push(api);
    await waitFor(`http://127.0.0.1:${apiPort}/healthz`, 'auth-api', api.child, api.log);

    const serve = startDaemon(
      'generator',
      ['serve', '--dir', siteDir, '--listen', `127.0.0.1:${sitePort}`, '--api', `http://127.0.0.1:${apiPort}`],
      env,
      `${name}-serve.log`,
    );
    children.push(serve);
    await waitFor(`${baseUrl}/`, 'generator serve', serve.child, serve.log);
    return { baseUrl, siteDir, dbUrl, mailUrl, stop };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}

/** Chromium from Debian, headless, no network beyond what the page asks of 127.0.0.1. */
export async function launchBrowser() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A new page that records script errors, failed requests and CSP violations,
 * so a test can assert the page ran cleanly.
 */
export async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  // axe-core is injected as an inline script, which the site's CSP would refuse.
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Expected refusals (401 when signed out, 404 pages) and aborted test requests are not faults.
    if (m.type() === 'error' && !/status of 40[14]|ERR_CONNECTION_RESET/.test(m.text())) page.problems.push(`console: ${m.text()}`);
  });
  return page;
}

/** Runs axe-core on the page and returns its violations, summarised. */
export async function axeViolations(page) {
  await page.addScriptTag({ path: require.resolve('axe-core') });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n    ')}`);
}

export function screenshotPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, `${name}.png`);
}
