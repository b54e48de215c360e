// "Your drugs": the type-ahead that builds a drug list, the list itself (in
// localStorage and in the page's link, never sent anywhere), and the yearly
// estimates it gives on the zip, plan and compare pages. Everything comes
// from the published static JSON (docs/drug-data.md); the estimates and
// the cost engine (drug-pages.mjs) load only once there is a list.

import { MAX_DRUGS, STORAGE_KEY, search, fold, drugLabel, entry, clean, fromHash, toHash, howFilled } from "./drug-list.mjs";
import { $, $$, h, plural, drugs, json, drugFile, drugMap } from "./dom.mjs";
import { isZip, PHARMACIES, SUPPLIES, shardOf } from "./rules.mjs";

const body = document.body;

// ---------- the list: localStorage and the link ----------

let list = [];

function stored() {
  try {
    return clean(JSON.parse(localStorage.getItem(STORAGE_KEY)));
  } catch {
    return [];
  }
}

/** Keeps the list in this browser and in the page's link (its fragment). */
function save() {
  try {
    if (list.length) localStorage.setItem(STORAGE_KEY, JSON.stringify(list));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private browsing or a full quota: the link still carries the list.
  }
  const hash = toHash(location.hash, list);
  if (hash !== location.hash && (hash || location.hash)) {
    history.replaceState(history.state, "", `${location.pathname}${location.search}${hash}`);
  }
}

/** The link that opens this page with this list. */
const shareUrl = () => `${location.origin}${location.pathname}${location.search}${toHash(location.hash, list)}`;

// ---------- the panel ----------

const panels = [];
let announceTo = null;

function announce(message) {
  if (announceTo) announceTo.textContent = message;
}

function optionText(d) {
  return `${drugLabel(d)} (${d.is_generic ? "generic" : d.generic_name})`;
}

let shardNames = null;
async function findDrugs(query, limit) {
  const key = shardOf(query);
  if (key.length < 2) return [];
  shardNames ||= json("/data/drugs/index/shards.json").then((d) => new Set(d.shards));
  if (!(await shardNames).has(key)) return [];
  return search(await json(`/data/drugs/index/${key}.json`), query, limit);
}

/**
 * The "Add a drug" form: an ARIA 1.2 combobox (a text box with a list of
 * matches; arrows move, Enter chooses, Escape closes), how often and where
 * it is filled, and the Add button.
 */
function addForm() {
  const input = h("input", {
    class: "usa-input",
    id: "drug-name",
    name: "drug",
    type: "text",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "drug-options",
    "aria-describedby": "drug-name-hint",
    autocomplete: "off",
    spellcheck: "false",
  });
  const listbox = h("ul", { class: "drug-options", id: "drug-options", role: "listbox", "aria-label": "Matching drugs", hidden: true });
  const error = h("span", { class: "usa-error-message", id: "drug-name-error", hidden: true });
  const group = h(
    "div",
    { class: "usa-form-group drug-add__name" },
    h("label", { class: "usa-label", for: "drug-name" }, "Drug name"),
    h("span", { class: "usa-hint", id: "drug-name-hint" }, "Type at least 2 letters, then choose the drug and strength from the list."),
    error,
    h("div", { class: "drug-combobox" }, input, listbox),
  );
  const days = h("select", { class: "usa-select", id: "drug-days", name: "days" }, Object.entries(SUPPLIES).map(([v, s]) => h("option", { value: v }, s.label)));
  const pharmacy = h("select", { class: "usa-select", id: "drug-pharmacy", name: "pharmacy" }, Object.entries(PHARMACIES).map(([v, p]) => h("option", { value: v }, p.label)));
  const form = h(
    "form",
    { class: "usa-form drug-add", novalidate: true, "aria-label": "Add a drug" },
    group,
    h("div", { class: "usa-form-group" }, h("label", { class: "usa-label", for: "drug-days" }, "How often you fill it"), days),
    h("div", { class: "usa-form-group" }, h("label", { class: "usa-label", for: "drug-pharmacy" }, "Where you fill it"), pharmacy),
    h("button", { type: "submit", class: "usa-button margin-top-2" }, "Add drug"),
  );

  let options = [];
  let active = -1;
  let chosen = null;
  let asked = 0;

  const setError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    group.classList.toggle("usa-form-group--error", Boolean(message));
    input.classList.toggle("usa-input--error", Boolean(message));
    if (message) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "drug-name-hint drug-name-error");
      announce(message);
    } else {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", "drug-name-hint");
    }
  };
  const close = () => {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const open = () => {
    if (!options.length) return;
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };
  const highlight = (i) => {
    active = i;
    $$('[role="option"]', listbox).forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    const li = listbox.children[i];
    if (li) {
      input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    }
  };
  const choose = (d) => {
    chosen = d;
    input.value = optionText(d);
    close();
    setError("");
  };
  const show = (found, query) => {
    options = found;
    listbox.replaceChildren(
      ...found.map((d, i) =>
        h(
          "li",
          {
            id: `drug-option-${i}`,
            role: "option",
            "aria-selected": "false",
            class: "drug-options__item",
            "data-rxcui": d.rxcui,
            // Before the text box loses focus, so the choice is not lost with it.
            onmousedown: (ev) => ev.preventDefault(),
            onclick: () => {
              choose(d);
              input.focus();
            },
          },
          optionText(d),
        ),
      ),
    );
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (found.length) {
      open();
      announce(`${plural(found.length, "drug matches", "drugs match")}. Use the up and down arrows to choose one.`);
    } else {
      close();
      announce(fold(query).length >= 2 ? `No drug starts with "${query.trim()}".` : "");
    }
  };

  input.addEventListener("input", async () => {
    if (chosen && input.value !== optionText(chosen)) chosen = null;
    const query = input.value;
    const ticket = ++asked;
    let found = [];
    try {
      found = await findDrugs(query);
    } catch {
      if (ticket === asked) announce("The drug names could not be loaded. Check your connection and type again.");
      return;
    }
    if (ticket === asked && !chosen) show(found, query);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      if (!options.length) return;
      ev.preventDefault();
      open();
      const n = options.length;
      highlight(ev.key === "ArrowDown" ? (active + 1) % n : active <= 0 ? n - 1 : active - 1);
    } else if (ev.key === "Enter") {
      if (!listbox.hidden && active >= 0) {
        ev.preventDefault();
        choose(options[active]);
      }
    } else if (ev.key === "Escape") {
      if (!listbox.hidden) {
        ev.preventDefault();
        close();
      } else if (input.value) {
        ev.preventDefault();
        input.value = "";
        chosen = null;
      }
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 0));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let d = chosen;
    const typed = input.value.trim();
    if (!d && typed) {
      // Typed out in full without choosing: take it if exactly one drug is called that.
      const same = (await findDrugs(typed.split(/\s+/)[0], Infinity).catch(() => [])).filter((x) => fold(drugLabel(x)) === fold(typed) || fold(optionText(x)) === fold(typed));
      if (same.length === 1) d = same[0];
    }
    if (!d) {
      setError(typed ? `Choose "${typed}" from the list of matching drugs, with its strength.` : "Type the name of a drug, then choose it from the list.");
      input.focus();
      return;
    }
    if (list.some((e) => e.rxcui === d.rxcui)) {
      setError(`${drugLabel(d)} is already on your list.`);
      input.focus();
      return;
    }
    if (list.length >= MAX_DRUGS) {
      setError(`Your list can hold ${MAX_DRUGS} drugs. Remove one to add another.`);
      input.focus();
      return;
    }
    list = [...list, entry(d.rxcui, days.value, pharmacy.value)];
    input.value = "";
    chosen = null;
    setError("");
    changed(`${drugLabel(d)} added, ${howFilled(list.at(-1))}. ${drugs(list.length)} on your list.`);
    input.focus();
  });
  return form;
}

/** Replaces one entry's drug (a brand by its generic), keeping how it is filled. */
function switchTo(from, to, label) {
  if (list.some((e) => e.rxcui === to)) list = list.filter((e) => e.rxcui !== from);
  else list = list.map((e) => (e.rxcui === from ? { ...e, rxcui: to } : e));
  changed(`Switched to the generic, ${label}.`);
}

async function listItems() {
  let byRxcui;
  try {
    byRxcui = await drugMap(list);
  } catch {
    return [h("li", {}, "Your drugs could not be loaded. Check your connection and reload the page.")];
  }
  return Promise.all(
    list.map(async (e) => {
      const d = byRxcui.get(e.rxcui);
      const label = drugLabel(d);
      let generic = null;
      if (!d.is_generic && d.generics && d.generics.length) {
        const g = await drugFile(d.generics[0]).catch(() => null);
        if (g) {
          generic = h(
            "p",
            { class: "drug-list__generic" },
            `A generic is available: ${drugLabel(g)}. `,
            h("button", { type: "button", class: "usa-button usa-button--unstyled", onclick: () => switchTo(e.rxcui, g.rxcui, drugLabel(g)) }, "Switch to the generic", h("span", { class: "usa-sr-only" }, ` instead of ${label}`)),
          );
        }
      }
      return h(
        "li",
        { class: "drug-list__item", "data-rxcui": e.rxcui },
        h("span", { class: "drug-list__name" }, label),
        h("span", { class: "drug-list__how" }, howFilled(e)),
        h(
          "button",
          {
            type: "button",
            class: "usa-button usa-button--unstyled drug-list__remove",
            onclick: () => {
              list = list.filter((x) => x.rxcui !== e.rxcui);
              changed(`${label} removed. ${list.length ? `${drugs(list.length)} on your list.` : "Your list is empty."}`);
            },
          },
          "Remove",
          h("span", { class: "usa-sr-only" }, ` ${label}`),
        ),
        generic,
      );
    }),
  );
}

/** The panel's line under its label: what is on the list. */
const summaryText = () => (list.length ? `${drugs(list.length)}: costs below include them` : "Add your drugs to see what they cost on each plan");

/** The panel on one page; `open` says whether it starts open. */
function panel(slot, { open }) {
  // Written at once, not when the list's rows are ready, so the panel has
  // its final height when it replaces the zip page's placeholder.
  const summaryLine = h("span", { class: "drug-panel__count" }, summaryText());
  const items = h("ul", { class: "drug-list usa-list usa-list--unstyled" });
  const status = h("p", { class: "drug-panel__status usa-sr-only", role: "status", "aria-live": "polite" });
  const link = h("a", { class: "usa-link drug-panel__link", href: "#" }, "Link to this drug list");
  const copy = h("button", { type: "button", class: "usa-button usa-button--outline drug-panel__copy" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(shareUrl());
      announce("Link copied. Anyone who opens it sees this drug list.");
    } catch {
      announce("Copying is not allowed here. Copy the link to this drug list instead.");
    }
  });
  const share = h(
    "div",
    { class: "drug-panel__share" },
    h("p", { class: "margin-y-1" }, "Save or share this list with its link. The list stays in this browser; it is never sent to us."),
    h("p", { class: "drug-panel__share-actions margin-y-1" }, link, copy),
  );
  const details = h(
    "details",
    { class: "drug-panel", open },
    h("summary", {}, h("span", { class: "drug-panel__label" }, "Your drugs"), summaryLine),
    h("div", { class: "drug-panel__body" }, items, addForm(), share, status),
  );
  slot.replaceChildren(details);
  slot.hidden = false;
  if (slot.parentElement.classList.contains("zip-layout__tools")) slot.parentElement.hidden = false;
  announceTo = status;
  const p = { summaryLine, items, share, link };
  panels.push(p);
  return p;
}

let listVersion = 0;
async function renderPanels() {
  const version = ++listVersion;
  const rows = list.length ? await listItems() : [];
  if (version !== listVersion) return;
  for (const p of panels) {
    p.summaryLine.textContent = summaryText();
    p.items.replaceChildren(...(p === panels[0] ? rows : rows.map((r) => r.cloneNode(true))));
    p.share.hidden = !list.length;
    p.link.href = shareUrl();
  }
}


// ---------- the pages ----------

let refresh = async () => {};

/** After any change of the list: keep it, show it, re-estimate. */
function changed(message) {
  save();
  if (message) announce(message);
  renderPanels();
  refresh();
}

// The estimates and their views wait until there is a list to price.
let pagesModule = null;
const pages = () => (pagesModule ||= import("./drug-pages.mjs"));

/** Zip page: the panel beside the plans, a total on every card. */
function zipPage() {
  const slot = $("#drug-tools");
  if (!slot || !isZip(body.dataset.zip || "")) return;
  panel(slot, { open: window.matchMedia("(min-width: 64em)").matches });
  const cards = $$("#plan-list > li.plan-card[data-plan-id]");
  let run = 0;
  refresh = async () => {
    const ticket = ++run;
    // Without a list and with nothing drawn yet, there is nothing to do.
    if (!list.length && !pagesModule) return;
    await (await pages()).zip(list, cards, () => ticket === run, onEstimates);
  };
}

/** Plan page: the panel, then the plan's cost of the list. */
function planPage() {
  const section = $("#plan-drugs");
  const id = body.dataset.planId;
  if (!section || !id) return;
  const out = $("#plan-drugs-estimate", section);
  panel($("#plan-drugs-panel", section), { open: !list.length || window.matchMedia("(min-width: 64em)").matches });
  section.hidden = false;
  let run = 0;
  refresh = async () => {
    const ticket = ++run;
    if (!list.length) {
      out.replaceChildren(h("p", {}, "Add your drugs to see what they cost on this plan, month by month."));
      if (pagesModule) (await pages()).showYearlyWithoutDrugs(true);
      return;
    }
    await (await pages()).plan(list, id, out, () => ticket === run);
  };
}

/** The plans the compare table shows, and the visitor's current one. */
let shown = null;

/** Compare page: the table (compare-page.mjs) shows these plans; the drug rows follow. */
export function compareShown(detail) {
  shown = detail;
  refresh();
}

/** Compare page: the panel above, drug rows in the table compare-page.mjs draws. */
function comparePage() {
  const slot = $("#compare-drugs");
  if (!slot) return;
  panel(slot, { open: !list.length });
  let run = 0;
  refresh = async () => {
    const ticket = ++run;
    if (!list.length && !pagesModule) return;
    await (await pages()).compare(list, shown, () => ticket === run);
  };
}

// ---------- start ----------

/** Where the zip page's estimates go (by plan id, or null without a list). */
let onEstimates = () => {};

/**
 * Starts the drug list on a zip, plan or compare page; `estimates` hears
 * the zip page's estimates. While a pass runs the body says
 * `data-drugs="busy"`, then `"ready"`, so a test can wait for it.
 */
export function startDrugs(page, { estimates } = {}) {
  const start = { zip: zipPage, plan: planPage, compare: comparePage }[page];
  if (!start) return;
  if (estimates) onEstimates = estimates;
  const linked = fromHash(location.hash);
  list = linked || stored();
  if (linked) save();
  start();
  // Every refresh is tracked, so a test or the benchmark can wait for it.
  const inner = refresh;
  let pending = 0;
  refresh = () => {
    pending += 1;
    body.dataset.drugs = "busy";
    return inner()
      .catch(() => {})
      .finally(() => {
        pending -= 1;
        if (!pending) body.dataset.drugs = "ready";
      });
  };
  renderPanels();
  refresh();
  if (linked && linked.length) announce(`${drugs(list.length)} loaded from the link.`);
  window.addEventListener("hashchange", () => {
    const next = fromHash(location.hash);
    if (next && JSON.stringify(next) !== JSON.stringify(list)) {
      list = next;
      changed(`${drugs(list.length)} loaded from the link.`);
    }
  });
}
