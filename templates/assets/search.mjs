// The search form on every page: a ZIP code goes straight to its page.

import { $$, h, setFieldError } from "./dom.mjs";
import { isZip } from "./rules.mjs";

let zipErrorCount = 0;
export function initZipForms() {
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
      if (!isZip(zip)) {
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

