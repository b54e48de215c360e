// The plans chosen to compare (kept in localStorage, so the choice follows
// the visitor from page to page), their buttons and the tray that links to
// the compare page.

import { $, h, fill, storageGet, storageSet } from "./dom.mjs";
import { isPlanId } from "./rules.mjs";

const COMPARE_KEY = "wg.compare";
/** How many plans the compare page shows at most. */
export const MAX_COMPARE = 3;


export function compareSelection() {
  const list = storageGet(localStorage, COMPARE_KEY);
  return Array.isArray(list) ? list.filter((p) => p && isPlanId(p.id)).slice(0, MAX_COMPARE) : [];
}

const compareButtons = new Map();
let tray = null;

export function toggleCompare(id, name) {
  let list = compareSelection();
  if (list.some((p) => p.id === id)) {
    list = list.filter((p) => p.id !== id);
    announceTray(`${name} removed from comparison.`);
  } else if (list.length >= MAX_COMPARE) {
    announceTray(`You can compare up to ${MAX_COMPARE} plans. Remove one before adding ${name}.`);
    return;
  } else {
    list.push({ id, name });
    announceTray(`${name} added to comparison.`);
  }
  storageSet(localStorage, COMPARE_KEY, list);
  renderCompareState();
}

export function compareButton(id, name) {
  const button = h('button', { type: 'button', class: 'usa-button usa-button--outline compare-toggle', onclick: () => toggleCompare(id, name) });
  compareButtons.set(id, { button, name });
  return button;
}

export function compareUrl(ids) {
  return `/compare/?plans=${ids.map(encodeURIComponent).join(',')}`;
}

export function announceTray(message) {
  if (tray) $('.compare-tray__status', tray).textContent = message;
}

export function renderCompareState() {
  const list = compareSelection();
  const ids = list.map((p) => p.id);
  for (const [id, { button, name }] of compareButtons) {
    const chosen = ids.includes(id);
    // The visible words start the accessible name; the plan name tells the many buttons apart.
    button.replaceChildren(chosen ? 'Remove from compare' : 'Add to compare', h('span', { class: 'usa-sr-only' }, `: ${name}`));
  }
  if (!tray) return;
  const names = $('.compare-tray__plans', tray);
  fill(names, ...list.map((p) => h('li', {}, p.name)));
  $('.compare-tray__count', tray).textContent = `${list.length} of ${MAX_COMPARE} plans selected to compare`;
  const link = $('.compare-tray__link', tray);
  link.href = compareUrl(ids);
  link.hidden = list.length < 2;
  tray.hidden = list.length === 0 && !$('.compare-tray__status', tray).textContent;
}

export function initCompareTray() {
  tray = h(
    'section',
    { class: 'compare-tray position-sticky bottom-0 z-top bg-base-lightest border-top-1px border-base-light padding-y-2 margin-top-2', 'aria-label': 'Plans to compare' },
    // Lined up with the page's content column, though the bar spans the window.
    h(
      'div',
      { class: 'grid-container' },
      h('p', { class: 'compare-tray__count margin-0 text-bold' }),
      h('ul', { class: 'compare-tray__plans margin-y-1' }),
      h('p', { class: 'compare-tray__status margin-y-1', role: 'status' }),
      h(
        'div',
        { class: 'compare-tray__actions' },
        h('a', { class: 'compare-tray__link usa-button', href: '/compare/' }, 'Compare selected plans'),
        h(
          'button',
          {
            type: 'button',
            class: 'usa-button usa-button--unstyled',
            onclick: () => {
              storageSet(localStorage, COMPARE_KEY, []);
              announceTray('Comparison cleared.');
              renderCompareState();
            },
          },
          'Clear selection',
        ),
      ),
    ),
  );
  $('main').append(tray);
}

// ---------- zip page: filter and sort ----------

/** Replaces the chosen plans (the compare page's "Remove"). */
export function setCompareSelection(list) {
  storageSet(localStorage, COMPARE_KEY, list);
}
