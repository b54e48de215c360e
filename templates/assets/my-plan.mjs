// "Your plan": the signed-in visitor's current plan and history.

import { $, h, fill } from "./dom.mjs";
import { cents, money } from "./format.mjs";
import { featureLabel as humanize, yearlyCents, YEARLY_LABEL, YEARLY_NOTE } from "./rules.mjs";
import { enrollment, sessionHint, signOut } from "./session.mjs";

export async function initMyPlan() {
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
