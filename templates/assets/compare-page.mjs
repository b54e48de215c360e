// The compare page: up to three plans side by side, from the link or the
// visitor's selection, rows that differ marked. `onShown` hears which plans
// the table shows (the drug list adds its rows for them).

import { $, h, fill, getJSON, plural } from "./dom.mjs";
import { cents, money } from "./format.mjs";
import { featureLabel as humanize, isPlanId, yearlyCents, YEARLY_LABEL, YEARLY_NOTE } from "./rules.mjs";
import { enrollment } from "./session.mjs";
import { MAX_COMPARE, compareSelection, compareUrl, setCompareSelection } from "./compare-tray.mjs";

let onShown = () => {};

let compareWatchingHistory = false;
export async function initComparePage(shown = onShown) {
  onShown = shown;
  const root = $('#compare');
  if (!root) return;
  if (!compareWatchingHistory) {
    compareWatchingHistory = true;
    window.addEventListener('popstate', () => initComparePage(onShown).catch(() => {}));
  }
  const q = new URLSearchParams(location.search).get('plans');
  let ids = (q ? q.split(',') : compareSelection().map((p) => p.id)).map((s) => s.trim()).filter((s) => isPlanId(s));
  ids = [...new Set(ids)].slice(0, MAX_COMPARE);
  if (!q && ids.length) history.replaceState(null, '', compareUrl(ids));
  if (!ids.length) {
    fill(root,
      h('p', {}, 'Choose up to three plans to compare: ', h('a', { href: '/' }, 'search by ZIP code'), ', then select "Add to compare" on the plans you like.'),
    );
    return;
  }
  fill(root, h('p', { role: 'status' }, 'Loading the plans…'));
  const results = await Promise.all(ids.map((id) => getJSON(`/data/plans/${encodeURIComponent(id)}.json`, { credentials: 'omit' }).catch(() => ({ ok: false }))));
  const plans = results.filter((r) => r.ok && r.data).map((r) => r.data);
  const missing = ids.filter((id, i) => !(results[i].ok && results[i].data));
  const mine = await enrollment().catch(() => null);
  renderComparison(root, plans, missing, mine && mine.current_plan);
}

function renderComparison(root, plans, missing, current) {
  const rows = [
    ['Insurer', (p) => p.insurer_name],
    ['Monthly premium', (p) => cents(p.avg_monthly_cost), money],
    ['Annual deductible', (p) => cents(p.annual_deductible), money],
    ['Copay per prescription', (p) => cents(p.avg_copay_amount), money],
    [`${YEARLY_LABEL} (${YEARLY_NOTE.toLowerCase()})`, yearlyCents, money],
    ['Eligible ages', (p) => (p.min_age == null && p.max_age == null ? 'Any age' : p.max_age == null ? `${p.min_age} and older` : p.min_age == null ? `Up to ${p.max_age}` : `${p.min_age} to ${p.max_age}`)],
  ];
  const keys = [...new Set(plans.flatMap((p) => Object.keys(p.features || {})))].sort();
  for (const k of keys) rows.push([humanize(k), (p) => ((p.features || {})[k] == null ? 'Not listed' : p.features[k])]);

  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Plan'),
    plans.map((p) =>
      h(
        'th',
        { scope: 'col' },
        h('a', { href: `/plans/${encodeURIComponent(p.plan_id)}/` }, p.plan_name),
        current && current.plan_id === p.plan_id ? [' ', h('span', { class: 'usa-tag' }, 'Your plan')] : null,
      ),
    ),
  );
  const bodyRows = rows.map(([label, value, format]) => {
    const vals = plans.map(value);
    const differs = plans.length > 1 && new Set(vals).size > 1;
    const numeric = typeof vals[0] === 'number';
    const low = numeric && differs ? Math.min(...vals) : null;
    return h(
      'tr',
      { class: differs ? 'compare-row--differs' : null },
      h('th', { scope: 'row' }, label, differs ? [' ', h('span', { class: 'usa-tag bg-accent-warm-darker' }, 'Differs')] : null),
      vals.map((v) => h('td', { class: differs ? 'text-bold' : null }, format ? format(v) : v, v === low ? ' (lowest)' : null)),
    );
  });
  const actions = h(
    'tr',
    {},
    h('th', { scope: 'row' }, h('span', { class: 'usa-sr-only' }, 'Actions')),
    plans.map((p) =>
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'usa-button usa-button--unstyled',
            'aria-label': `Remove ${p.plan_name} from the comparison`,
            onclick: () => {
              const left = plans.filter((x) => x !== p);
              setCompareSelection(left.map((x) => ({ id: x.plan_id, name: x.plan_name })));
              history.pushState(null, '', left.length ? compareUrl(left.map((x) => x.plan_id)) : '/compare/');
              renderComparison(root, left, [], current);
              const heading = $('h1');
              heading.tabIndex = -1;
              heading.focus();
            },
          },
          'Remove',
        ),
      ),
    ),
  );
  const diffCount = bodyRows.filter((r) => r.classList.contains('compare-row--differs')).length;
  fill(root,
    missing.length ? h('div', { class: 'usa-alert usa-alert--warning usa-alert--slim' }, h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text' }, `No longer available: ${missing.join(', ')}.`))) : null,
    plans.length
      ? h(
          'div',
          { class: 'usa-table-container--scrollable', tabindex: '0', role: 'region', 'aria-label': 'Plan comparison table, scrolls sideways' },
          h(
            'table',
            { class: 'usa-table compare-table' },
            h('caption', {}, `Comparing ${plural(plans.length, 'plan', 'plans')}. ${plans.length > 1 ? `${plural(diffCount, 'row is', 'rows are')} marked "Differs"; in those rows "(lowest)" marks the lowest cost.` : 'Add another plan to see differences.'}`),
            h('thead', {}, head),
            h('tbody', {}, bodyRows, actions),
          ),
        )
      : h('p', {}, 'No plans to compare. ', h('a', { href: '/' }, 'Search by ZIP code'), ' to choose some.'),
  );
  onShown({ plans, current: current || null });
}

