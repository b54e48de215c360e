// How a plan differs from the visitor's current one: premiums, the yearly
// figure and features gained, lost or changed.

import { h } from "./dom.mjs";
import { cents, money } from "./format.mjs";
import { isNo, isYes, featureLabel as humanize, yearlyCents, YEARLY_LABEL, YEARLY_NOTE } from "./rules.mjs";

export function featureDiff(plan, current) {
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
export function deltaLine(plan, current) {
  const monthly = cents(plan.avg_monthly_cost) - cents(current.avg_monthly_cost);
  if (monthly === 0) return 'Same monthly premium as your plan';
  return `${money(Math.abs(monthly))} ${monthly > 0 ? 'more' : 'less'} a month than your plan`;
}

export function deltaDetails(plan, current) {
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
export function deltaBlock(plan, current, { collapsed = false } = {}) {
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

export function currentPlanSummary(current) {
  return [
    h('a', { href: `/plans/${encodeURIComponent(current.plan_id)}/` }, current.plan_name),
    ` from ${current.insurer_name}: ${money(cents(current.avg_monthly_cost))} a month; ${YEARLY_LABEL.toLowerCase()} ${money(yearlyCents(current))} (${YEARLY_NOTE.toLowerCase()}).`,
  ];
}

// ---------- compare selection (localStorage, any page) ----------
