// The sign-in page's password form; a second factor or a passkey continues
// in account.mjs.

import { $, h, fill, getJSON, postJSON, setFieldError } from "./dom.mjs";
import { sessionHint, signedIn } from "./session.mjs";
import { secondStep } from "./account.mjs";

export function initSignin() {
  const form = $('#signin-form');
  const status = $('#signin-status');
  if (!form) return;
  unlock(status);
  const hint = sessionHint();
  if (hint && status) {
    fill(status, `You are signed in as ${hint.username}. `, h('a', { href: '/my-plan/' }, 'See your plan'), '.');
  }
  form.noValidate = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    const fields = { username: [form.elements.username, username, 'Enter your username.'], password: [form.elements.password, password, 'Enter your password.'] };
    let first = null;
    for (const [name, [el, value, message]] of Object.entries(fields)) {
      let err = $(`#${name}-error`);
      if (!err) {
        err = h('span', { class: 'usa-error-message', id: `${name}-error`, hidden: true });
        el.before(err);
      }
      setFieldError(el, err, value ? '' : message);
      if (!value && !first) first = el;
    }
    if (first) {
      first.focus();
      return;
    }
    const submit = form.querySelector('[type="submit"]');
    if (submit) submit.disabled = true;
    status.textContent = 'Signing in…';
    try {
      const res = await getJSON('/api/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      if (res.ok && res.data && res.data.status === 'second_factor_required') {
        form.hidden = true;
        secondStep(username, res.data.methods);
        return;
      }
      if (res.ok) {
        signedIn(res.data, username);
        // An account that must add a second factor does that first.
        location.assign(res.data && res.data.second_factor === 'setup_required' ? '/account/' : '/my-plan/');
        return;
      }
      status.textContent =
        res.status === 401
          ? 'That username and password do not match our records. Check them and try again.'
          : res.status === 403 && res.data && res.data.error
            ? res.data.error.message
            : res.status === 429
            ? (res.data && res.data.error && res.data.error.message) || 'Too many sign-in attempts. Wait a few minutes, then try again.'
            : 'Sign-in is not available right now. Please try again later.';
    } catch {
      status.textContent = 'We could not reach the server. Check your connection and try again.';
    }
    if (submit) submit.disabled = false;
    form.elements.password.value = '';
    form.elements.password.focus();
  });
}


/**
 * The unlock link mailed while strangers' guesses hold an account
 * (`/signin/#token=…`): lets this device sign in, then the form does the rest.
 */
async function unlock(status) {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token || !status) return;
  // The token must not linger in the address bar or history.
  history.replaceState(null, '', location.pathname);
  try {
    const res = await postJSON('/api/login/unlock', { token });
    status.textContent = res.ok
      ? res.data.message
      : (res.data && res.data.error && res.data.error.message) || 'This link did not work.';
  } catch {
    status.textContent = 'We could not reach the server. Check your connection and try again.';
  }
}
