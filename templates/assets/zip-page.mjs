// The zip page: filter and sort over the server-rendered cards (the state
// in the URL's query, see plan-filters.mjs), the compare buttons, and how
// each plan compares with the visitor's own.

import { $, $$, h, fill, getJSON, plural, setFieldError } from "./dom.mjs";
import { cents, money } from "./format.mjs";
import { featureLabel as humanize, isZip } from "./rules.mjs";
import { enrollment } from "./session.mjs";
import { deltaBlock } from "./plan-delta.mjs";
import { compareButton, initCompareTray, renderCompareState } from "./compare-tray.mjs";
import { SORTS, activeFilters, defaultSort, featureKinds, matches, readState, sorted, stateQuery } from "./plan-filters.mjs";

// The drug list's estimates (drugs.mjs), by plan id, or null without a list.
let drugEstimates = null;
let drugsChanged = () => {};

/** Takes the drug list's new estimates (by plan id, or null): the order and the "covers" filter follow. */
export function setDrugEstimates(byId) {
  drugEstimates = byId || null;
  drugsChanged();
}

function select(id, label, options, extraClass) {
  return h(
    'div',
    { class: `usa-form-group margin-top-1 ${extraClass || ''}` },
    h('label', { class: 'usa-label margin-top-0', for: id }, label),
    h('select', { class: 'usa-select', id, name: id }, options.map(([value, text]) => h('option', { value }, text))),
  );
}

function input(id, label, hint, attrs) {
  return h(
    'div',
    { class: 'usa-form-group margin-top-1' },
    h('label', { class: 'usa-label margin-top-0', for: id }, label),
    hint ? h('span', { class: 'usa-hint', id: `${id}-hint` }, hint) : null,
    h('input', { class: 'usa-input usa-input--small', id, name: id, 'aria-describedby': hint ? `${id}-hint` : null, ...attrs }),
  );
}

export async function initZipPage() {
  const tools = $('#plan-tools');
  const list = $('#plan-list');
  const count = $('#result-count');
  const zip = document.body.dataset.zip;
  if (!list || !isZip(zip || '')) return;

  const res = await getJSON(`/data/zip/${zip}.json`, { credentials: 'omit' });
  if (!res.ok || !res.data || !Array.isArray(res.data.plans)) return;
  const plans = res.data.plans;
  const cards = new Map($$('li.plan-card[data-plan-id]', list).map((li) => [li.dataset.planId, li]));
  const byId = new Map(plans.map((p) => [p.plan_id, p]));

  for (const [id, card] of cards) {
    const actions = $('.plan-card__actions', card);
    const plan = byId.get(id);
    if (actions && plan) actions.append(compareButton(id, plan.plan_name));
  }
  initCompareTray();
  renderCompareState();

  const { kinds, values } = featureKinds(plans);
  const insurers = [...new Set(plans.map((p) => p.insurer_name))].sort((a, b) => a.localeCompare(b));
  const hasRating = kinds.has('star_rating');
  const sortOptions = Object.entries(SORTS)
    .filter(([k]) => (k !== 'rating' || hasRating) && k !== 'total')
    .map(([k, s]) => [k, s.option || s.label]);

  const boolKeys = [...kinds].filter(([, kind]) => kind === 'bool').map(([k]) => k);
  const valueKeys = [...kinds].filter(([, kind]) => kind === 'values').map(([k]) => k);
  const form = h(
    'form',
    { class: 'plan-filters', 'aria-label': 'Filter and sort plans', novalidate: true },
    h('h2', { class: 'plan-filters__heading margin-top-0 font-heading-md' }, 'Filter and sort'),
    select('sort', 'Sort by', sortOptions),
    h(
      'fieldset',
      { class: 'usa-fieldset margin-top-2' },
      h('legend', { class: 'usa-legend usa-legend text-bold' }, 'Eligibility and cost'),
      input('age', 'Your age', 'Shows plans open to this age.', { type: 'text', inputmode: 'numeric', pattern: '[0-9]*', maxlength: '3', autocomplete: 'off' }),
      select('insurer', 'Insurer', [['', 'Any insurer'], ...insurers.map((i) => [i, i])]),
      input('max_premium', 'Maximum monthly premium', 'In dollars, for example 40.', { type: 'text', inputmode: 'decimal', autocomplete: 'off' }),
    ),
    h(
      'fieldset',
      { class: 'usa-fieldset margin-top-2 plan-filters__drugs', hidden: true },
      h('legend', { class: 'usa-legend text-bold' }, 'Your drugs'),
      h(
        'div',
        { class: 'usa-checkbox' },
        h('input', { class: 'usa-checkbox__input', type: 'checkbox', id: 'covers-all', name: 'covers', value: '1' }),
        h('label', { class: 'usa-checkbox__label', for: 'covers-all' }, 'Covers all my drugs'),
      ),
    ),
    boolKeys.length
      ? h(
          'fieldset',
          { class: 'usa-fieldset margin-top-2' },
          h('legend', { class: 'usa-legend text-bold' }, 'Features'),
          boolKeys.map((k, i) =>
            h(
              'div',
              { class: 'usa-checkbox' },
              h('input', { class: 'usa-checkbox__input', type: 'checkbox', id: `has-${i}`, name: 'has', value: k }),
              h('label', { class: 'usa-checkbox__label', for: `has-${i}` }, `Has ${humanize(k).toLowerCase()}`),
            ),
          ),
        )
      : null,
    // A plan has a couple of dozen detail features: a select each would
    // push the plans a phone screen or more down, so they wait, closed,
    // behind one native disclosure (keyboard and screen readers get it free).
    valueKeys.length
      ? h(
          'details',
          { class: 'plan-filters__more margin-top-2' },
          h('summary', { class: 'text-bold' }, `More feature filters (${valueKeys.length})`),
          h(
            'fieldset',
            { class: 'usa-fieldset' },
            h('legend', { class: 'usa-sr-only' }, 'Feature details'),
            valueKeys.map((k, i) =>
              select(`value-${i}`, humanize(k), [['', 'Any'], ...[...values.get(k)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((v) => [v, v])]),
            ),
          ),
        )
      : null,
    h(
      'div',
      { class: 'margin-top-2' },
      h('button', { type: 'submit', class: 'usa-button' }, 'Apply filters'),
      h('button', { type: 'reset', class: 'usa-button usa-button--outline' }, 'Clear filters'),
    ),
  );
  valueKeys.forEach((k, i) => (form.elements[`value-${i}`].dataset.feature = k));
  // Above the list (phones, tablets) the form waits behind a disclosure whose
  // line says what is in force, so the plans start on the first screen;
  // beside it (wide screens) it is always open and the disclosure hidden.
  const active = h('span', { class: 'plan-filters-panel__active' });
  const panel = h(
    'details',
    { class: 'plan-filters-panel' },
    h('summary', {}, h('span', { class: 'plan-filters-panel__label' }, 'Filter and sort'), active),
    form,
  );
  fill(tools, panel);
  tools.hidden = false;
  if (tools.parentElement.classList.contains('zip-layout__tools')) tools.parentElement.hidden = false;
  const wide = window.matchMedia('(min-width: 64em)');
  const fit = () => (panel.open = wide.matches);
  fit();
  wide.addEventListener('change', fit);

  // The "with your drugs" sort and filter exist while there is a list.
  const totalOption = h('option', { value: 'total' }, SORTS.total.option);
  const showDrugTools = () => {
    const on = Boolean(drugEstimates);
    if (on && !totalOption.parentElement) form.elements.sort.prepend(totalOption);
    if (!on) totalOption.remove();
    $('.plan-filters__drugs', form).hidden = !on;
  };
  const write = (state) => {
    showDrugTools();
    form.elements.sort.value = state.sort;
    form.elements.covers.checked = state.covers;
    form.elements.age.value = state.age;
    form.elements.insurer.value = insurers.includes(state.insurer) ? state.insurer : '';
    form.elements.max_premium.value = state.max;
    for (const box of $$('input[name="has"]', form)) box.checked = state.has.includes(box.value);
    for (const sel of $$('select[data-feature]', form)) sel.value = state.values[sel.dataset.feature] || '';
    // A filter in force is never hidden from the person it filters for.
    const more = $('.plan-filters__more', form);
    if (more && Object.keys(state.values).length) more.open = true;
  };
  const read = () => {
    const state = {
      sort: form.elements.sort.value,
      covers: Boolean(drugEstimates) && form.elements.covers.checked,
      age: form.elements.age.value.trim(),
      insurer: form.elements.insurer.value,
      max: form.elements.max_premium.value.trim().replace(/^\$/, ''),
      has: $$('input[name="has"]:checked', form).map((b) => b.value),
      values: {},
    };
    for (const sel of $$('select[data-feature]', form)) if (sel.value) state.values[sel.dataset.feature] = sel.value;
    return state;
  };
  const errors = {
    age: [form.elements.age, h('span', { class: 'usa-error-message', id: 'age-error', hidden: true }), /^\d{0,3}$/, 'Enter an age in whole years, for example 67.'],
    max: [form.elements.max_premium, h('span', { class: 'usa-error-message', id: 'max-premium-error', hidden: true }), /^(\d+(\.\d{1,2})?)?$/, 'Enter an amount in dollars, for example 40 or 39.50.'],
  };
  for (const [el, err] of Object.values(errors)) el.before(err);
  const valid = (state) => {
    let ok = true;
    for (const [name, [el, err, re, message]] of Object.entries(errors)) {
      const bad = !re.test(state[name]);
      setFieldError(el, err, bad ? message : '');
      if (bad && ok) el.focus();
      ok = ok && !bad;
    }
    return ok;
  };

  const apply = (state) => {
    const shown = sorted(plans.filter((p) => matches(p, state, drugEstimates)), state.sort, drugEstimates);
    const visible = new Set(shown.map((p) => p.plan_id));
    // Reorder the server-rendered cards in place: visible ones first, in order.
    for (const p of shown) if (cards.has(p.plan_id)) list.append(cards.get(p.plan_id));
    for (const [id, card] of cards) {
      card.hidden = !visible.has(id);
      if (card.hidden) list.append(card);
    }
    active.textContent = activeFilters(state, drugEstimates);
    const total = plans.length;
    count.textContent =
      shown.length === total
        ? `${plural(total, 'plan', 'plans')}, sorted by ${SORTS[state.sort].label.toLowerCase()}`
        : shown.length === 0
          ? `No plans of ${total} match these filters. Clear a filter to see more.`
          : `${shown.length} of ${plural(total, 'plan', 'plans')} match, sorted by ${SORTS[state.sort].label.toLowerCase()}`;
  };

  const commit = () => {
    const state = read();
    if (!valid(state)) return;
    const url = stateQuery(state, drugEstimates, location.pathname);
    // The fragment carries the drug list (drugs.mjs); a filter keeps it.
    if (url !== location.search && !(url === location.pathname && !location.search)) history.pushState(null, '', `${url}${location.hash}`);
    apply(state);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    commit();
  });
  form.addEventListener('change', (event) => {
    // Text boxes apply on Enter or the Apply button, so typing "67" is one step, not two.
    if (event.target.tagName !== 'INPUT' || event.target.type === 'checkbox') commit();
  });
  form.addEventListener('reset', (event) => {
    event.preventDefault();
    write({ sort: defaultSort(drugEstimates), covers: false, age: '', insurer: '', max: '', has: [], values: {} });
    commit();
  });
  window.addEventListener('popstate', () => {
    const state = readState(location.search, kinds, drugEstimates);
    write(state);
    apply(state);
  });

  const initial = readState(location.search, kinds, drugEstimates);
  write(initial);
  apply(initial);
  drugsChanged = () => {
    const state = readState(location.search, kinds, drugEstimates);
    write(state);
    apply(state);
  };

  const mine = await enrollment().catch(() => null);
  if (mine) showZipDeltas(mine, byId, cards);
}


function showZipDeltas(mine, byId, cards) {
  const banner = $('#my-plan-banner');
  const current = mine.current_plan;
  if (banner) {
    banner.className = 'my-plan-banner usa-alert usa-alert--info usa-alert--slim usa-alert--no-icon';
    banner.setAttribute('role', 'region');
    banner.setAttribute('aria-label', 'Your current plan');
    fill(banner,
      h(
        'div',
        { class: 'usa-alert__body' },
        current
          ? h(
              'p',
              { class: 'usa-alert__text' },
              'Your plan: ',
              h('a', { href: `/plans/${encodeURIComponent(current.plan_id)}/` }, current.plan_name),
              `, ${money(cents(current.avg_monthly_cost))} a month. Each plan below says how its premium compares.`,
            )
          : h('p', { class: 'usa-alert__text' }, 'We have no current plan on file for you.'),
      ),
    );
    banner.hidden = false;
  }
  if (!current) return;
  for (const [id, card] of cards) {
    const plan = byId.get(id);
    const foot = $('.plan-card__foot', card);
    if (plan && foot) foot.prepend(deltaBlock(plan, current, { collapsed: true }));
  }
}

// ---------- plan page ----------
