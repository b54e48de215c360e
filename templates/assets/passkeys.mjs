// Passkeys (WebAuthn): the browser's ceremonies from the API's options,
// and signing in with one. The API speaks the options and answers as JSON,
// binary fields in base64url; the browser's calls take and give ArrayBuffers.

import { $, postJSON } from "./dom.mjs";
import { signedIn } from "./session.mjs";

/** Whether this browser can use passkeys here. */
export const passkeysSupported = () => window.isSecureContext && typeof PublicKeyCredential === 'function' && !!navigator.credentials;

const fromB64url = (text) => {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0)).buffer;
};
const toB64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** The options without their null members, which the browser refuses. */
const withoutNulls = (value) =>
  Array.isArray(value)
    ? value.map(withoutNulls)
    : value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]))
      : value;

const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));

/** Registers a new passkey on this device, from the API's options. */
export async function createPasskey(options) {
  const o = withoutNulls(options.publicKey);
  const credential = await navigator.credentials.create({
    publicKey: { ...o, challenge: fromB64url(o.challenge), user: { ...o.user, id: fromB64url(o.user.id) }, excludeCredentials: withIds(o.excludeCredentials) },
  });
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: { attestationObject: toB64url(r.attestationObject), clientDataJSON: toB64url(r.clientDataJSON), transports: r.getTransports ? r.getTransports() : [] },
    extensions: credential.getClientExtensionResults(),
  };
}

/** Signs with one of this site's passkeys, from the API's options. */
async function usePasskey(options) {
  const o = withoutNulls(options.publicKey);
  const credential = await navigator.credentials.get({
    publicKey: { ...o, challenge: fromB64url(o.challenge), allowCredentials: withIds(o.allowCredentials) },
  });
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    extensions: credential.getClientExtensionResults(),
  };
}

/** What went wrong with a passkey, in words; `null` if the person cancelled. */
export const passkeyProblem = (err) =>
  err && err.name === 'NotAllowedError'
    ? null
    : err && err.name === 'InvalidStateError'
      ? 'This device already has a passkey for your account.'
      : 'Your device could not use a passkey. Try again, or use another way.';

/** Signs in with a passkey; `status` says how it went. */
export async function passkeySignIn(status) {
  status.textContent = 'Waiting for your passkey…';
  try {
    const start = await postJSON('/api/login/passkey/start', {});
    if (!start.ok) throw new Error('start');
    let credential;
    try {
      credential = await usePasskey(start.data.options);
    } catch (err) {
      status.textContent = passkeyProblem(err) || 'Signing in with a passkey was cancelled.';
      return;
    }
    const res = await postJSON('/api/login/passkey/finish', { ceremony: start.data.ceremony, credential });
    if (res.ok) {
      signedIn(res.data, res.data.username);
      location.assign('/my-plan/');
      return;
    }
    status.textContent = (res.data && res.data.error && res.data.error.message) || 'That passkey was not accepted.';
  } catch {
    status.textContent = 'We could not reach the server. Check your connection and try again.';
  }
}

/** The sign-in page's "Sign in with a passkey", where the browser can. */
export function initPasskeySignin() {
  const box = $('#passkey-signin');
  if (box && passkeysSupported()) {
    box.hidden = false;
    box.querySelector('button').addEventListener('click', () => passkeySignIn($('#passkey-status')));
  }
  const second = $('#second-factor-passkey');
  if (second) second.querySelector('button').addEventListener('click', () => passkeySignIn($('#second-factor-status')));
}

