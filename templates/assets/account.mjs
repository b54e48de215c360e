// Account pages: create an account, verify the email address, the second
// step of signing in, and the account's settings (the authenticator app set
// up, replaced or removed, new recovery codes, the password, the sessions
// one by one or all at once, passkeys).

import { $, h, fill, getJSON, plural, postJSON, setFieldError, storageSet } from "./dom.mjs";
import { ENROLLMENT_KEY, sessionHint, signedIn, signedOutLocally, signOut } from "./session.mjs";
import { createPasskey, passkeyProblem, passkeySignIn, passkeysSupported } from "./passkeys.mjs";


/**
 * The second step of signing in: a code from the app, or a recovery code,
 * or (for an account with one) a passkey.
 */
export function secondStep(username, methods = ['totp', 'recovery_code']) {
  const form = $('#second-factor-form');
  const status = $('#second-factor-status');
  const input = form.elements.code;
  const error = $('#code-error');
  form.hidden = false;
  if (!methods.includes('totp')) {
    $('#second-factor-intro').textContent = 'Use your passkey to finish signing in. Lost it? Enter one of your recovery codes instead.';
    form.querySelector('label[for="code"]').textContent = 'Recovery code';
  }
  const passkey = $('#second-factor-passkey');
  if (methods.includes('passkey') && passkeysSupported()) {
    passkey.hidden = false;
    passkey.querySelector('button').focus();
  } else {
    input.focus();
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    setFieldError(input, error, value ? '' : 'Enter the code from your app, or a recovery code.');
    if (!value) {
      input.focus();
      return;
    }
    // Six digits are an app's code; anything else is a recovery code.
    const digits = value.replace(/\s+/g, '');
    const payload = /^[0-9]{6}$/.test(digits) ? { code: digits } : { recovery_code: value };
    status.textContent = 'Checking your code…';
    try {
      const res = await getJSON('/api/login/second-factor', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(payload),
      });
      if (res.ok) {
        signedIn(res.data, username);
        location.assign('/my-plan/');
        return;
      }
      const message = (res.data && res.data.error && res.data.error.message) || 'That code did not work. Try again.';
      status.textContent = '';
      setFieldError(input, error, message);
      if (/sign in again/i.test(message)) {
        form.hidden = true;
        $('#signin-form').hidden = false;
        $('#signin-status').textContent = message;
        $('#signin-form').elements.password.focus();
        return;
      }
    } catch {
      status.textContent = 'We could not reach the server. Check your connection and try again.';
    }
    input.value = '';
    input.focus();
  });
}

/** The settings page's passkeys: the list, removing one, adding one. */
function passkeysSection(account) {
  const passkeys = account.second_factor.passkeys;
  const when = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium' });
  const status = h('div', { id: 'passkey-status', role: 'status' });
  const error = h('span', { class: 'usa-error-message', id: 'passkey-name-error', hidden: true });
  const name = h('input', { class: 'usa-input', id: 'passkey-name', name: 'name', type: 'text', maxlength: '64', autocomplete: 'off', 'aria-describedby': 'passkey-name-hint' });
  // Asked for only when the API wants it: an account that has a factor,
  // signed in more than a few minutes ago.
  const password = h('input', { class: 'usa-input', id: 'passkey-password', name: 'password', type: 'password', autocomplete: 'current-password' });
  const passwordGroup = h('div', { class: 'usa-form-group', hidden: true }, h('label', { class: 'usa-label', for: 'passkey-password' }, 'Your password, to confirm it is you'), password);
  const form = h(
    'form',
    { class: 'usa-form', id: 'passkey-form', novalidate: true },
    h(
      'div',
      { class: 'usa-form-group' },
      h('label', { class: 'usa-label', for: 'passkey-name' }, 'Name for the new passkey (optional)'),
      h('span', { class: 'usa-hint', id: 'passkey-name-hint' }, 'For example, “Work laptop” or “My phone”.'),
      error,
      name,
    ),
    passwordGroup,
    h('button', { class: 'usa-button', type: 'submit', id: 'passkey-add' }, 'Add a passkey'),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setFieldError(name, error, '');
    status.textContent = 'Follow your browser’s steps to create the passkey…';
    const start = await postJSON('/api/me/passkeys/register/start', password.value ? { password: password.value } : {});
    if (!start.ok) {
      const problem = start.data && start.data.error;
      status.textContent = (problem && problem.message) || 'Adding a passkey is not available right now.';
      if (problem && (problem.code === 'reauthentication_required' || problem.code === 'wrong_password')) {
        passwordGroup.hidden = false;
        password.value = '';
        password.focus();
      }
      return;
    }
    let credential;
    try {
      credential = await createPasskey(start.data.options);
    } catch (err) {
      status.textContent = passkeyProblem(err) || 'Adding a passkey was cancelled.';
      return;
    }
    const done = await postJSON('/api/me/passkeys/register/finish', { ceremony: start.data.ceremony, name: name.value, credential });
    if (!done.ok) {
      const problem = done.data && done.data.error;
      if (problem && problem.field === 'name') {
        setFieldError(name, error, problem.message);
        status.textContent = '';
        return name.focus();
      }
      status.textContent = (problem && problem.message) || 'The passkey could not be added.';
      return;
    }
    storageSet(sessionStorage, ENROLLMENT_KEY, null);
    if (!done.data.recovery_codes) {
      await initAccount();
      announce('Your passkey is added.');
      return $('#passkeys-heading').focus();
    }
    const box = $('#passkeys');
    fill(
      box,
      h('h2', {}, 'Passkeys'),
      h('div', { class: 'usa-alert usa-alert--success' }, h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text', id: 'passkey-done' }, 'Your passkey is added.'))),
      h('div', { id: 'passkey-codes' }),
      h('a', { class: 'usa-button', href: '/my-plan/' }, 'Go to your plan'),
    );
    showRecoveryCodes($('#passkey-codes'), done.data.recovery_codes, 'Your recovery codes', 'recovery-codes-heading');
  });
  const list = passkeys.length
    ? h(
        'ul',
        { class: 'usa-list', id: 'passkey-list' },
        passkeys.map((p) =>
          h(
            'li',
            {},
            h('strong', {}, p.name),
            ` — added ${when.format(new Date(p.created_at))}`,
            p.last_used_at ? `, last used ${when.format(new Date(p.last_used_at))}` : ', not used yet',
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'usa-button usa-button--unstyled',
                'aria-label': `Remove the passkey ${p.name}`,
                onclick: () =>
                  confirmWithPassword($('#passkey-manage'), {
                    id: 'passkey-remove',
                    lead: `The passkey “${p.name}” will no longer sign in to your account.`,
                    submit: 'Remove the passkey',
                    send: (password) => postJSON(`/api/me/passkeys/${encodeURIComponent(p.id)}/remove`, { password }),
                    done: async () => {
                      await initAccount();
                      announce(`The passkey “${p.name}” is removed.`);
                      $('#passkeys-heading').focus();
                    },
                  }),
              },
              'Remove',
            ),
          ),
        ),
      )
    : h('p', {}, 'A passkey signs you in with your device’s fingerprint, face or PIN: nothing to type, and nothing anyone can phish.');
  return h('div', { id: 'passkeys' }, h('h2', { id: 'passkeys-heading', tabindex: '-1' }, 'Passkeys'), list, h('div', { id: 'passkey-manage' }, passkeysSupported() ? form : h('p', {}, 'This browser cannot add a passkey.')));
}

const CREATE_FIELDS = {
  last_name: 'Enter your last name.',
  birth_date: 'Enter your date of birth.',
  zip_code: 'Enter your 5-digit ZIP code.',
  ssn_last4: 'Enter the last 4 digits of your Social Security number.',
  username: 'Choose a username.',
  email: 'Enter your email address.',
  password: 'Choose a password.',
};

/** The three fields of the birth date (USWDS's memorable date), month first. */
const birthFields = (form) => ['month', 'day', 'year'].map((part) => form.elements[`birth_date_${part}`]);

/**
 * The birth date as the API takes it (YYYY-MM-DD), or '' while a part is
 * missing; the API says whether the date exists.
 */
function birthDate(form) {
  const [month, day, year] = birthFields(form).map((el) => el.value.trim());
  if (!month || !day || !year) return '';
  return `${year.padStart(4, '0')}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/** Marks (or clears) the three birth date fields, with one message above them. */
function setBirthDateError(form, message) {
  const fields = birthFields(form);
  setFieldError(fields[0], $('#birth_date-error'), message);
  for (const el of fields.slice(1)) {
    if (message) el.setAttribute('aria-invalid', 'true');
    else el.removeAttribute('aria-invalid');
    el.classList.toggle('usa-input--error', Boolean(message));
  }
  $('#birth_date-group').classList.toggle('usa-form-group--error', Boolean(message));
  // The first part left empty, or the month: where to type next.
  return fields.find((el) => !el.value.trim()) || fields[0];
}

function initCreateAccount() {
  const form = $('#create-form');
  const status = $('#create-status');
  if (!form) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = {};
    let first = null;
    for (const [name, missing] of Object.entries(CREATE_FIELDS)) {
      if (name === 'birth_date') {
        values[name] = birthDate(form);
        const el = setBirthDateError(form, values[name] ? '' : missing);
        if (!values[name] && !first) first = el;
        continue;
      }
      const el = form.elements[name];
      values[name] = name === 'password' ? el.value : el.value.trim();
      setFieldError(el, $(`#${name}-error`), values[name] ? '' : missing);
      if (!values[name] && !first) first = el;
    }
    if (first) {
      first.focus();
      return;
    }
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    status.textContent = 'Sending…';
    try {
      const res = await postJSON('/api/accounts', values);
      if (res.status === 202) {
        fill(status, h('div', { class: 'usa-alert usa-alert--success', id: 'create-done' }, h('div', { class: 'usa-alert__body' }, h('h2', { class: 'usa-alert__heading' }, 'Check your email'), h('p', { class: 'usa-alert__text' }, res.data.message))));
        form.querySelectorAll('input').forEach((el) => {
          el.disabled = true;
        });
        return;
      }
      const fields = (res.data && res.data.error && res.data.error.fields) || [];
      if (res.status === 422 && fields.length) {
        for (const { field, message } of fields) {
          if (field === 'birth_date') {
            const el = setBirthDateError(form, message);
            if (!first) first = el;
            continue;
          }
          const el = form.elements[field];
          if (!el) continue;
          setFieldError(el, $(`#${field}-error`), message);
          if (!first) first = el;
        }
        status.textContent = `Please correct ${fields.length === 1 ? 'the field' : `${fields.length} fields`} marked above.`;
        first.focus();
      } else {
        status.textContent =
          res.status === 429
            ? 'Too many attempts. Please wait an hour, then try again.'
            : 'Creating an account is not available right now. Please try again later.';
      }
    } catch {
      status.textContent = 'We could not reach the server. Check your connection and try again.';
    }
    submit.disabled = false;
  });
}

async function initVerify() {
  const status = $('#verify-status');
  if (!status) return;
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  // The token must not linger in the address bar or history.
  history.replaceState(null, '', location.pathname);
  if (!token) {
    fill(status, h('p', {}, 'This page needs the link from the email we sent you. Open that link again.'));
    return;
  }
  try {
    const res = await postJSON('/api/accounts/verify-email', { token });
    fill(
      status,
      res.ok
        ? h('div', { class: 'usa-alert usa-alert--success' }, h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text' }, res.data.message, ' ', h('a', { href: '/signin/' }, 'Sign in'), '.')))
        : h('div', { class: 'usa-alert usa-alert--error' }, h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text' }, (res.data && res.data.error && res.data.error.message) || 'This link did not work.'))),
    );
  } catch {
    fill(status, h('p', {}, 'We could not reach the server. Check your connection and try again.'));
  }
}

/** Mails a link that confirms the account's address (accounts from before self-service ones). */
async function confirmEmail() {
  try {
    const res = await postJSON('/api/me/email/confirm', {});
    announce(res.ok ? res.data.message : 'We could not send the link right now. Please try again later.');
  } catch {
    announce('We could not reach the server. Check your connection and try again.');
  }
}

/** Says `message` in the page's status region (read out by screen readers). */
function announce(message) {
  const status = $('#account-status');
  if (status) status.textContent = message;
}

async function initAccount() {
  const root = $('#account');
  if (!root) return;
  const signIn = () => fill(root, h('p', {}, 'Sign in to see your account. ', h('a', { class: 'usa-button', href: '/signin/' }, 'Sign in')));
  if (!sessionHint()) return signIn();
  const res = await getJSON('/api/me/account');
  if (res.status === 401) {
    signedOutLocally();
    return signIn();
  }
  if (!res.ok) return fill(root, h('p', {}, 'We could not load your account right now. Please try again later.'));
  const account = res.data;
  const factor = account.second_factor;
  const anyFactor = factor.totp || factor.passkeys.length > 0;
  fill(
    root,
    account.setup_only
      ? h('div', { class: 'usa-alert usa-alert--warning' }, h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text', id: 'setup-required' }, 'Before you can see your plan, add a second way to prove it is you: an authenticator app, which gives you a code each time you sign in, or a passkey on this device.')))
      : null,
    h('h2', {}, 'Sign-in details'),
    h('dl', { class: 'account-details' }, h('dt', {}, 'Username'), h('dd', {}, account.username), h('dt', {}, 'Email address'), h('dd', {}, account.email || '—')),
    account.email && !account.email_verified
      ? h(
          'div',
          { id: 'email-confirm' },
          h('p', {}, 'Your email address is not confirmed yet. Until it is, we cannot send you a link to reset a forgotten password, nor tell you of changes to your account.'),
          h('button', { type: 'button', class: 'usa-button usa-button--outline', onclick: confirmEmail }, 'Confirm your email address'),
        )
      : null,
    h('h2', { id: 'totp-heading', tabindex: '-1' }, 'Authenticator app'),
    factor.totp
      ? [
          h('p', { id: 'totp-on' }, 'Signing in asks for a code from your authenticator app.'),
          h(
            'div',
            { id: 'totp-setup' },
            h('button', { type: 'button', class: 'usa-button usa-button--outline', id: 'totp-replace', onclick: replaceTotp }, 'Replace the authenticator app'),
            factor.totp_removable
              ? h('button', { type: 'button', class: 'usa-button usa-button--secondary', id: 'totp-remove', onclick: removeTotp }, 'Remove the authenticator app')
              : h('p', { id: 'totp-keep', class: 'usa-hint' }, 'Your account must keep a second way to sign in, so you can replace this app (for example on a new phone) but not remove it.'),
          ),
        ]
      : h(
          'div',
          { id: 'totp-setup' },
          h('p', {}, 'Protect your account with a second step at sign-in: a code from an authenticator app on your phone.'),
          h('button', { type: 'button', class: 'usa-button', id: 'totp-start', onclick: startTotp }, 'Set up an authenticator app'),
        ),
    passkeysSection(account),
    anyFactor
      ? [
          h('h2', { id: 'recovery-heading', tabindex: '-1' }, 'Recovery codes'),
          h('div', { id: 'recovery-box' },
            h('p', { id: 'recovery-left' }, `If you lose your phone or your passkey, a recovery code lets you sign in once. You have ${plural(factor.recovery_codes_left, 'recovery code', 'recovery codes')} left.`),
            h('button', { type: 'button', class: 'usa-button usa-button--outline', id: 'recovery-new', onclick: newRecoveryCodes }, 'Get new recovery codes'),
          ),
        ]
      : null,
    account.setup_only ? null : passwordForm(),
    account.setup_only ? null : [h('div', { id: 'sessions' }), h('div', { id: 'sessions-status', role: 'status' })],
    h('button', { type: 'button', class: 'usa-button usa-button--secondary margin-top-3', id: 'sign-out', onclick: signOut }, 'Sign out'),
  );
  if (!account.setup_only) showSessions();
}

/**
 * A form that asks for the current password before a change to the
 * account, in `box`. `send(password)` makes the request; the server's
 * verdict on the password is tied to the field, other refusals are said
 * in the form's status. `done(data)` gets the answer of a success.
 */
function confirmWithPassword(box, { id, lead, submit, send, done }) {
  const error = h('span', { class: 'usa-error-message', id: `${id}-password-error`, hidden: true });
  const input = h('input', { class: 'usa-input', id: `${id}-password`, name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { id: `${id}-status`, role: 'status' });
  const form = h(
    'form',
    { class: 'usa-form', id: `${id}-form`, novalidate: true },
    h('p', { id: `${id}-lead` }, lead),
    h('div', { class: 'usa-form-group' }, h('label', { class: 'usa-label', for: input.id }, 'Your current password'), error, input),
    h('button', { class: 'usa-button', type: 'submit' }, submit),
    h('button', { class: 'usa-button usa-button--unstyled', type: 'button', onclick: () => initAccount() }, 'Cancel'),
    status,
  );
  input.setAttribute('aria-describedby', `${id}-lead`);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setFieldError(input, error, input.value ? '' : 'Enter your current password.');
    if (!input.value) return input.focus();
    status.textContent = 'Checking your password…';
    let res;
    try {
      res = await send(input.value);
    } catch {
      status.textContent = 'We could not reach the server. Check your connection and try again.';
      return;
    }
    status.textContent = '';
    if (res.ok) return done(res.data);
    const message = (res.data && res.data.error && res.data.error.message) || '';
    if (res.status === 403 || res.status === 422) {
      setFieldError(input, error, message || 'That is not your current password.');
      input.value = '';
      return input.focus();
    }
    if (res.status === 429) {
      setFieldError(input, error, 'Too many wrong passwords. Please wait a few minutes, then try again.');
      return input.focus();
    }
    status.textContent = res.status === 409 && message ? message : 'This change is not available right now. Please try again later.';
  });
  fill(box, form);
  input.focus();
}

/** Replace the authenticator app: password, then the new app's code. */
function replaceTotp() {
  confirmWithPassword($('#totp-setup'), {
    id: 'replace',
    lead: 'To move your sign-in codes to another app or phone, enter your password. Your current app keeps working until you confirm the new one.',
    submit: 'Continue',
    send: (password) => postJSON('/api/me/totp', { password }),
    done: (data) => showSetup($('#totp-setup'), data),
  });
}

/** Remove the authenticator app (only offered where the account may). */
function removeTotp() {
  confirmWithPassword($('#totp-setup'), {
    id: 'remove',
    lead: 'Without the app, signing in takes only your password, and your recovery codes stop working.',
    submit: 'Remove the authenticator app',
    send: (password) => postJSON('/api/me/totp/remove', { password }),
    done: async () => {
      await initAccount();
      announce('Your authenticator app is removed. Signing in now takes only your password.');
      $('#totp-heading').focus();
    },
  });
}

/** New recovery codes: the old ones stop working. */
function newRecoveryCodes() {
  const box = $('#recovery-box');
  confirmWithPassword(box, {
    id: 'recovery',
    lead: 'New recovery codes replace all of your current ones: the codes you have now stop working. You will see the new codes only once.',
    submit: 'Get new recovery codes',
    send: (password) => postJSON('/api/me/recovery-codes', { password }),
    done: (data) => {
      showRecoveryCodes(box, data.recovery_codes, 'Your new recovery codes', 'recovery-done');
      announce('You have new recovery codes. The old ones no longer work.');
    },
  });
}

/** Ten recovery codes, shown once, under a heading that takes the focus. */
function showRecoveryCodes(box, codes, heading, id) {
  fill(
    box,
    h('h3', { id, tabindex: '-1' }, heading),
    h('p', {}, 'If you lose your phone or your passkey, each of these codes lets you sign in once. Keep them somewhere safe: they are shown only now.'),
    h('ul', { id: 'recovery-codes', class: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
  );
  $(`#${id}`).focus();
}

/** Change the password: the current one is required; other sessions end. */
function passwordForm() {
  const field = (name, label, autocomplete) => {
    const error = h('span', { class: 'usa-error-message', id: `${name}-error`, hidden: true });
    const input = h('input', { class: 'usa-input', id: name, name, type: 'password', autocomplete, required: true });
    return [h('div', { class: 'usa-form-group' }, h('label', { class: 'usa-label', for: name }, label), error, input), input, error];
  };
  const [currentGroup, current, currentError] = field('current_password', 'Current password', 'current-password');
  const [newGroup, next, nextError] = field('new_password', 'New password', 'new-password');
  const status = h('div', { id: 'password-status', role: 'status' });
  const form = h('form', { class: 'usa-form', id: 'password-form', novalidate: true }, currentGroup, newGroup, h('button', { class: 'usa-button', type: 'submit' }, 'Change password'), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setFieldError(current, currentError, current.value ? '' : 'Enter your current password.');
    setFieldError(next, nextError, next.value ? '' : 'Choose a new password.');
    if (!current.value || !next.value) return (current.value ? next : current).focus();
    const res = await postJSON('/api/me/password', { current_password: current.value, new_password: next.value });
    const fields = (res.data && res.data.error && res.data.error.fields) || [];
    for (const { field: name, message } of fields) {
      if (name === 'current_password') setFieldError(current, currentError, message);
      if (name === 'new_password') setFieldError(next, nextError, message);
    }
    if (fields.length) return (fields[0].field === 'current_password' ? current : next).focus();
    status.textContent = res.ok
      ? `Your password is changed. ${plural(res.data.sessions_ended, 'other session was', 'other sessions were')} signed out.`
      : 'Changing the password is not available right now.';
    if (res.ok) {
      current.value = '';
      next.value = '';
      showSessions();
    }
  });
  return h('div', {}, h('h2', {}, 'Password'), form);
}

/** The sessions still open, each with a way to end it, and "sign out everywhere". */
async function showSessions() {
  const box = $('#sessions');
  const res = await getJSON('/api/me/sessions');
  if (!box || !res.ok) return;
  const when = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });
  fill(
    box,
    h('h2', { id: 'sessions-heading', tabindex: '-1' }, 'Where you are signed in'),
    h('ul', { class: 'usa-list usa-list--unstyled', id: 'session-list' }, res.data.sessions.map((s) => {
      const label = `Since ${when.format(new Date(s.started_at))}${s.client_addr ? ` from ${s.client_addr}` : ''}${s.current ? ' (this browser)' : ''}`;
      return h(
        'li',
        { class: 'session margin-bottom-2' },
        h('span', { id: `session-${s.id}` }, label),
        ' ',
        h('button', { type: 'button', class: 'usa-button usa-button--unstyled margin-left-1', 'aria-describedby': `session-${s.id}`, onclick: () => endSession(s) }, 'End this session'),
      );
    })),
    h('button', {
      type: 'button',
      class: 'usa-button usa-button--outline',
      id: 'end-all',
      onclick: async () => {
        await postJSON('/api/me/sessions/end-all', {});
        signedOutLocally();
        location.assign('/signin/');
      },
    }, 'Sign out everywhere'),
  );
}

/** Ends one session; ending this browser's own is signing out. */
async function endSession(session) {
  const status = $('#sessions-status');
  let res;
  try {
    res = await postJSON(`/api/me/sessions/${encodeURIComponent(session.id)}/end`, {});
  } catch {
    status.textContent = 'We could not reach the server. Check your connection and try again.';
    return;
  }
  if (res.ok && res.data.current) {
    signedOutLocally();
    location.assign('/signin/');
    return;
  }
  // A session that ended meanwhile (404) is gone from the list as well.
  status.textContent = res.ok || res.status === 404 ? 'The session is ended: that browser or device is signed out.' : 'Ending the session is not available right now.';
  await showSessions();
  $('#sessions-heading').focus();
}

/** Starts setting up a first authenticator app. */
async function startTotp() {
  const box = $('#totp-setup');
  const res = await postJSON('/api/me/totp', {});
  if (res.status === 403 && res.data && res.data.error && res.data.error.code === 'reauthentication_required') {
    confirmWithPassword(box, {
      id: 'add-totp',
      lead: 'To add an authenticator app beside your passkey, enter your password.',
      submit: 'Continue',
      send: (password) => postJSON('/api/me/totp', { password }),
      done: (data) => showSetup(box, data),
    });
    return;
  }
  if (!res.ok) {
    fill(box, h('p', { role: 'alert' }, (res.data && res.data.error && res.data.error.message) || 'Setting up is not available right now.'));
    return;
  }
  showSetup(box, res.data);
}

/**
 * The new app's key and QR code, and the form for its first code. A first
 * app ends with the recovery codes; a replacement with its confirmation.
 */
function showSetup(box, setup) {
  const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}`;
  const error = h('span', { class: 'usa-error-message', id: 'totp-code-error', hidden: true });
  const input = h('input', { class: 'usa-input usa-input--medium', id: 'totp-code', name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', required: true });
  const status = h('div', { id: 'totp-status', role: 'status' });
  const form = h(
    'form',
    { class: 'usa-form', id: 'totp-form', novalidate: true },
    h('div', { class: 'usa-form-group' }, h('label', { class: 'usa-label', for: 'totp-code' }, 'The 6-digit code your app shows now'), error, input),
    h('button', { class: 'usa-button', type: 'submit' }, 'Confirm'),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = input.value.replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(code)) {
      setFieldError(input, error, 'Enter the 6 digits your app shows.');
      input.focus();
      return;
    }
    const done = await postJSON('/api/me/totp/confirm', { code });
    if (!done.ok) {
      setFieldError(input, error, (done.data && done.data.error && done.data.error.message) || 'That code did not work.');
      input.focus();
      return;
    }
    storageSet(sessionStorage, ENROLLMENT_KEY, null);
    if (done.data.status === 'replaced') {
      fill(box, h('div', { class: 'usa-alert usa-alert--success' }, h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text', id: 'totp-done', tabindex: '-1' }, 'Your authenticator app is replaced. Codes from the old app no longer work; your recovery codes still do.'))));
      $('#totp-done').focus();
      return;
    }
    fill(box, h('div', { class: 'usa-alert usa-alert--success' }, h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text', id: 'totp-done', tabindex: '-1' }, 'Your authenticator app is set up.'))), h('div', { id: 'totp-codes' }));
    // Only an account's first factor brings recovery codes; others keep theirs.
    if (done.data.recovery_codes) showRecoveryCodes($('#totp-codes'), done.data.recovery_codes, 'Your recovery codes', 'recovery-codes-heading');
    box.append(h('a', { class: 'usa-button', href: '/my-plan/' }, 'Go to your plan'));
    $('#totp-done').focus();
  });
  fill(
    box,
    h('ol', {},
      h('li', {}, 'Open an authenticator app on your phone and add an account.'),
      h('li', {}, 'Scan this QR code, or type this key: ', h('code', { id: 'totp-secret' }, setup.secret)),
      h('li', {}, 'Enter the code the app shows.'),
    ),
    h('img', { src: qr, alt: 'QR code to add whatever.gov to your authenticator app', width: '200', height: '200', id: 'totp-qr' }),
    form,
  );
  input.focus();
}

/** The second factors a reset left in place, with where to remove them. */
function remainingFactors(factors) {
  if (!factors) return h('span', {});
  const items = [];
  if (factors.totp) items.push(h('li', {}, 'An authenticator app'));
  for (const key of factors.passkeys || []) items.push(h('li', {}, `Passkey “${key.name}”, added ${key.created_at.slice(0, 10)}`));
  if (!items.length) return h('span', {});
  return h('div', {},
    h('p', {}, 'These ways to sign in still work. If one is not yours, sign in and remove it under ', h('a', { href: '/account/' }, 'your account'), '.'),
    h('ul', { class: 'usa-list' }, ...items));
}

function initReset() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  history.replaceState(null, '', location.pathname);
  const forgot = $('#forgot-form');
  const reset = $('#reset-form');
  if (!forgot || !reset) return;
  if (!token) {
    forgot.addEventListener('submit', async (event) => {
      event.preventDefault();
      const input = forgot.elements.email;
      const email = input.value.trim();
      setFieldError(input, $('#email-error'), email ? '' : 'Enter your email address.');
      if (!email) return input.focus();
      const res = await postJSON('/api/password/forgot', { email });
      const fields = (res.data && res.data.error && res.data.error.fields) || [];
      if (res.status === 422 && fields.length) {
        setFieldError(input, $('#email-error'), fields[0].message);
        return input.focus();
      }
      $('#forgot-status').textContent = res.status === 202 ? res.data.message : 'Please try again later.';
    });
    return;
  }
  forgot.hidden = true;
  reset.hidden = false;
  reset.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = reset.elements.password;
    setFieldError(input, $('#password-error'), input.value ? '' : 'Choose a new password.');
    if (!input.value) return input.focus();
    const res = await postJSON('/api/password/reset', { token, password: input.value });
    const fields = (res.data && res.data.error && res.data.error.fields) || [];
    if (res.status === 422 && fields.length) {
      setFieldError(input, $('#password-error'), fields[0].message);
      return input.focus();
    }
    if (res.ok) signedOutLocally();
    fill(
      $('#reset-status'),
      res.ok
        ? h('div', {}, h('p', {}, res.data.message, ' ', h('a', { href: '/signin/' }, 'Sign in'), '.'), remainingFactors(res.data.factors))
        : h('p', {}, (res.data && res.data.error && res.data.error.message) || 'Please try again later.'),
    );
  });
}


/** Starts the account page this is (`data-page` of the body). */
export function initAccountPages() {
  const start = { 'account-create': initCreateAccount, 'account-verify': initVerify, 'account-reset': initReset, account: initAccount }[document.body.dataset.page];
  if (start) return start();
}
