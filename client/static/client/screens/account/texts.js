// Account and security in words: a device from its User-Agent, an obligation that keeps an
// account open, an identity level. Pure (no DOM): the node tests import it.
import { has, t } from "../../i18n.js";

import "./messages.js";

// The first match names it: Edge and Opera say "Chrome" too, and Chrome says "Safari".
const BROWSERS = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/(?:\b|Headless)Chrom(?:e|ium)\/|\bCriOS\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/\bokhttp\/|\bDalvik\//, "Android app"],
  [/\bCFNetwork\//, "iOS app"],
  [/\bcurl\//, "curl"],
  [/\bpython-requests\/|\bpython-urllib/i, "Python"],
];
const SYSTEMS = [
  [/\bAndroid\b/, "Android"],
  [/\biPhone\b|\biPad\b|\biOS\b/, "iOS"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

function first(table, text) {
  return table.find(([pattern]) => pattern.test(text))?.[1] || null;
}

/**
 * A device as a person would name it, from the `client` the server recorded (a browser's
 * User-Agent): "Firefox on Android". Nothing recognisable: the words of its kind
 * ("Browser", "App"), or "Unknown device".
 */
export function deviceName(device) {
  const client = device?.client || "";
  const browser = first(BROWSERS, client);
  const system = first(SYSTEMS, client);
  if (browser && system) return t("devices.on", { browser, system });
  if (browser || system) return browser || system;
  const kind = `devices.kind.${device?.kind}`;
  return has(kind) ? t(kind) : t("devices.unknown");
}

// Where the citizen can settle each obligation.
const FIX_ROUTE = {
  balance: "#/wallet",
  top_up: "#/wallet",
  withdrawal: "#/wallet",
  hold: "#/records?tab=bookings",
  booking: "#/records?tab=bookings",
  claim: "#/records?tab=claims",
  dispute: "#/records?tab=disputes",
  bill: "#/bills",
};

/**
 * What keeps the account open, from a 409 `account_has_obligations`: each obligation in
 * words, by its code (the server's sentence for a code this app does not know), with
 * where to settle it. One line per code, in the server's order.
 */
export function obligationLines(obligations) {
  const seen = new Set();
  const lines = [];
  for (const obligation of obligations || []) {
    const code = obligation?.code;
    if (!code || seen.has(code)) continue;
    seen.add(code);
    const known = has(`close.obligation.${code}`);
    lines.push({
      code,
      text: known ? t(`close.obligation.${code}`) : obligation.message || code,
      href: FIX_ROUTE[code] || null,
      fix: FIX_ROUTE[code] ? t(`close.fix.${code}`) : null,
    });
  }
  return lines;
}

/** An identity level in words: what was verified, never "level 1". */
export function levelName(level) {
  const key = `account.level.${level}`;
  return has(key) ? t(key) : t("account.level.0");
}
