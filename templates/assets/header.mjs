// The two behaviours of the USWDS banner and header the pages use, so no
// page loads USWDS's whole script for them: the "Here's how you know"
// disclosure, and the menu that holds the navigation on narrow screens.
// Markup, classes and ARIA are USWDS's own, so its stylesheet applies.

import { $ } from "./dom.mjs";

/** "Here's how you know": the button opens and closes the banner's content. */
function initBanner() {
  const button = $(".usa-banner__button");
  const content = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!content) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    content.hidden = !open;
    $(".usa-banner__header")?.classList.toggle("usa-banner__header--expanded", open);
  });
}

/** The narrow-screen menu: opened by "Menu", closed by its close button, the overlay or Escape. */
function initMenu() {
  const open = $(".usa-menu-btn");
  const nav = $(".usa-nav");
  const close = $(".usa-nav__close");
  const overlay = $(".usa-overlay");
  if (!open || !nav) return;
  const show = (visible) => {
    nav.classList.toggle("is-visible", visible);
    overlay?.classList.toggle("is-visible", visible);
    document.body.classList.toggle("usa-js-mobile-nav--active", visible);
    open.setAttribute("aria-expanded", String(visible));
    (visible ? close || nav : open).focus();
  };
  open.setAttribute("aria-expanded", "false");
  open.addEventListener("click", () => show(true));
  close?.addEventListener("click", () => show(false));
  overlay?.addEventListener("click", () => show(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("is-visible")) show(false);
  });
  // Following a link inside the menu closes it, as USWDS's script does.
  nav.addEventListener("click", (event) => {
    if (event.target.closest("a") && nav.classList.contains("is-visible")) show(false);
  });
}

/** Starts the banner and the menu. */
export function initHeader() {
  initBanner();
  initMenu();
}
