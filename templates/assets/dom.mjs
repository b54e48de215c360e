// Small DOM and fetch helpers the drug modules share (one module instance
// per page, so a JSON file is fetched once however many modules ask).

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

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
