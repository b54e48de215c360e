// The plan finder's page behaviour: zip search validation, filter and sort,
// compare, the signed-in "your plan" view and the mail request form.
// Public pages are static files: everything here runs in the browser against
// same-origin JSON, and nothing personal is fetched without a session hint.
(() => {
  'use strict';

  const body = document.body;
  const page = body.dataset.page;
  const HINT_KEY = 'wg.session';
  const ENROLLMENT_KEY = 'wg.enrollment';
  const COMPARE_KEY = 'wg.compare';
  const ENROLLMENT_TTL_MS = 5 * 60 * 1000;
  const MAX_COMPARE = 3;
  // Plan ids and feature words follow the generator's rules (rules.js, loaded first).
  const { isPlanId, isYes, isNo, featureLabel: humanize } = globalThis.WhateverRules;
  const ZIP = /^[0-9]{5}$/;

  // ---------- small helpers ----------

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  /** Builds an element: attributes (class, hidden, on*) and children (strings are text). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    el.append(...children.flat().filter((c) => c != null && c !== false));
    return el;
  }

  /** Replaces an element's children, skipping the null/false of conditional parts. */
  const fill = (el, ...children) => el.replaceChildren(...children.flat(2).filter((c) => c != null && c !== false));

  const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  const cents = (dollars) => Math.round(Number(dollars || 0) * 100);
  const money = (c) => usd.format(c / 100);
  const yearlyCents = (p) => 12 * cents(p.avg_monthly_cost) + cents(p.annual_deductible);
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  function storageGet(store, key) {
    try {
      return JSON.parse(store.getItem(key));
    } catch {
      return null;
    }
  }
  function storageSet(store, key, value) {
    try {
      if (value == null) store.removeItem(key);
      else store.setItem(key, JSON.stringify(value));
    } catch {
      // Private browsing or a full quota: the feature degrades to this page only.
    }
  }

  async function getJSON(url, options) {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...options });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    return { status: res.status, ok: res.ok, data };
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  // ---------- field errors (USWDS pattern) ----------

  function setFieldError(input, errorEl, message) {
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

  // ---------- zip search (every page) ----------

  let zipErrorCount = 0;
  function initZipForms() {
    for (const form of $$('form[action="/search"]')) {
      const input = form.querySelector('input[name="zip"]');
      if (!input) continue;
      const error = h('span', { class: 'usa-error-message', id: `zip-error-${++zipErrorCount}`, hidden: true });
      // Inside the search box's flex row the message would squeeze the input.
      if (form.classList.contains('usa-search')) form.after(error);
      else input.before(error);
      form.noValidate = true;
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const zip = input.value.trim();
        if (!ZIP.test(zip)) {
          setFieldError(input, error, 'Enter a 5-digit ZIP code, for example 02134.');
          input.focus();
          return;
        }
        setFieldError(input, error, '');
        // The same place /search redirects to, without the extra round trip.
        location.assign(`/zip/${zip}/`);
      });
    }
  }

  // ---------- session hint (never the token: that is an HttpOnly cookie) ----------

  function sessionHint() {
    const hint = storageGet(localStorage, HINT_KEY);
    if (!hint || !hint.username) return null;
    if (hint.expires_at && Date.parse(hint.expires_at) <= Date.now()) {
      signedOutLocally();
      return null;
    }
    return hint;
  }

  function signedOutLocally() {
    storageSet(localStorage, HINT_KEY, null);
    storageSet(sessionStorage, ENROLLMENT_KEY, null);
    updateAuthNav();
  }

  function updateAuthNav() {
    const signedIn = Boolean(storageGet(localStorage, HINT_KEY));
    for (const el of $$('[data-auth]')) {
      el.hidden = (el.dataset.auth === 'signed-in') !== signedIn;
    }
  }

  /** The visitor's enrollment, or null when signed out (without calling the API). */
  async function enrollment({ fresh = false } = {}) {
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

  // The yearly figure adds up premiums and the deductible only; the pages the
  // generator renders call it by these same words.
  const YEARLY_LABEL = 'Premiums and deductible for the year';
  const YEARLY_NOTE = 'Drug costs not included';

  function featureDiff(plan, current) {
    const mine = current.features || {};
    const theirs = plan.features || {};
    const gained = [];
    const lost = [];
    const changed = [];
    const keys = new Set([...Object.keys(mine), ...Object.keys(theirs)]);
    for (const key of [...keys].sort()) {
      const a = mine[key];
      const b = theirs[key];
      if (a === b) continue;
      const hasA = a != null && !isNo(a);
      const hasB = b != null && !isNo(b);
      if (hasB && !hasA) gained.push(isYes(b) ? humanize(key) : `${humanize(key)}: ${b}`);
      else if (hasA && !hasB) lost.push(isYes(a) ? humanize(key) : `${humanize(key)}: ${a}`);
      else if (hasA && hasB) changed.push(`${humanize(key)}: ${b} (yours: ${a})`);
    }
    return { gained, lost, changed };
  }

  /** "$87.00 less a month than your plan": all a card says until asked for more. */
  function deltaLine(plan, current) {
    const monthly = cents(plan.avg_monthly_cost) - cents(current.avg_monthly_cost);
    if (monthly === 0) return 'Same monthly premium as your plan';
    return `${money(Math.abs(monthly))} ${monthly > 0 ? 'more' : 'less'} a month than your plan`;
  }

  function deltaDetails(plan, current) {
    const yearly = yearlyCents(plan) - yearlyCents(current);
    const { gained, lost, changed } = featureDiff(plan, current);
    const list = (title, items) =>
      items.length ? [h('dt', { class: 'text-bold' }, title), h('dd', {}, items.join('; '))] : null;
    return [
      h('p', {}, `${YEARLY_LABEL}: ${yearly === 0 ? 'the same as your plan' : `${money(Math.abs(yearly))} ${yearly > 0 ? 'more' : 'less'} than your plan`} (${YEARLY_NOTE.toLowerCase()}).`),
      h('dl', {}, list('Features gained', gained), list('Features lost', lost), list('Features that differ', changed)),
      !gained.length && !lost.length && !changed.length ? h('p', {}, 'Same features as your plan.') : null,
    ];
  }

  /** How a plan compares with the visitor's: one line, the rest shown or (on a card) behind a disclosure. */
  function deltaBlock(plan, current, { collapsed = false } = {}) {
    if (plan.plan_id === current.plan_id) {
      return h('p', { class: 'plan-delta plan-delta--current' }, h('span', { class: 'usa-tag' }, 'Your current plan'));
    }
    const details = deltaDetails(plan, current);
    return h(
      'div',
      { class: 'plan-delta' },
      h('p', { class: 'plan-delta__line' }, deltaLine(plan, current)),
      collapsed
        ? h('details', {}, h('summary', {}, 'How it compares', h('span', { class: 'usa-sr-only' }, `: ${plan.plan_name} and your plan`)), details)
        : details,
    );
  }

  function currentPlanSummary(current) {
    return [
      h('a', { href: `/plans/${encodeURIComponent(current.plan_id)}/` }, current.plan_name),
      ` from ${current.insurer_name}: ${money(cents(current.avg_monthly_cost))} a month; ${YEARLY_LABEL.toLowerCase()} ${money(yearlyCents(current))} (${YEARLY_NOTE.toLowerCase()}).`,
    ];
  }

  // ---------- compare selection (localStorage, any page) ----------

  function compareSelection() {
    const list = storageGet(localStorage, COMPARE_KEY);
    return Array.isArray(list) ? list.filter((p) => p && isPlanId(p.id)).slice(0, MAX_COMPARE) : [];
  }

  const compareButtons = new Map();
  let tray = null;

  function toggleCompare(id, name) {
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

  function compareButton(id, name) {
    const button = h('button', { type: 'button', class: 'usa-button usa-button--outline compare-toggle', onclick: () => toggleCompare(id, name) });
    compareButtons.set(id, { button, name });
    return button;
  }

  function compareUrl(ids) {
    return `/compare/?plans=${ids.map(encodeURIComponent).join(',')}`;
  }

  function announceTray(message) {
    if (tray) $('.compare-tray__status', tray).textContent = message;
  }

  function renderCompareState() {
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

  function initCompareTray() {
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

  // The drug list's estimates (drugs.mjs), by plan id, or null without a list.
  let drugEstimates = globalThis.WhateverDrugEstimates || null;
  let drugsChanged = () => {};
  document.addEventListener('wg:drug-estimates', (event) => {
    drugEstimates = event.detail || null;
    drugsChanged();
  });
  const totalKey = (p) => {
    const e = drugEstimates && drugEstimates.get(p.plan_id);
    // A plan the list cannot be priced on goes last, never on a partial sum.
    return e && e.total != null ? e.total : Infinity;
  };
  const defaultSort = () => (drugEstimates ? 'total' : 'cost');

  const SORTS = {
    // The select is narrow; the words that say the order are the status line's.
    total: { label: 'Estimated total for the year with your drugs (lowest first)', option: 'Total with your drugs', key: totalKey },
    cost: { label: `${YEARLY_LABEL} (lowest first)`, option: YEARLY_LABEL, key: yearlyCents },
    premium: { label: 'Monthly premium (lowest first)', key: (p) => cents(p.avg_monthly_cost) },
    deductible: { label: 'Deductible (lowest first)', key: (p) => cents(p.annual_deductible) },
    copay: { label: 'Copay (lowest first)', key: (p) => cents(p.avg_copay_amount) },
    rating: { label: 'Star rating (highest first)', key: (p) => -(parseFloat((p.features || {}).star_rating) || -Infinity) },
    name: { label: 'Plan name (A to Z)', key: (p) => p.plan_name.toLocaleLowerCase() },
  };

  function readState(kinds) {
    const q = new URLSearchParams(location.search);
    const state = {
      sort: SORTS[q.get('sort')] && (q.get('sort') !== 'total' || drugEstimates) ? q.get('sort') : defaultSort(),
      covers: q.get('covers') === '1',
      age: /^\d{1,3}$/.test(q.get('age') || '') ? q.get('age') : '',
      insurer: q.get('insurer') || '',
      max: /^\d+(\.\d{1,2})?$/.test(q.get('max_premium') || '') ? q.get('max_premium') : '',
      has: q.getAll('has').filter((k) => kinds.get(k) === 'bool'),
      values: {},
    };
    for (const [key, kind] of kinds) {
      const v = q.get(`f.${key}`);
      if (kind === 'values' && v) state.values[key] = v;
    }
    return state;
  }

  function stateQuery(state) {
    const q = new URLSearchParams();
    if (state.sort !== defaultSort()) q.set('sort', state.sort);
    if (state.covers && drugEstimates) q.set('covers', '1');
    if (state.age) q.set('age', state.age);
    if (state.insurer) q.set('insurer', state.insurer);
    if (state.max) q.set('max_premium', state.max);
    for (const k of state.has) q.append('has', k);
    for (const [k, v] of Object.entries(state.values)) q.set(`f.${k}`, v);
    const s = q.toString();
    return s ? `?${s}` : location.pathname;
  }

  function matches(plan, state) {
    const f = plan.features || {};
    if (state.age) {
      const age = Number(state.age);
      if (plan.min_age != null && age < plan.min_age) return false;
      if (plan.max_age != null && age > plan.max_age) return false;
    }
    if (state.insurer && plan.insurer_name !== state.insurer) return false;
    if (state.covers && drugEstimates) {
      const e = drugEstimates.get(plan.plan_id);
      if (!e || !e.coversAll) return false;
    }
    if (state.max && cents(plan.avg_monthly_cost) > cents(state.max)) return false;
    for (const k of state.has) if (!isYes(f[k] || '')) return false;
    for (const [k, v] of Object.entries(state.values)) if (f[k] !== v) return false;
    return true;
  }

  function sorted(plans, sort) {
    const key = SORTS[sort].key;
    return plans
      .map((p) => ({ p, k: key(p) }))
      .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.p.plan_id < b.p.plan_id ? -1 : a.p.plan_id > b.p.plan_id ? 1 : 0))
      .map((x) => x.p);
  }

  /** Feature key -> 'bool' (yes/no-like values only) or 'values' (a select of distinct values). */
  function featureKinds(plans) {
    const values = new Map();
    for (const p of plans) {
      for (const [k, v] of Object.entries(p.features || {})) {
        if (!values.has(k)) values.set(k, new Set());
        values.get(k).add(v);
      }
    }
    const kinds = new Map();
    for (const k of [...values.keys()].sort()) {
      const vs = [...values.get(k)];
      kinds.set(k, vs.every((v) => isYes(v) || isNo(v)) ? 'bool' : 'values');
    }
    return { kinds, values };
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

  async function initZipPage() {
    const tools = $('#plan-tools');
    const list = $('#plan-list');
    const count = $('#result-count');
    const zip = body.dataset.zip;
    if (!list || !ZIP.test(zip || '')) return;

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
      const shown = sorted(plans.filter((p) => matches(p, state)), state.sort);
      const visible = new Set(shown.map((p) => p.plan_id));
      // Reorder the server-rendered cards in place: visible ones first, in order.
      for (const p of shown) if (cards.has(p.plan_id)) list.append(cards.get(p.plan_id));
      for (const [id, card] of cards) {
        card.hidden = !visible.has(id);
        if (card.hidden) list.append(card);
      }
      active.textContent = activeFilters(state);
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
      const url = stateQuery(state);
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
      write({ sort: defaultSort(), covers: false, age: '', insurer: '', max: '', has: [], values: {} });
      commit();
    });
    window.addEventListener('popstate', () => {
      const state = readState(kinds);
      write(state);
      apply(state);
    });

    const initial = readState(kinds);
    write(initial);
    apply(initial);
    drugsChanged = () => {
      const state = readState(kinds);
      write(state);
      apply(state);
    };

    const mine = await enrollment().catch(() => null);
    if (mine) showZipDeltas(mine, byId, cards);
  }

  /** "2 filters: age 67, has dental", and the sort when it is not the default. */
  function activeFilters(state) {
    const parts = [];
    if (state.covers) parts.push('covers all my drugs');
    if (state.age) parts.push(`age ${state.age}`);
    if (state.insurer) parts.push(state.insurer);
    if (state.max) parts.push(`premium up to ${money(cents(state.max))}`);
    for (const k of state.has) parts.push(`has ${humanize(k).toLowerCase()}`);
    for (const [k, v] of Object.entries(state.values)) parts.push(`${humanize(k).toLowerCase()}: ${v}`);
    const filters = parts.length ? `${plural(parts.length, 'filter', 'filters')}: ${parts.join(', ')}` : 'No filters';
    return state.sort === defaultSort() ? filters : `${filters}; sorted by ${SORTS[state.sort].label.toLowerCase()}`;
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

  async function initPlanPage() {
    const id = body.dataset.planId;
    const actions = $('.plan-actions');
    const name = ($('h1') || {}).textContent || id;
    if (actions && isPlanId(id || '')) {
      actions.append(compareButton(id, name.trim()));
      initCompareTray();
      renderCompareState();
    }
    initMailForm();
    const section = $('#my-plan-compare');
    const mine = await enrollment().catch(() => null);
    if (!mine || !section) return;
    const current = mine.current_plan;
    const res = current ? await getJSON(`/data/plans/${encodeURIComponent(id)}.json`, { credentials: 'omit' }) : null;
    section.classList.add('usa-summary-box', 'margin-y-3');
    section.setAttribute('aria-labelledby', 'my-plan-compare-heading');
    fill(section,
      h('h2', { class: 'usa-summary-box__heading', id: 'my-plan-compare-heading' }, 'Compared with your current plan'),
      current ? h('p', {}, 'Your plan: ', ...currentPlanSummary(current)) : h('p', {}, 'We have no current plan on file for you.'),
      res && res.ok ? deltaBlock(res.data, current) : null,
    );
    section.hidden = false;
  }

  // ---------- mail me this ----------

  const MAIL_FIELDS = ['name', 'address', 'city', 'state', 'zip'];
  const MAIL_MESSAGES = {
    name: 'Enter the name to mail the information to.',
    address: 'Enter a street address.',
    city: 'Enter a city.',
    state: 'Choose a state or territory.',
    zip: 'Enter a 5-digit ZIP code, for example 02134.',
  };

  function initMailForm() {
    const form = $('#mail-form');
    const status = $('#mail-status');
    if (!form || !status) return;
    form.hidden = false;
    let pending = null; // { body, key }: a retry of the same submission reuses its key
    let busy = false;

    const field = (name) => [form.elements[name], $(`#${name}-error`, form) || $(`#${name}-error`)];
    const clearErrors = () => MAIL_FIELDS.forEach((n) => field(n)[1] && setFieldError(...field(n), ''));
    const showErrors = (errs) => {
      let first = null;
      for (const n of MAIL_FIELDS) {
        const [el, err] = field(n);
        if (!el || !err) continue;
        setFieldError(el, err, errs[n] || '');
        if (errs[n] && !first) first = el;
      }
      if (first) first.focus();
      return Boolean(first);
    };

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) return;
      const data = { plan_id: form.elements.plan_id ? form.elements.plan_id.value : body.dataset.planId };
      const errs = {};
      for (const n of MAIL_FIELDS) {
        data[n] = form.elements[n] ? form.elements[n].value.trim() : '';
        if (!data[n]) errs[n] = MAIL_MESSAGES[n];
      }
      if (data.zip && !ZIP.test(data.zip)) errs.zip = MAIL_MESSAGES.zip;
      if (data.state && !/^[A-Z]{2}$/.test(data.state)) errs.state = MAIL_MESSAGES.state;
      clearErrors();
      if (showErrors(errs)) {
        status.textContent = 'Please correct the highlighted fields.';
        return;
      }
      const bodyText = JSON.stringify(data);
      if (!pending || pending.body !== bodyText) pending = { body: bodyText, key: uuid() };
      busy = true;
      status.textContent = 'Sending your request…';
      try {
        const res = await getJSON('/api/fulfillment', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': pending.key },
          body: bodyText,
        });
        const error = (res.data && res.data.error) || {};
        if (res.ok && res.data && res.data.request_id) {
          pending = null;
          showMailStatus(status, res.data.request_id, res.data.status);
        } else if (res.status === 422 || res.status === 400) {
          pending = null;
          const name = MAIL_FIELDS.includes(error.field) ? error.field : null;
          if (name) showErrors({ [name]: error.message || MAIL_MESSAGES[name] });
          status.textContent = error.message ? `We could not accept this request: ${error.message}` : 'We could not accept this request. Check the form and try again.';
        } else if (res.status === 429) {
          status.textContent = 'Too many requests right now. Wait a minute, then send the form again.';
        } else {
          status.textContent = 'We could not send your request just now. Send the form again to retry; you will not get duplicate mail.';
        }
      } catch {
        status.textContent = 'We could not reach the server. Check your connection and send the form again; you will not get duplicate mail.';
      } finally {
        busy = false;
      }
    });
  }

  const STATUS_TEXT = {
    queued: 'queued: we will mail it soon',
    sent: 'sent: it is on its way',
    failed: 'failed: we could not mail it. Please send a new request.',
  };

  function showMailStatus(status, requestId, state) {
    const text = h('span', { class: 'mail-status__state' }, STATUS_TEXT[state] || state);
    const check = h('button', { type: 'button', class: 'usa-button usa-button--outline margin-top-1' }, 'Check status');
    check.addEventListener('click', async () => {
      check.disabled = true;
      try {
        const res = await getJSON(`/api/fulfillment/${encodeURIComponent(requestId)}`);
        text.textContent = res.ok && res.data ? STATUS_TEXT[res.data.status] || res.data.status : 'unknown right now: try again in a minute';
      } catch {
        text.textContent = 'unknown right now: try again in a minute';
      } finally {
        check.disabled = false;
      }
    });
    fill(status,
      h(
        'div',
        { class: 'usa-alert usa-alert--success usa-alert--slim' },
        h('div', { class: 'usa-alert__body' }, h('p', { class: 'usa-alert__text' }, 'Request received. Your reference number is ', h('code', { class: 'mail-status__id' }, requestId), '. Status: ', text, '.')),
      ),
      check,
    );
  }

  // ---------- compare page ----------

  let compareWatchingHistory = false;
  async function initComparePage() {
    const root = $('#compare');
    if (!root) return;
    if (!compareWatchingHistory) {
      compareWatchingHistory = true;
      window.addEventListener('popstate', () => initComparePage().catch(() => {}));
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

  /** Tells the drug list (drugs.mjs) which plans the table shows, to add its rows. */
  function comparisonShown(plans, current) {
    const detail = { plans, current: current || null };
    globalThis.WhateverCompare = detail;
    document.dispatchEvent(new CustomEvent('wg:compare-rendered', { detail }));
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
                storageSet(localStorage, COMPARE_KEY, left.map((x) => ({ id: x.plan_id, name: x.plan_name })));
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
    comparisonShown(plans, current);
  }

  // ---------- sign in, my plan, sign out ----------

  function initSignin() {
    const form = $('#signin-form');
    const status = $('#signin-status');
    if (!form) return;
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
          globalThis.WhateverAccount.secondStep(username, res.data.methods);
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
              ? 'Too many sign-in attempts. Wait a few minutes, then try again.'
              : 'Sign-in is not available right now. Please try again later.';
      } catch {
        status.textContent = 'We could not reach the server. Check your connection and try again.';
      }
      if (submit) submit.disabled = false;
      form.elements.password.value = '';
      form.elements.password.focus();
    });
  }

  /** Remembers (without anything secret) that this browser is signed in. */
  function signedIn(data, username) {
    storageSet(sessionStorage, ENROLLMENT_KEY, null);
    const expires = Date.parse((data && data.expires_at) || '');
    storageSet(localStorage, HINT_KEY, {
      username: (data && data.username) || username,
      expires_at: Number.isNaN(expires) ? null : new Date(expires).toISOString(),
      ttl_ms: Number.isNaN(expires) ? null : Math.max(0, expires - Date.now()),
    });
  }

  async function signOut() {
    try {
      await fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
    } catch {
      // The local hint goes anyway; the short-lived token expires on its own.
    }
    signedOutLocally();
    location.assign('/');
  }

  async function initMyPlan() {
    const root = $('#my-plan');
    if (!root) return;
    const signInPrompt = () =>
      fill(root, h('p', {}, 'Sign in to see your current plan and how other plans compare with it. ', h('a', { class: 'usa-button', href: '/signin/' }, 'Sign in')));
    if (!sessionHint()) return signInPrompt();
    fill(root, h('p', {}, 'Loading your plan…'));
    let data;
    try {
      data = await enrollment({ fresh: true });
    } catch (error) {
      fill(
        root,
        error.setupFirst
          ? h('p', {}, 'Before you can see your plan, add an authenticator app to your account. ', h('a', { class: 'usa-button', href: '/account/' }, 'Set it up'))
          : h('p', {}, 'We could not load your plan right now. Please try again later.'),
      );
      return;
    }
    if (!data) return signInPrompt();
    const b = data.beneficiary || {};
    const p = data.current_plan;
    const history = Array.isArray(data.history) ? data.history : [];
    const who = [b.fname, b.lname].filter(Boolean).join(' ');
    fill(root,
      h('h2', {}, who ? `Hello, ${who}` : 'Your enrollment'),
      h('h3', {}, 'Your current plan'),
      p
        ? h(
            'div',
            { class: 'usa-summary-box my-plan__current' },
            h('p', { class: 'usa-summary-box__heading font-heading-md' }, h('a', { href: `/plans/${encodeURIComponent(p.plan_id)}/` }, p.plan_name)),
            h(
              'ul',
              { class: 'usa-list' },
              h('li', {}, `Insurer: ${p.insurer_name}`),
              h('li', {}, `Monthly premium: ${money(cents(p.avg_monthly_cost))}`),
              h('li', {}, `Annual deductible: ${money(cents(p.annual_deductible))}`),
              h('li', {}, `Copay per prescription: ${money(cents(p.avg_copay_amount))}`),
              h('li', {}, `${YEARLY_LABEL}: ${money(yearlyCents(p))} (${YEARLY_NOTE.toLowerCase()})`),
            ),
          )
        : h('p', {}, 'We have no current plan on file for you.'),
      p ? h('p', {}, 'Zip and plan pages now show how each plan differs from yours.') : null,
      history.length
        ? [
            h('h3', {}, 'Plan history'),
            h(
              'table',
              { class: 'usa-table usa-table--borderless' },
              h('caption', { class: 'usa-sr-only' }, 'Your plans over time'),
              h('thead', {}, h('tr', {}, ['Plan', 'Start date', 'End date', 'Status'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                history.map((row) =>
                  h(
                    'tr',
                    {},
                    h('th', { scope: 'row' }, h('a', { href: `/plans/${encodeURIComponent(row.plan_id)}/` }, row.plan_name || row.plan_id)),
                    h('td', {}, row.start_date || ''),
                    h('td', {}, row.end_date || 'Ongoing'),
                    h('td', {}, row.status ? humanize(row.status) : ''),
                  ),
                ),
              ),
            ),
          ]
        : null,
      h('button', { type: 'button', class: 'usa-button usa-button--secondary margin-top-3', id: 'sign-out', onclick: signOut }, 'Sign out'),
    );
  }

  // ---------- start ----------

  // What account.js (loaded after this file on the account pages) builds on.
  globalThis.WhateverSite = { $, h, fill, plural, getJSON, setFieldError, storageSet, sessionHint, signedIn, signedOutLocally, signOut, ENROLLMENT_KEY };

  updateAuthNav();
  sessionHint();
  initZipForms();
  const start = {
    zip: initZipPage,
    plan: initPlanPage,
    compare: initComparePage,
    signin: initSignin,
    myplan: initMyPlan,
  }[page];
  if (start) Promise.resolve().then(start).catch(() => {});
})();
