// Money as the app shows and reads it: amounts are integers in minor units, and how many
// decimals a currency has comes from the server (`currency_decimals` on the wallet), with
// Intl's figure only as a fallback for a currency the server has not described yet.
// Pure: no DOM, no storage; importable by Node for its tests.

const serverDecimals = new Map();

/** What the server says about a currency's minor unit (the wallet's `currency_decimals`). */
export function rememberCurrencyDecimals(currency, decimals) {
  if (currency && Number.isInteger(decimals) && decimals >= 0 && decimals <= 6) {
    serverDecimals.set(currency, decimals);
  }
}

/** How many minor units a currency has: the server's figure, else Intl's, else 2. */
export function currencyDigits(currency) {
  if (serverDecimals.has(currency)) return serverDecimals.get(currency);
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
  } catch {
    return 2;
  }
}

/**
 * An amount in minor units, as money in `language`: 123456 CNY → "¥1,234.56" in zh-Hans.
 * `digits` overrides the currency's decimals.
 */
export function formatMoney(amount, currency, { language = "en", signed = false, digits } = {}) {
  const decimals = Number.isInteger(digits) ? digits : currencyDigits(currency);
  const major = amount / 10 ** decimals;
  try {
    return new Intl.NumberFormat(language, {
      style: "currency",
      currency,
      signDisplay: signed ? "exceptZero" : "auto",
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    }).format(major);
  } catch {
    const number = new Intl.NumberFormat(language, {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
      signDisplay: signed ? "exceptZero" : "auto",
    }).format(major);
    return `${number} ${currency}`;
  }
}

/**
 * What a person typed as an amount ("1,234.50", "1.234,50", "50"), in minor units; null
 * if it is not a plain positive amount with at most the currency's decimals. `language`
 * decides an ambiguous separator ("1.234" is 1234 in Spanish, refused in English).
 */
export function parseMoney(text, currency, { language = "en", digits } = {}) {
  const decimals = Number.isInteger(digits) ? digits : currencyDigits(currency);
  const cleaned = String(text).trim().replace(/[\s\u00a0\u202f']/g, "");
  if (!cleaned) return null;
  const separator = new Intl.NumberFormat(language)
    .formatToParts(1.5)
    .find((p) => p.type === "decimal")?.value;
  let normalised = cleaned;
  const lastDot = cleaned.lastIndexOf(".");
  const lastComma = cleaned.lastIndexOf(",");
  if (lastDot >= 0 && lastComma >= 0) {
    // Both: the later one is the decimal separator, the other groups thousands.
    const decimal = lastDot > lastComma ? "." : ",";
    const group = decimal === "." ? "," : ".";
    normalised = cleaned.split(group).join("").replace(decimal, ".");
  } else if (lastComma >= 0) {
    const after = cleaned.length - lastComma - 1;
    const commaIsDecimal = cleaned.indexOf(",") === lastComma && (separator === "," || after !== 3);
    normalised = commaIsDecimal ? cleaned.replace(",", ".") : cleaned.split(",").join("");
  } else if (lastDot >= 0) {
    const after = cleaned.length - lastDot - 1;
    const dotIsDecimal = cleaned.indexOf(".") === lastDot && (separator === "." || after !== 3);
    normalised = dotIsDecimal ? cleaned : cleaned.split(".").join("");
  }
  if (!/^\d+(\.\d+)?$/.test(normalised)) return null;
  const [whole, fraction = ""] = normalised.split(".");
  if (fraction.length > decimals) return null;
  const minor = Number(whole) * 10 ** decimals + Number(fraction.padEnd(decimals, "0") || 0);
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}
