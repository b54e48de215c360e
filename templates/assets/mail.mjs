// "Mail me this": a plan's information by post, through the API, with an
// idempotency key so a retried submission never mails twice.

import { $, h, fill, getJSON, setFieldError, uuid } from "./dom.mjs";
import { isZip } from "./rules.mjs";

const MAIL_FIELDS = ['name', 'address', 'city', 'state', 'zip'];
const MAIL_MESSAGES = {
  name: 'Enter the name to mail the information to.',
  address: 'Enter a street address.',
  city: 'Enter a city.',
  state: 'Choose a state or territory.',
  zip: 'Enter a 5-digit ZIP code, for example 02134.',
};

export function initMailForm() {
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
    const data = { plan_id: form.elements.plan_id ? form.elements.plan_id.value : document.body.dataset.planId };
    const errs = {};
    for (const n of MAIL_FIELDS) {
      data[n] = form.elements[n] ? form.elements[n].value.trim() : '';
      if (!data[n]) errs[n] = MAIL_MESSAGES[n];
    }
    if (data.zip && !isZip(data.zip)) errs.zip = MAIL_MESSAGES.zip;
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
