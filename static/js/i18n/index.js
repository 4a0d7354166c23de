// The string catalogue in use, and `t(key, args)` to read it. Catalogues live one per language
// (./en.js, ./pt-BR.js). A missing key shows the key itself, never breaks. Server messages
// (`{key, params}`, app/teaching/messages.py) are read with `message(m)` from the `msg.` keys.
import en from "./en.js";
import ptBR from "./pt-BR.js";

export const catalogues = { en, "pt-BR": ptBR };
export const LANGUAGES = Object.keys(catalogues);
const STORAGE_KEY = "grafo.lang";
let current = en;

export function setLanguage(lang) {
  current = catalogues[lang] ?? en;
  document.documentElement.lang = current.lang;
  return current.lang;
}

/** The language to start in: the one the user chose before, else the browser's, else English. */
export function initialLanguage() {
  let saved = null;
  try { saved = localStorage.getItem(STORAGE_KEY); } catch { /* storage blocked */ }
  if (saved && catalogues[saved]) return saved;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language ?? "en"];
  for (const l of wanted) {
    if (/^pt\b/i.test(l)) return "pt-BR";
    if (/^en\b/i.test(l)) return "en";
  }
  return "en";
}

export function rememberLanguage(lang) {
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* storage blocked */ }
}

/** `{name}` placeholders in a string filled from args (server message texts use them). */
const fill = (text, args) => text.replace(/\{(\w+)\}/g, (m, k) => (args[k] ?? m));

export function t(key, args = {}) {
  const entry = current[key] ?? en[key];
  if (entry === undefined) return key;
  return typeof entry === "function" ? entry(args) : fill(entry, args);
}

/** A server Message `{key, params}` in the current language. */
export function message(m) {
  if (!m?.key) return "";
  const key = `msg.${m.key}`;
  return current[key] ?? en[key] ? t(key, m.params ?? {}) : m.key;
}

/** An error in the reader's language when Grafo worded it (`key`), else `otherwise` (torch's own words). */
export function errorWords(e, otherwise = e.message) {
  return e.key ? message({ key: e.key, params: e.params }) : otherwise;
}

/** An example's title and description in the current language (API field `translations`, when sent). */
export function exampleText(ex) {
  const tr = ex.translations?.[current.lang] ?? {};
  return { title: tr.title ?? ex.title, description: tr.description ?? ex.description ?? "" };
}

/**
 * Fill every element under `root` that names a key in data-i18n (text), data-i18n-title (tooltip) or
 * data-i18n-placeholder (an input's placeholder), or data-i18n-label (aria-label only: the graph, the
 * tab list, the legend, the slider).
 */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
    // The tooltip is the accessible name too, unless the page gave one of its own; set again (in the new
    // language) whenever the page is translated.
    if (!el.hasAttribute("aria-label") || el.dataset.i18nTitleLabel || el.dataset.i18nTitle.startsWith("player.") || el.dataset.i18nTitle.startsWith("lang.")) {
      el.setAttribute("aria-label", t(el.dataset.i18nTitle));
      el.dataset.i18nTitleLabel = "1";
    }
  }
}
