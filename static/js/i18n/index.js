// The string catalogue in use, and `t(key, args)` to read it. Catalogues live one per language
// (./en.js; a pt-BR catalogue slots in beside it). A missing key shows the key itself, never breaks.
import en from "./en.js";

const catalogues = { en };
let current = en;

export function setLanguage(lang) {
  current = catalogues[lang] ?? en;
  document.documentElement.lang = current.lang;
  return current.lang;
}

export function t(key, args = {}) {
  const entry = current[key] ?? en[key];
  if (entry === undefined) return key;
  return typeof entry === "function" ? entry(args) : entry;
}

/** Fill every element under `root` that names a key in data-i18n (text) or data-i18n-title (tooltip). */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
    if (!el.hasAttribute("aria-label") || el.dataset.i18nTitle.startsWith("player.")) el.setAttribute("aria-label", t(el.dataset.i18nTitle));
  }
}
