// The limits a citizen sets on a biller (the largest single bill, the most in a calendar
// month): proposed defaults, read from what was typed, and said as a sentence. Pure (no
// DOM): the node tests import it. Used by "Show a code" (the billing code) and Consents.
import { currencyDigits, formatMoney, formatNumber, parseMoney, register, t } from "../i18n.js";

register({
  en: {
    "limits.single": "Largest single bill",
    "limits.singleHint": "A bill over this is refused.",
    "limits.monthly": "Most in a calendar month",
    "limits.monthlyHint": "This biller's bills in one calendar month may not add up to more.",
    "limits.unreadable": "Enter an amount as a number, for example {example}.",
    "limits.zero": "Enter an amount above zero.",
    "limits.singleOver": "The largest bill cannot be more than the monthly total.",
    "limits.sentence": "Bills of at most {single} each, and at most {monthly} in a calendar month.",
    "limits.agreed": "What you agreed to",
    "limits.version": "Consent text, version {version}",
  },
  es: {
    "limits.single": "Factura máxima",
    "limits.singleHint": "Se rechaza una factura por encima de este importe.",
    "limits.monthly": "Máximo en un mes natural",
    "limits.monthlyHint": "Las facturas de este emisor en un mes natural no pueden sumar más.",
    "limits.unreadable": "Escribe un importe en cifras, por ejemplo {example}.",
    "limits.zero": "Escribe un importe mayor que cero.",
    "limits.singleOver": "La factura máxima no puede superar el total mensual.",
    "limits.sentence": "Facturas de {single} como máximo cada una, y {monthly} como máximo en un mes natural.",
    "limits.agreed": "Lo que aceptaste",
    "limits.version": "Texto del consentimiento, versión {version}",
  },
  "zh-Hans": {
    "limits.single": "单张账单上限",
    "limits.singleHint": "超过此金额的账单将被拒绝。",
    "limits.monthly": "每个自然月上限",
    "limits.monthlyHint": "该账单方在一个自然月内的账单合计不得超过此金额。",
    "limits.unreadable": "请输入数字金额，例如 {example}。",
    "limits.zero": "请输入大于零的金额。",
    "limits.singleOver": "单张账单上限不能超过每月上限。",
    "limits.sentence": "每张账单不超过 {single}，每个自然月合计不超过 {monthly}。",
    "limits.agreed": "您同意的内容",
    "limits.version": "授权文本，第 {version} 版",
  },
});

/** What the app proposes, in minor units: bills of at most 500.00, 1,000.00 a month. */
export const DEFAULT_LIMITS = { single: 50_000, monthly: 100_000 };

/** Minor units as the person would type them here: 50000 CNY → "500.00" or "500,00". */
export function typedLimit(amount, currency) {
  const digits = currencyDigits(currency);
  return formatNumber(amount / 10 ** digits, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  });
}

function readOne(text, currency) {
  if (!String(text).trim()) return { error: { code: "required" } };
  const amount = parseMoney(text, currency);
  if (amount !== null) return { amount };
  if ((/^[\s0.,\u00a0\u202f']+$/.test(text) && /0/.test(text)) || /^\s*[-\u2212]/.test(text)) return { error: { message: t("limits.zero") } };
  return { error: { message: t("limits.unreadable", { example: typedLimit(DEFAULT_LIMITS.single, currency) }) } };
}

/**
 * The two limits as typed: {limits: {max_bill_amount, max_monthly_amount}} in minor
 * units, or {errors: {max_bill_amount?, max_monthly_amount?}} (field errors, as the
 * server's fields are named). The largest bill may not be above the monthly total.
 */
export function readLimits(single, monthly, currency) {
  const one = readOne(single, currency);
  const month = readOne(monthly, currency);
  const errors = {};
  if (one.error) errors.max_bill_amount = one.error;
  if (month.error) errors.max_monthly_amount = month.error;
  if (!one.error && !month.error && one.amount > month.amount) {
    errors.max_bill_amount = { message: t("limits.singleOver") };
  }
  if (Object.keys(errors).length) return { errors };
  return { limits: { max_bill_amount: one.amount, max_monthly_amount: month.amount } };
}

/** A billing consent's (or code's) limits as a sentence; null when it has none. */
export function limitsSentence(limits) {
  if (!Number.isInteger(limits?.max_bill_amount) || !Number.isInteger(limits?.max_monthly_amount)) return null;
  return t("limits.sentence", {
    single: formatMoney(limits.max_bill_amount, limits.currency),
    monthly: formatMoney(limits.max_monthly_amount, limits.currency),
  });
}

/** The app's language as the server names a consent text's language (en, es, zh). */
export function textLanguage(code) {
  return code.split("-")[0];
}
