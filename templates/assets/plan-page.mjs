// A plan page: its compare button, the "mail me this" form, and how it
// compares with the visitor's current plan.

import { $, h, fill, getJSON } from "./dom.mjs";
import { isPlanId } from "./rules.mjs";
import { enrollment } from "./session.mjs";
import { currentPlanSummary, deltaBlock } from "./plan-delta.mjs";
import { compareButton, initCompareTray, renderCompareState } from "./compare-tray.mjs";
import { initMailForm } from "./mail.mjs";

export async function initPlanPage() {
  const id = document.body.dataset.planId;
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
