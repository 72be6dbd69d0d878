// Translations: /static/i18n/<lang>.json, chosen from navigator.language and switchable.

const SUPPORTED = ["en", "ko"];
let strings = {};
let fallback = {};
let current = "en";

export function pickLanguage() {
  const saved = localStorage.getItem("civicdao.lang");
  if (SUPPORTED.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (SUPPORTED.includes(base)) return base;
  }
  return "en";
}

async function load(lang) {
  const response = await fetch(`/static/i18n/${lang}.json`);
  return response.json();
}

export async function setLanguage(lang, { remember = false } = {}) {
  current = SUPPORTED.includes(lang) ? lang : "en";
  if (!Object.keys(fallback).length) fallback = await load("en");
  strings = current === "en" ? fallback : await load(current);
  if (remember) localStorage.setItem("civicdao.lang", current);
  document.documentElement.lang = current;
  translateStatic();
}

export function language() {
  return current;
}

/** t("proposal.quorum", {n: 3}) → the string with {n} replaced. */
export function t(key, vars = {}) {
  const template = strings[key] ?? fallback[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function translateStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

export function formatDate(seconds, withTime = true) {
  if (!seconds) return "—";
  const options = withTime
    ? { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }
    : { dateStyle: "medium", timeZone: "UTC" };
  return new Intl.DateTimeFormat(current, options).format(new Date(seconds * 1000)) + (withTime ? " UTC" : "");
}
