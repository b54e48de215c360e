// A beneficiary creates their own account: proves who they are, opens the
// link mailed to them (read from the SMTP catcher's REST API), verifies,
// sets up an authenticator app (codes computed here from the shown secret,
// RFC 6238 written out with node's crypto), signs out, signs in with
// password and code, and sees their enrollment. A recovery code gets in once
// and only once. In the settings, one session is ended from another browser,
// the authenticator app is replaced and the recovery codes renewed. axe-core
// finds nothing on each page on the way.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startStack, launchBrowser, newPage, axeViolations } from './harness.mjs';
import { newcomer, mailTo, literally } from './accounts-support.mjs';

let stack;
let browser;
let page;
let person;
let secret;
let recoveryCodes;
let setupStep;
const account = { username: 'zoe.newcomer', email: 'zoe.newcomer@example.org', password: 'orchid lantern basin thirty' };

/** RFC 4648 base32, as the page shows the key (groups of four). */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 (HOTP of the 30-second step, HMAC-SHA-1, 6 digits). */
function totp(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[19] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
const stepNow = () => Math.floor(Date.now() / 1000 / 30);

async function assertAxeClean(what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe-core on ${what}:\n${violations.join('\n')}`);
}

async function signOut() {
  await page.goto(`${stack.baseUrl}/account/`);
  await Promise.all([page.waitForURL(`${stack.baseUrl}/`), page.locator('#sign-out').click()]);
}

async function passwordStep(p = page) {
  await p.goto(`${stack.baseUrl}/signin/`);
  await p.getByLabel('Username').fill(account.username);
  await p.getByLabel('Password').fill(account.password);
  await p.locator('#signin-form [type="submit"]').click();
  await p.locator('#second-factor-form').waitFor({ state: 'visible' });
}

/** Signs `p` in with the password and `code` (from the app, or a recovery code). */
async function signIn(p, code) {
  await passwordStep(p);
  await p.getByLabel('Code from your app, or a recovery code').fill(code);
  await Promise.all([p.waitForURL('**/my-plan/'), p.locator('#second-factor-form [type="submit"]').click()]);
  await p.locator('.my-plan__current').waitFor();
}

/** Script errors and unexpected failures, leaving out the refusals a test provoked on purpose (a wrong password: 403). */
const unexpected = (p) => p.problems.filter((m) => !/status of 403/.test(m));

before(async () => {
  stack = await startStack('accounts', { mail: true });
  browser = await launchBrowser();
  page = await newPage(browser);
  person = newcomer(stack);
  assert.match(person.ssnLast4, /^[0-9]{4}$/);
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the create-account form names each field at fault', async () => {
  await page.goto(`${stack.baseUrl}/account/create/`);
  await assertAxeClean('the create-account page');
  await page.locator('#create-form [type="submit"]').click();
  const lastName = page.getByLabel('Last name');
  assert.equal(await lastName.getAttribute('aria-invalid'), 'true');
  assert.ok(await lastName.evaluate((el) => el === document.activeElement), 'focus on the first field at fault');
  // The server's verdict on a weak password is tied to the password field.
  await lastName.fill(person.lastName);
  // The birth date as USWDS's memorable date: month, day and year.
  const birth = page.getByRole('group', { name: 'Date of birth' });
  const [year, month, day] = person.birthDate.split('-');
  await birth.getByLabel('Month').selectOption(String(Number(month)));
  await birth.getByLabel('Day').fill(String(Number(day)));
  await birth.getByLabel('Year').fill(year);
  await page.locator('#zip_code').fill(person.zip);
  await page.getByLabel('Last 4 digits of your Social Security number').fill(person.ssnLast4);
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Email address').fill(account.email);
  await page.getByLabel('Password').fill('password123');
  await page.locator('#create-form [type="submit"]').click();
  await page.locator('#password-error:not([hidden])').waitFor();
  assert.match(await page.locator('#password-error').textContent(), /too common/);
  const password = page.getByLabel('Password');
  assert.equal(await password.getAttribute('aria-invalid'), 'true');
  assert.ok((await password.getAttribute('aria-describedby')).split(' ').includes('password-error'));
  await assertAxeClean('the create-account page with errors');
});

test('creating the account mails a link that verifies the address once', async () => {
  await page.getByLabel('Password').fill(account.password);
  await page.locator('#create-form [type="submit"]').click();
  await page.locator('#create-done').waitFor();
  assert.match(await page.locator('#create-done').textContent(), /Check your email/);

  const [message] = await mailTo(stack, account.email, 1);
  assert.equal(message.subject, 'Confirm your email address for whatever.gov');
  const link = message.text.match(/(http\S+\/account\/verify\/#token=[A-Za-z0-9_-]+)/)[1];
  assert.ok(link.startsWith(`${stack.baseUrl}/`), link);

  await page.goto(link);
  await page.locator('#verify-status .usa-alert--success').waitFor();
  assert.match(await page.locator('#verify-status').textContent(), /confirmed/);
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  await assertAxeClean('the verify page');

  // The same link a second time does nothing (from another page: a jump
  // within the same page would not load it again).
  await page.goto(`${stack.baseUrl}/`);
  await page.goto(link);
  await page.locator('#verify-status .usa-alert--error').waitFor();
});

test('the first sign-in leads to setting up an authenticator app', async () => {
  await page.goto(`${stack.baseUrl}/signin/`);
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await Promise.all([page.waitForURL('**/account/'), page.locator('#signin-form [type="submit"]').click()]);
  await page.locator('#totp-start').waitFor();
  await assertAxeClean('the account page before setup');
  await page.locator('#totp-start').click();
  await page.locator('#totp-secret').waitFor();
  assert.ok(await page.locator('#totp-qr').evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code draws');
  await assertAxeClean('the account page during setup');
  secret = base32Decode(await page.locator('#totp-secret').textContent());
  assert.equal(secret.length, 20);
  setupStep = stepNow();
  await page.getByLabel('The 6-digit code your app shows now').fill(totp(secret, setupStep));
  await page.locator('#totp-form [type="submit"]').click();
  await page.locator('#recovery-codes').waitFor();
  recoveryCodes = await page.locator('#recovery-codes code').allTextContents();
  assert.equal(recoveryCodes.length, 10);
  await assertAxeClean('the account page with recovery codes');
  const told = await mailTo(stack, account.email, 2);
  assert.equal(told[1].subject, 'An authenticator app was added to your whatever.gov account');
});

test('signing in takes the password and a code, then shows the enrollment', async () => {
  await signOut();
  // The refusals provoked above (a weak password) are not faults of this journey.
  page.problems.length = 0;
  await passwordStep();
  await assertAxeClean('the second sign-in step');
  // The step the setup used is spent; the next one is within the allowed skew.
  const code = totp(secret, Math.max(stepNow(), setupStep + 1));
  await page.getByLabel('Code from your app, or a recovery code').fill(code);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#second-factor-form [type="submit"]').click()]);
  await page.locator('.my-plan__current').waitFor();
  assert.match(await page.locator('#my-plan').textContent(), literally(person.planName));
  assert.deepEqual(page.problems, []);
});

test('a recovery code gets in once and only once', async () => {
  await signOut();
  await passwordStep();
  await page.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[0]);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#second-factor-form [type="submit"]').click()]);
  const told = await mailTo(stack, account.email, 3);
  assert.equal(told[2].subject, 'A recovery code was used to sign in to whatever.gov');

  await signOut();
  await passwordStep();
  await page.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[0]);
  await page.locator('#second-factor-form [type="submit"]').click();
  await page.locator('#code-error:not([hidden])').waitFor();
  assert.match(await page.locator('#code-error').textContent(), /not right/);
  assert.equal(new URL(page.url()).pathname, '/signin/');
});

test('a forgotten password is reset from the mailed link, and the old sessions are gone', async () => {
  // Signed in here (with the next recovery code) before the reset.
  await passwordStep();
  await page.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[1]);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#second-factor-form [type="submit"]').click()]);
  await page.locator('.my-plan__current').waitFor();
  const before = (await mailTo(stack, account.email, 4)).length;

  const other = await newPage(browser);
  await other.goto(`${stack.baseUrl}/signin/`);
  await Promise.all([other.waitForURL('**/account/reset/'), other.getByRole('link', { name: 'Forgot your password?' }).click()]);
  await other.getByLabel('Email address').fill(account.email);
  await other.locator('#forgot-form [type="submit"]').click();
  await other.locator('#forgot-status', { hasText: 'If an account uses that email address' }).waitFor();
  const violations = await axeViolations(other);
  assert.deepEqual(violations, [], `axe-core on the reset page:\n${violations.join('\n')}`);
  const messages = await mailTo(stack, account.email, before + 1);
  const reset = messages[before];
  assert.equal(reset.subject, 'Reset your whatever.gov password');
  const link = reset.text.match(/(http\S+\/account\/reset\/#token=[A-Za-z0-9_-]+)/)[1];

  await other.goto(`${stack.baseUrl}/`);
  await other.goto(link);
  await other.getByLabel('New password').fill('tundra violet anchor meadow');
  await other.locator('#reset-form [type="submit"]').click();
  await other.locator('#reset-status', { hasText: 'every session is signed out' }).waitFor();
  await other.context().close();

  // The session opened before the reset is over.
  await page.goto(`${stack.baseUrl}/my-plan/`);
  await page.locator('#my-plan', { hasText: 'Sign in to see your current plan' }).waitFor();
  account.password = 'tundra violet anchor meadow';
  await passwordStep();
  await page.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[2]);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#second-factor-form [type="submit"]').click()]);
});

test('the account page lists the sessions, changes the password and signs out everywhere', async () => {
  await page.goto(`${stack.baseUrl}/account/`);
  await page.locator('#session-list li', { hasText: '(this browser)' }).waitFor();
  assert.equal(await page.locator('#session-list li').count(), 1, 'the sessions before the reset are gone');
  await assertAxeClean('the account page with its settings');
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password').fill('cobalt prairie lantern swift');
  await page.locator('#password-form [type="submit"]').click();
  await page.locator('#current_password-error:not([hidden])').waitFor();
  await page.getByLabel('Current password').fill(account.password);
  await page.locator('#password-form [type="submit"]').click();
  await page.locator('#password-status', { hasText: 'Your password is changed' }).waitFor();
  account.password = 'cobalt prairie lantern swift';
  await Promise.all([page.waitForURL('**/signin/'), page.locator('#end-all').click()]);
  await page.goto(`${stack.baseUrl}/my-plan/`);
  await page.locator('#my-plan', { hasText: 'Sign in to see your current plan' }).waitFor();
});

test('one session is ended from the settings page, and that browser is signed out', async () => {
  page.problems.length = 0;
  await signIn(page, recoveryCodes[3]);
  const other = await newPage(browser);
  await signIn(other, recoveryCodes[4]);

  await page.goto(`${stack.baseUrl}/account/`);
  await page.locator('#session-list li', { hasText: '(this browser)' }).waitFor();
  assert.equal(await page.locator('#session-list li').count(), 2);
  await assertAxeClean('the account page with two sessions');
  const theirs = page.locator('#session-list li', { hasNotText: '(this browser)' });
  await theirs.getByRole('button', { name: 'End this session' }).click();
  await page.locator('#sessions-status', { hasText: 'The session is ended' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#session-list li').length === 1);
  assert.match(await page.locator('#session-list li').textContent(), /\(this browser\)/);
  assert.ok(await page.locator('#sessions-heading').evaluate((el) => el === document.activeElement), 'focus stays in the sessions');
  await assertAxeClean('the account page after ending a session');

  await other.goto(`${stack.baseUrl}/my-plan/`);
  await other.locator('#my-plan', { hasText: 'Sign in to see your current plan' }).waitFor();
  await other.context().close();
  await page.goto(`${stack.baseUrl}/my-plan/`);
  await page.locator('.my-plan__current').waitFor();
  assert.deepEqual(unexpected(page), []);
});

test('the authenticator app is replaced from the settings page, after the password', async () => {
  await page.goto(`${stack.baseUrl}/account/`);
  await page.locator('#totp-replace').waitFor();
  // An account created here keeps a second factor: the app can be replaced, not removed.
  assert.equal(await page.locator('#totp-remove').count(), 0);
  assert.match(await page.locator('#totp-keep').textContent(), /must keep a second way to sign in/);
  await page.locator('#totp-replace').click();
  const password = page.getByLabel('Your current password');
  assert.ok(await password.evaluate((el) => el === document.activeElement), 'focus on the password');
  await password.fill('not my password');
  await page.locator('#replace-form [type="submit"]').click();
  await page.locator('#replace-password-error:not([hidden])').waitFor();
  assert.match(await page.locator('#replace-password-error').textContent(), /not your current password/);
  assert.equal(await password.getAttribute('aria-invalid'), 'true');
  assert.ok((await password.getAttribute('aria-describedby')).split(' ').includes('replace-password-error'));
  await assertAxeClean('the replace form with an error');

  const before = (await mailTo(stack, account.email, 1)).length;
  await password.fill(account.password);
  await page.locator('#replace-form [type="submit"]').click();
  await page.locator('#totp-secret').waitFor();
  const fresh = base32Decode(await page.locator('#totp-secret').textContent());
  assert.equal(fresh.length, 20);
  assert.notDeepEqual(fresh, secret);
  await assertAxeClean('the account page while replacing the app');
  const step = stepNow();
  await page.getByLabel('The 6-digit code your app shows now').fill(totp(fresh, step));
  await page.locator('#totp-form [type="submit"]').click();
  await page.locator('#totp-done', { hasText: 'is replaced' }).waitFor();
  assert.ok(await page.locator('#totp-done').evaluate((el) => el === document.activeElement), 'the outcome takes the focus');
  const told = await mailTo(stack, account.email, before + 1);
  assert.equal(told[before].subject, 'An authenticator app was changed on your whatever.gov account');
  secret = fresh;
  setupStep = step;
  assert.deepEqual(unexpected(page), []);
});

test('new recovery codes are shown once, the old ones stop working, the new app signs in', async () => {
  await page.goto(`${stack.baseUrl}/account/`);
  assert.match(await page.locator('#recovery-left').textContent(), /5 recovery codes left/);
  await page.locator('#recovery-new').click();
  assert.match(await page.locator('#recovery-lead').textContent(), /stop working/);
  const before = (await mailTo(stack, account.email, 1)).length;
  await page.getByLabel('Your current password').fill(account.password);
  await page.locator('#recovery-form [type="submit"]').click();
  await page.locator('#recovery-codes').waitFor();
  const fresh = await page.locator('#recovery-codes code').allTextContents();
  assert.equal(fresh.length, 10);
  assert.ok(fresh.every((c) => !recoveryCodes.includes(c)));
  assert.ok(await page.locator('#recovery-done').evaluate((el) => el === document.activeElement), 'focus on the new codes');
  assert.match(await page.locator('#account-status').textContent(), /new recovery codes/);
  await assertAxeClean('the account page with new recovery codes');
  const told = await mailTo(stack, account.email, before + 1);
  assert.equal(told[before].subject, 'New recovery codes for your whatever.gov account');

  // An old code never used is refused; a new one gets in.
  await signOut();
  await passwordStep();
  await page.getByLabel('Code from your app, or a recovery code').fill(recoveryCodes[5]);
  await page.locator('#second-factor-form [type="submit"]').click();
  await page.locator('#code-error:not([hidden])').waitFor();
  assert.match(await page.locator('#code-error').textContent(), /not right/);
  await page.getByLabel('Code from your app, or a recovery code').fill(fresh[0]);
  await Promise.all([page.waitForURL('**/my-plan/'), page.locator('#second-factor-form [type="submit"]').click()]);
  recoveryCodes = fresh;

  // The replacement app's next code signs in.
  await signOut();
  await signIn(page, totp(secret, Math.max(stepNow(), setupStep + 1)));
});
