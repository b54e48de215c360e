// What every page does first: the banner and the menu, the header's
// signed-in links and the ZIP search forms.

import { initHeader } from "./header.mjs";
import { sessionHint, updateAuthNav } from "./session.mjs";
import { initZipForms } from "./search.mjs";

/** Starts what every page shares. */
export function startPage() {
  initHeader();
  updateAuthNav();
  // Forgets a hint whose session has expired.
  sessionHint();
  initZipForms();
}

/** Runs a page's start without letting one failure stop the others. */
export function run(start) {
  Promise.resolve().then(start).catch(() => {});
}
