// What the app's pure modules need from a browser, and no more: i18n.setLanguage sets
// <html lang>, so a stand-in document with a documentElement is enough.
import { setLanguage } from "../../client/static/client/i18n.js";

if (typeof globalThis.document === "undefined") {
  globalThis.document = { documentElement: { lang: "en" } };
}

/** Switch the app's language without touching storage. */
export function setLanguageForTest(code) {
  setLanguage(code, { remember: false });
}

/** What `run` says in `language` (then back to English), its text with plain spaces:
 * Intl puts no-break ones in money and dates. */
export function say(language, run) {
  setLanguageForTest(language);
  try {
    const said = run();
    return typeof said === "string" ? said.replace(/[\u00a0\u202f]/g, " ") : said;
  } finally {
    setLanguageForTest("en");
  }
}
