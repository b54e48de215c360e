// Who is signed in, as this browser remembers it (a hint, never the token:
// that is an HttpOnly cookie), and the visitor's enrollment from the API.

import { $$, getJSON, storageGet, storageSet } from "./dom.mjs";

const HINT_KEY = "wg.session";
/** Where the enrollment is cached for the tab (sessionStorage). */
export const ENROLLMENT_KEY = "wg.enrollment";
const ENROLLMENT_TTL_MS = 5 * 60 * 1000;

export function sessionHint() {
  const hint = storageGet(localStorage, HINT_KEY);
  if (!hint || !hint.username) return null;
  if (hint.expires_at && Date.parse(hint.expires_at) <= Date.now()) {
    signedOutLocally();
    return null;
  }
  return hint;
}

export function signedOutLocally() {
  storageSet(localStorage, HINT_KEY, null);
  storageSet(sessionStorage, ENROLLMENT_KEY, null);
  updateAuthNav();
}

export function updateAuthNav() {
  const signedIn = Boolean(storageGet(localStorage, HINT_KEY));
  for (const el of $$('[data-auth]')) {
    el.hidden = (el.dataset.auth === 'signed-in') !== signedIn;
  }
}

/** The visitor's enrollment, or null when signed out (without calling the API). */
export async function enrollment({ fresh = false } = {}) {
  if (!sessionHint()) return null;
  const cached = storageGet(sessionStorage, ENROLLMENT_KEY);
  if (!fresh && cached && Date.now() - cached.at < ENROLLMENT_TTL_MS) return cached.data;
  const res = await getJSON('/api/me/enrollment');
  if (res.status === 401) {
    signedOutLocally();
    return null;
  }
  if (res.status === 403) throw Object.assign(new Error('second factor first'), { setupFirst: true });
  if (!res.ok || !res.data) throw new Error(`enrollment: HTTP ${res.status}`);
  // Keep only what the pages show: the name, the current plan, the history.
  const b = res.data.beneficiary || {};
  const kept = { beneficiary: { fname: b.fname, lname: b.lname }, current_plan: res.data.current_plan || null, history: res.data.history || [] };
  storageSet(sessionStorage, ENROLLMENT_KEY, { at: Date.now(), data: kept });
  // The API slides the session forward while it is used; follow it.
  const hint = sessionHint();
  if (hint && hint.ttl_ms) storageSet(localStorage, HINT_KEY, { ...hint, expires_at: new Date(Date.now() + hint.ttl_ms).toISOString() });
  return kept;
}

// ---------- plan deltas against the current plan ----------

/** Remembers (without anything secret) that this browser is signed in. */
export function signedIn(data, username) {
  storageSet(sessionStorage, ENROLLMENT_KEY, null);
  const expires = Date.parse((data && data.expires_at) || '');
  storageSet(localStorage, HINT_KEY, {
    username: (data && data.username) || username,
    expires_at: Number.isNaN(expires) ? null : new Date(expires).toISOString(),
    ttl_ms: Number.isNaN(expires) ? null : Math.max(0, expires - Date.now()),
  });
}

export async function signOut() {
  try {
    await fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    // The local hint goes anyway; the short-lived token expires on its own.
  }
  signedOutLocally();
  location.assign('/');
}
