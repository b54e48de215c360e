// What every page does first: the header's signed-in links and the ZIP
// search forms.

import { sessionHint, updateAuthNav } from "./session.mjs";
import { initZipForms } from "./search.mjs";

/** Starts what every page shares. */
export function startPage() {
  updateAuthNav();
  // Forgets a hint whose session has expired.
  sessionHint();
  initZipForms();
}

/** Runs a page's start without letting one failure stop the others. */
export function run(start) {
  Promise.resolve().then(start).catch(() => {});
}
