// Small DOM, storage and fetch helpers every page module shares (one module
// instance per page, so a JSON file is fetched once however many modules ask).

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** Builds an element: attributes (class, hidden, on*) and children (strings are text, arrays flattened). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

/** Replaces an element's children, skipping the null/false of conditional parts. */
export const fill = (el, ...children) => el.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));

const SVG = "http://www.w3.org/2000/svg";
export function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
export const drugs = (n) => plural(n, "drug", "drugs");

const fetched = new Map();
/** Same-origin static JSON, each URL fetched once per page. */
export function json(url) {
  if (!fetched.has(url)) {
    const p = fetch(url, { credentials: "omit", headers: { Accept: "application/json" } }).then((r) => {
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.json();
    });
    p.catch(() => fetched.delete(url));
    fetched.set(url, p);
  }
  return fetched.get(url);
}
export const drugFile = (rxcui) => json(`/data/drugs/${encodeURIComponent(rxcui)}.json`);
/** A plan's premium, deductible and drug terms: all an estimate needs of it. */
export const planCostsFile = (id) => json(`/data/drugs/plans/${encodeURIComponent(id)}.json`);

/** rxcui -> drug JSON for every entry of a list. */
export async function drugMap(entries) {
  const files = await Promise.all(entries.map((e) => drugFile(e.rxcui)));
  return new Map(files.map((d) => [d.rxcui, d]));
}

/** A JSON value from localStorage or sessionStorage, or null. */
export function storageGet(store, key) {
  try {
    return JSON.parse(store.getItem(key));
  } catch {
    return null;
  }
}
/** Stores a JSON value (null removes it); a full or refused store is no error. */
export function storageSet(store, key, value) {
  try {
    if (value == null) store.removeItem(key);
    else store.setItem(key, JSON.stringify(value));
  } catch {
    // Private browsing or a full quota: the feature degrades to this page only.
  }
}

/** Fetches JSON: `{status, ok, data}`, data null when the body is not JSON. */
export async function getJSON(url, options) {
  const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...options });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return { status: res.status, ok: res.ok, data };
}

/** A random UUID (v4), for idempotency keys. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Shows (or, with an empty message, clears) a field's error as USWDS does. */
export function setFieldError(input, errorEl, message) {
  const group = input.closest('.usa-form-group');
  if (message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.classList.add('usa-input--error');
    const described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (!described.includes(errorEl.id)) input.setAttribute('aria-describedby', [...described, errorEl.id].join(' '));
    if (group) group.classList.add('usa-form-group--error');
  } else {
    errorEl.textContent = '';
    errorEl.hidden = true;
    input.removeAttribute('aria-invalid');
    input.classList.remove('usa-input--error');
    if (group) group.classList.remove('usa-form-group--error');
  }
}

/** POSTs a JSON body: `{status, ok, data}` as {@link getJSON}. */
export async function postJSON(url, payload) {
  return getJSON(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(payload),
  });
}
