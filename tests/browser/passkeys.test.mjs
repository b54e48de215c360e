// Passkeys in a real browser: Chromium's virtual authenticator (CDP
// WebAuthn domain) stands in for a phone or a laptop's fingerprint reader.
// A new account adds a passkey as its second factor, signs out, and signs
// in with the passkey alone; then a password sign-in is offered the passkey
// as its second step; the account's only passkey stays. axe-core finds
// nothing on each page on the way.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, newPage, axeViolations } from './harness.mjs';
import { newcomer, mailTo, verificationLink, literally } from './accounts-support.mjs';

let stack;
let browser;
let page;
let cdp;
let authenticatorId;
let person;
const account = { username: 'pat.passkey', email: 'pat.passkey@example.org', password: 'heron quartz canyon nineteen' };

async function assertAxeClean(what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe-core on ${what}:\n${violations.join('\n')}`);
}

async function signOut() {
  await page.goto(`${stack.baseUrl}/account/`);
  await Promise.all([page.waitForURL(`${stack.baseUrl}/`), page.locator('#sign-out').click()]);
}

before(async () => {
  stack = await startStack('passkeys', { mail: true });
  browser = await launchBrowser();
  page = await newPage(browser);
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  }));
  person = newcomer(stack);
  // The account is created and verified as in the accounts journey; here
  // through the API the form calls, since that journey tests the form.
  const res = await fetch(`${stack.baseUrl}/api/accounts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      last_name: person.lastName,
      birth_date: person.birthDate,
      zip_code: person.zip,
      ssn_last4: person.ssnLast4,
      username: account.username,
      email: account.email,
      password: account.password,
    }),
  });
  assert.equal(res.status, 202, await res.text());
  await page.goto(await verificationLink(stack, account.email));
  await page.locator('#verify-status .usa-alert--success').waitFor();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a new account adds a passkey as its second factor', async () => {
  await page.goto(`${stack.baseUrl}/signin/`);
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await Promise.all([page.waitForURL('**/account/'), page.locator('#signin-form [type="submit"]').click()]);
  await page.locator('#setup-required').waitFor();
  await page.getByLabel('Name for the new passkey (optional)').fill('Test laptop <b>');
  await assertAxeClean('the account page before setup');
  await page.locator('#passkey-add').click();
  await page.locator('#recovery-codes').waitFor();
  assert.equal(await page.locator('#recovery-codes code').count(), 10);
  assert.ok(await page.locator('#recovery-codes-heading').evaluate((el) => el === document.activeElement), 'the codes get the focus');
  await assertAxeClean('the account page with recovery codes');

  // The device holds a discoverable credential for this site, and no username.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].rpId, 'localhost');
  assert.equal(credentials[0].isResidentCredential, true);
  assert.ok(!Buffer.from(credentials[0].userHandle, 'base64').toString('latin1').includes(account.username));

  const told = await mailTo(stack, account.email, 2);
  assert.equal(told[1].subject, 'A passkey was added to your whatever.gov account');

  // The session is a full one now: the plan shows.
  await page.goto(`${stack.baseUrl}/my-plan/`);
  await page.locator('.my-plan__current').waitFor();
  await page.goto(`${stack.baseUrl}/account/`);
  const listed = page.locator('#passkey-list li');
  await listed.first().waitFor();
  assert.match(await listed.first().textContent(), /Test laptop <b>/, 'the name shows as text');
  await assertAxeClean('the account page with a passkey');
});

test('the passkey signs in alone and the enrollment shows', async () => {
  await signOut();
  page.problems.length = 0;
  await page.goto(`${stack.baseUrl}/signin/`);
  await assertAxeClean('the sign-in page');
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await button.focus();
  // By keyboard, as anyone may.
  await Promise.all([page.waitForURL('**/my-plan/'), page.keyboard.press('Enter')]);
  await page.locator('.my-plan__current').waitFor();
  assert.match(await page.locator('#my-plan').textContent(), literally(person.planName));
  assert.deepEqual(page.problems, []);
});

test('after a right password, the passkey is the second step', async () => {
  await signOut();
  await page.goto(`${stack.baseUrl}/signin/`);
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.locator('#signin-form [type="submit"]').click();
  const usePasskey = page.getByRole('button', { name: 'Use your passkey' });
  await usePasskey.waitFor();
  assert.equal(await page.locator('label[for="code"]').textContent(), 'Recovery code', 'no app to ask a code of');
  await assertAxeClean('the second sign-in step with a passkey');
  await Promise.all([page.waitForURL('**/my-plan/'), usePasskey.click()]);
  await page.locator('.my-plan__current').waitFor();
  assert.deepEqual(page.problems, []);
});

test('the only passkey cannot be removed, and the page says why', async () => {
  await page.goto(`${stack.baseUrl}/account/`);
  await page.getByRole('button', { name: 'Remove the passkey Test laptop <b>' }).click();
  const password = page.getByLabel('Your current password');
  await password.waitFor();
  assert.ok(await password.evaluate((el) => el === document.activeElement), 'the password field gets the focus');
  await assertAxeClean('the account page asking for the password');
  await password.fill(account.password);
  await page.getByRole('button', { name: 'Remove the passkey', exact: true }).click();
  await page.locator('#passkey-remove-status', { hasText: 'only one' }).waitFor();
  await page.goto(`${stack.baseUrl}/account/`);
  await page.locator('#passkey-list li').first().waitFor();
  assert.equal(await page.locator('#passkey-list li').count(), 1, 'still there');
});

test('a passkey the device no longer has signs nobody in', async () => {
  await signOut();
  await cdp.send('WebAuthn.clearCredentials', { authenticatorId });
  await page.goto(`${stack.baseUrl}/signin/`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  // Chromium answers "not allowed" when no credential fits: told, not signed in.
  await page.locator('#passkey-status', { hasText: /cancelled|could not/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/signin/');
});
