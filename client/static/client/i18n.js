// Languages, messages and locale formatting (Intl). Each screen registers its own
// messages next to its code with `register({en: {...}, es: {...}, "zh-Hans": {...}})`.
//
// A message is a string with {placeholders}, or an object of plural forms chosen by
// Intl.PluralRules from `vars.count` ({one: "...", other: "..."}). A key missing in a
// language falls back to English, then to the key itself.
//
// Pure at import time (no DOM, no storage): the node tests import it and the modules
// built on it.
import * as money from "./lib/money.js";

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "es", name: "Español" },
  { code: "zh-Hans", name: "简体中文" },
];
const CODES = LANGUAGES.map((language) => language.code);
const STORAGE_KEY = "open-sesame.language";

const catalog = Object.fromEntries(CODES.map((code) => [code, {}]));
const listeners = new Set();
let current = "en";

export function register(messages) {
  for (const [language, entries] of Object.entries(messages)) {
    if (!catalog[language]) throw new Error(`Unknown language ${language}`);
    for (const key of Object.keys(entries)) {
      if (key in catalog[language]) throw new Error(`Message ${key} registered twice`);
    }
    Object.assign(catalog[language], entries);
  }
}

/** The language to start in: the one chosen before, else the browser's, else English. */
export function detectLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    saved = null;
  }
  if (CODES.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("es")) return "es";
    // Traditional Chinese readers get English rather than the wrong script.
    if (lower.startsWith("zh") && !/-(hant|tw|hk|mo)\b/.test(lower)) return "zh-Hans";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export function language() {
  return current;
}

export function setLanguage(code, { remember = true } = {}) {
  if (!CODES.includes(code)) return;
  current = code;
  if (typeof document !== "undefined") document.documentElement.lang = code;
  if (remember && typeof localStorage !== "undefined") {
    try {
      localStorage.setItem(STORAGE_KEY, code);
    } catch {
      // Private browsing: the choice lasts for this visit only.
    }
  }
  for (const listener of listeners) listener(code);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function has(key) {
  return key in catalog[current] || key in catalog.en;
}

export function t(key, vars = {}) {
  let message = catalog[current][key] ?? catalog.en[key] ?? key;
  if (typeof message === "object") {
    const form = new Intl.PluralRules(current).select(vars.count ?? 0);
    message = message[form] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in vars)) return whole;
    const value = vars[name];
    return typeof value === "number" ? formatNumber(value) : String(value);
  });
}

// --- Formatting ------------------------------------------------------------------------

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(current, options).format(value);
}

/** "a, b and c" in the current language. */
export function formatList(items) {
  try {
    return new Intl.ListFormat(current, { style: "long", type: "conjunction" }).format(items);
  } catch {
    return items.join(", ");
  }
}

export { currencyDigits, rememberCurrencyDecimals } from "./lib/money.js";

/** An amount in minor units, as money in the current language: 123456 CNY → ¥1,234.56. */
export function formatMoney(amount, currency, { signed = false } = {}) {
  return money.formatMoney(amount, currency, { language: current, signed });
}

/**
 * What a person typed as an amount ("1,234.50", "1.234,50", "50"), in minor units; null
 * if it is not a plain positive amount with at most the currency's decimals.
 */
export function parseMoney(text, currency) {
  return money.parseMoney(text, currency, { language: current });
}

/** A calendar date from the API ("2026-12-01") is a day, not an instant: no time zone. */
function asDate(value) {
  if (value instanceof Date) return value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [year, month, day] = value.split("-").map(Number);
    return new Date(year, month - 1, day);
  }
  return new Date(value);
}

export function formatDate(value, options = { dateStyle: "medium" }) {
  if (!value) return "";
  return new Intl.DateTimeFormat(current, options).format(asDate(value));
}

export function formatDateTime(value) {
  if (!value) return "";
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(
    asDate(value),
  );
}

const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "3 hours ago", "in 2 days", in the current language. */
export function formatRelative(value, now = Date.now()) {
  const seconds = Math.round((asDate(value).getTime() - now) / 1000);
  const format = new Intl.RelativeTimeFormat(current, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

/** Keys some language lacks, by language (the tests keep this empty). */
export function missingMessages() {
  const all = new Set(CODES.flatMap((code) => Object.keys(catalog[code])));
  return Object.fromEntries(
    CODES.map((code) => [code, [...all].filter((key) => !(key in catalog[code])).sort()]).filter(
      ([, keys]) => keys.length,
    ),
  );
}
