// Show a code: a one-time code (and its QR code) to show a merchant, for a deposit waiver
// or for a biller to send bills. The code is shown large, spelled out for screen readers,
// with a live countdown to when it expires; the citizen learns what the merchant will see.
import { useEffect, useRef, useState } from "../vendor/preact-htm.js";
import { renderSVG } from "../vendor/uqr.js";

import { api } from "../api.js";
import { formatDate, has, language, register, t } from "../i18n.js";
import {
  allPages,
  Button,
  Card,
  ErrorNotice,
  Field,
  html,
  Loaded,
  notify,
  Screen,
  useAction,
  useApi,
  useLoad,
} from "../ui.js";

import { DEFAULT_LIMITS, limitsSentence, readLimits, textLanguage, typedLimit } from "./limits.js";

register({
  en: {
    "credit.intro": "Get a one-time code to show a merchant. It works once and only for a few minutes.",
    "credit.formTitle": "Get a code",
    "credit.scopeLegend": "What is the code for?",
    "credit.scope.deposit_waiver": "Deposit waiver at a hotel or rental",
    "credit.scope.deposit_waiverHint": "Check in or pick up without paying all or part of the deposit.",
    "credit.scope.billing": "Billing: let a biller send me bills",
    "credit.scope.billingHint": "A utility or phone company sends its bills to this app.",
    "credit.merchant": "Merchant",
    "credit.merchantHint": "Choose one so that only that merchant can use the code.",
    "credit.anyMerchant": "Any merchant",
    "credit.merchantOption": "{name} ({category})",
    "credit.merchantsLoading": "Loading merchants…",
    "credit.merchantsFailed": "We could not load the list of merchants. You can still get a code for any merchant.",
    "credit.merchantGone": "That merchant is not available any more. Choose another one, or any merchant.",
    "credit.get": "Get my code",
    "credit.ready": "Your code is ready.",
    "credit.codeTitle": "Your one-time code",
    "credit.for.deposit_waiver": "For a deposit waiver at {merchant}",
    "credit.for.deposit_waiverAny": "For a deposit waiver at any hotel or rental",
    "credit.for.billing": "For {merchant} to send you bills",
    "credit.for.billingAny": "For any biller to send you bills",
    "credit.codeSpelled": "One-time code: {spelled}",
    "credit.show": "Show this code or the QR code to the merchant. It works once.",
    "credit.qr": "QR code for your one-time code",
    "credit.expiresIn": "Expires in {time}",
    "credit.validUntil": "Valid until {time}",
    "credit.oneMinute": "One minute left to use your code.",
    "credit.expired": "This code has expired. Get a new one to continue.",
    "credit.newCode": "Get a new code",
    "credit.newReady": "Here is your new code.",
    "credit.learnTitle": "What the merchant will learn",
    "credit.learn.deposit_waiver": "Only whether a deposit can be waived for you, and how much. Never your score, your band or your records.",
    "credit.learn.billing": "Only that you agree to receive their bills in this app, and the limits you set. Never your score, your band or your records.",
    "credit.revoke": "Once the merchant uses the code, you can revoke that consent at any time later in Consents.",
    "credit.openConsents": "Open Consents",
    "credit.copy": "Copy code",
    "credit.copied": "Code copied.",
    "credit.done": "Done",
    "credit.limitsLegend": "Limits on this biller's bills",
    "credit.limitsHint": "We propose these; set what suits you. Bills above them are refused.",
    "credit.agree": "What you agree to",
  },
  es: {
    "credit.intro": "Obtén un código de un solo uso para mostrárselo a un comercio. Sirve una vez y solo durante unos minutos.",
    "credit.formTitle": "Obtener un código",
    "credit.scopeLegend": "¿Para qué es el código?",
    "credit.scope.deposit_waiver": "Exención de depósito en un hotel o alquiler",
    "credit.scope.deposit_waiverHint": "Registrarte o recoger sin pagar todo o parte del depósito.",
    "credit.scope.billing": "Facturación: que un emisor me envíe facturas",
    "credit.scope.billingHint": "Una compañía de suministros o de teléfono envía sus facturas a esta app.",
    "credit.merchant": "Comercio",
    "credit.merchantHint": "Elige uno para que solo ese comercio pueda usar el código.",
    "credit.anyMerchant": "Cualquier comercio",
    "credit.merchantOption": "{name} ({category})",
    "credit.merchantsLoading": "Cargando comercios…",
    "credit.merchantsFailed": "No pudimos cargar la lista de comercios. Aun así puedes obtener un código para cualquier comercio.",
    "credit.merchantGone": "Ese comercio ya no está disponible. Elige otro, o cualquier comercio.",
    "credit.get": "Obtener mi código",
    "credit.ready": "Tu código está listo.",
    "credit.codeTitle": "Tu código de un solo uso",
    "credit.for.deposit_waiver": "Para la exención de depósito en {merchant}",
    "credit.for.deposit_waiverAny": "Para la exención de depósito en cualquier hotel o alquiler",
    "credit.for.billing": "Para que {merchant} te envíe facturas",
    "credit.for.billingAny": "Para que cualquier emisor te envíe facturas",
    "credit.codeSpelled": "Código de un solo uso: {spelled}",
    "credit.show": "Muestra este código o el código QR al comercio. Sirve una sola vez.",
    "credit.qr": "Código QR de tu código de un solo uso",
    "credit.expiresIn": "Caduca en {time}",
    "credit.validUntil": "Válido hasta las {time}",
    "credit.oneMinute": "Queda un minuto para usar tu código.",
    "credit.expired": "Este código ha caducado. Obtén uno nuevo para continuar.",
    "credit.newCode": "Obtener un código nuevo",
    "credit.newReady": "Aquí tienes tu código nuevo.",
    "credit.learnTitle": "Qué sabrá el comercio",
    "credit.learn.deposit_waiver": "Solo si se te puede eximir del depósito y en qué cantidad. Nunca tu puntuación, tu nivel ni tus registros.",
    "credit.learn.billing": "Solo que aceptas recibir sus facturas en esta app, y los límites que pones. Nunca tu puntuación, tu nivel ni tus registros.",
    "credit.revoke": "Cuando el comercio use el código, podrás revocar ese consentimiento cuando quieras en Consentimientos.",
    "credit.openConsents": "Abrir Consentimientos",
    "credit.copy": "Copiar código",
    "credit.copied": "Código copiado.",
    "credit.done": "Listo",
    "credit.limitsLegend": "Límites de las facturas de este emisor",
    "credit.limitsHint": "Te proponemos estos; pon los que te convengan. Se rechazan las facturas que los superen.",
    "credit.agree": "Lo que aceptas",
  },
  "zh-Hans": {
    "credit.intro": "获取一个一次性验证码出示给商户。它只能使用一次，且仅在几分钟内有效。",
    "credit.formTitle": "获取验证码",
    "credit.scopeLegend": "验证码用于什么？",
    "credit.scope.deposit_waiver": "在酒店或租赁商户免押金",
    "credit.scope.deposit_waiverHint": "入住或取车时免付全部或部分押金。",
    "credit.scope.billing": "账单：允许账单方向我发送账单",
    "credit.scope.billingHint": "水电或电信公司把账单发送到本应用。",
    "credit.merchant": "商户",
    "credit.merchantHint": "选择一个商户，则只有该商户可以使用此验证码。",
    "credit.anyMerchant": "任意商户",
    "credit.merchantOption": "{name}（{category}）",
    "credit.merchantsLoading": "正在加载商户…",
    "credit.merchantsFailed": "无法加载商户列表。您仍可获取适用于任意商户的验证码。",
    "credit.merchantGone": "该商户已不可用。请选择其他商户，或选择任意商户。",
    "credit.get": "获取我的验证码",
    "credit.ready": "您的验证码已生成。",
    "credit.codeTitle": "您的一次性验证码",
    "credit.for.deposit_waiver": "用于在 {merchant} 免押金",
    "credit.for.deposit_waiverAny": "用于在任意酒店或租赁商户免押金",
    "credit.for.billing": "用于让 {merchant} 向您发送账单",
    "credit.for.billingAny": "用于让任意账单方向您发送账单",
    "credit.codeSpelled": "一次性验证码：{spelled}",
    "credit.show": "向商户出示此验证码或二维码。只能使用一次。",
    "credit.qr": "一次性验证码的二维码",
    "credit.expiresIn": "{time} 后过期",
    "credit.validUntil": "有效期至 {time}",
    "credit.oneMinute": "验证码还剩一分钟有效。",
    "credit.expired": "此验证码已过期。请获取新的验证码后继续。",
    "credit.newCode": "获取新验证码",
    "credit.newReady": "这是您的新验证码。",
    "credit.learnTitle": "商户会知道什么",
    "credit.learn.deposit_waiver": "只会知道能否为您免除押金以及免除多少，绝不会看到您的评分、等级或记录。",
    "credit.learn.billing": "只会知道您同意在本应用中接收其账单以及您设置的限额，绝不会看到您的评分、等级或记录。",
    "credit.revoke": "商户使用验证码后，您以后可以随时在“授权”中撤销该授权。",
    "credit.openConsents": "打开“授权”",
    "credit.copy": "复制验证码",
    "credit.copied": "验证码已复制。",
    "credit.done": "完成",
    "credit.limitsLegend": "该账单方的账单限额",
    "credit.limitsHint": "以下为建议值，您可以按需设置。超出限额的账单将被拒绝。",
    "credit.agree": "您同意的内容",
  },
});

const SCOPES = ["deposit_waiver", "billing"];
// Which merchants make sense for each scope.
const CATEGORIES = { deposit_waiver: ["hotel", "rental"], billing: ["biller"] };
// How long a code lives (the server's CODE_TTL): used only when this phone's clock is far off.
const CODE_TTL_MS = 10 * 60 * 1000;
const MAX_PAGES = 5;

function categoryLabel(category) {
  return has(`category.${category}`) ? t(`category.${category}`) : category;
}

/** The merchants the citizen knows: those offering perks and those with a consent. */
function useMerchants() {
  return useLoad(async (signal) => {
    const [perks, consents] = await Promise.all([
      allPages("me/perks", { signal, maxPages: MAX_PAGES }),
      allPages("me/consents", { signal, maxPages: MAX_PAGES }),
    ]);
    const byId = new Map();
    for (const row of [...perks.rows, ...consents.rows]) {
      if (row.merchant?.id && !byId.has(row.merchant.id)) byId.set(row.merchant.id, row.merchant);
    }
    return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
  }, []);
}

function merchantsFor(merchants, scope) {
  return (merchants || []).filter((merchant) => CATEGORIES[scope].includes(merchant.category));
}

/** "09:41": minutes and seconds left. */
function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${String(minutes).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Seconds left until `deadline` (ms), read at each render; it renders every second until then. */
function useSecondsLeft(deadline) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => {
      setTick((tick) => tick + 1);
      if (Date.now() >= deadline) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [deadline]);
  return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
}

// --- The form --------------------------------------------------------------------------------

/** The two limits a billing code carries, typed in the wallet's currency. */
function LimitFields({ currency, values, onInput, errors }) {
  return html`<fieldset class="choices credit-limits">
    <legend>${t("credit.limitsLegend")}</legend>
    <p class="hint">${t("credit.limitsHint")}</p>
    ${[
      ["max_bill_amount", "single"],
      ["max_monthly_amount", "monthly"],
    ].map(
      ([name, key]) => html`<${Field}
        key=${name}
        label=${`${t(`limits.${key}`)} (${currency})`}
        hint=${t(`limits.${key}Hint`)}
        name=${name}
        inputmode="decimal"
        autocomplete="off"
        value=${values[name]}
        error=${errors[name] || null}
        onInput=${(event) => onInput(name, event.currentTarget.value)}
      />`,
    )}
  </fieldset>`;
}

/** What to send for a code: its scope, its merchant if chosen, its limits, the language. */
function codeBody(scope, merchantId, limits) {
  const body = { scope, language: textLanguage(language()) };
  if (merchantId) body.merchant_id = merchantId;
  return scope === "billing" ? { ...body, ...limits } : body;
}

function CodeForm({ initialScope, initialMerchant, initialLimits, onCode }) {
  const [scope, setScope] = useState(SCOPES.includes(initialScope) ? initialScope : "deposit_waiver");
  const [merchantId, setMerchantId] = useState(initialMerchant || "");
  const [typed, setTyped] = useState(null);
  const [limitErrors, setLimitErrors] = useState({});
  const wallet = useApi(scope === "billing" ? "me/wallet" : null);
  const currency = wallet.data?.currency;
  const merchants = useMerchants();
  const action = useAction((idempotencyKey, body) =>
    api("me/authorization-codes", { method: "POST", body, idempotencyKey }),
  );
  const choices = merchantsFor(merchants.data, scope);

  // A merchant that does not fit the scope is not a choice any more.
  useEffect(() => {
    if (merchants.data && merchantId && !choices.some((merchant) => merchant.id === merchantId)) {
      setMerchantId("");
    }
  }, [merchants.data, scope, merchantId, choices]);

  const chooseScope = (value) => {
    setScope(value);
    action.reset();
  };

  // The limits as typed: the last ones used, else the proposed defaults.
  const limits = initialLimits || { max_bill_amount: DEFAULT_LIMITS.single, max_monthly_amount: DEFAULT_LIMITS.monthly };
  const values = typed || {
    max_bill_amount: currency ? typedLimit(limits.max_bill_amount, currency) : "",
    max_monthly_amount: currency ? typedLimit(limits.max_monthly_amount, currency) : "",
  };
  const typeLimit = (name, value) => {
    setTyped({ ...values, [name]: value });
    setLimitErrors({});
    action.reset();
  };

  const submit = async (event) => {
    event.preventDefault();
    let read = {};
    if (scope === "billing") {
      if (!currency) return;
      read = readLimits(values.max_bill_amount, values.max_monthly_amount, currency);
      setLimitErrors(read.errors || {});
      if (read.errors) {
        // The first field to fix takes the focus, once it shows its error.
        setTimeout(() => document.querySelector(".credit-limits [aria-invalid=true]")?.focus(), 0);
        return;
      }
    }
    // Only a merchant the list shows: what is sent is what the person sees chosen.
    const chosen = merchantId && choices.some((merchant) => merchant.id === merchantId) ? merchantId : "";
    const result = await action.run(codeBody(scope, chosen, read.limits));
    if (!result) return;
    notify(() => t("credit.ready"));
    onCode(result);
  };

  const fields = action.error?.fields || {};
  const merchantError = fields.merchant_id ? { message: t("credit.merchantGone") } : null;
  const scopeError = fields.scope || null;
  const serverLimits = { max_bill_amount: fields.max_bill_amount, max_monthly_amount: fields.max_monthly_amount };
  const shownFields = ["merchant_id", "scope", "max_bill_amount", "max_monthly_amount"];
  const otherError = action.error && !shownFields.some((name) => fields[name]);
  return html`<${Card} title=${t("credit.formTitle")} class="credit-form">
    <form class="form" onSubmit=${submit} novalidate>
      <fieldset class="choices" aria-describedby=${scopeError ? "credit-scope-error" : undefined}>
        <legend>${t("credit.scopeLegend")}</legend>
        ${SCOPES.map(
          (value) => html`<div class=${`choice${scope === value ? " choice-on" : ""}`}>
            <input
              type="radio"
              id=${`credit-scope-${value}`}
              name="scope"
              value=${value}
              checked=${scope === value}
              aria-describedby=${`credit-scope-${value}-hint`}
              onChange=${() => chooseScope(value)}
            />
            <label for=${`credit-scope-${value}`}>${t(`credit.scope.${value}`)}</label>
            <p class="hint" id=${`credit-scope-${value}-hint`}>${t(`credit.scope.${value}Hint`)}</p>
          </div>`,
        )}
        ${scopeError
          ? html`<p class="field-error" id="credit-scope-error">${t("field.invalid_choice")}</p>`
          : null}
      </fieldset>
      <${Field}
        as="select"
        label=${t("credit.merchant")}
        hint=${t("credit.merchantHint")}
        error=${merchantError}
        name="merchant"
        value=${merchantId}
        onChange=${(event) => {
          setMerchantId(event.currentTarget.value);
          action.reset();
        }}
      >
        <option value="">${t("credit.anyMerchant")}</option>
        ${choices.map(
          (merchant) => html`<option value=${merchant.id}>
            ${t("credit.merchantOption", { name: merchant.name, category: categoryLabel(merchant.category) })}
          </option>`,
        )}
      <//>
      ${scope === "billing"
        ? html`<${Loaded} result=${wallet}>
            ${() => html`<${LimitFields}
              currency=${currency}
              values=${values}
              onInput=${typeLimit}
              errors=${{ ...serverLimits, ...limitErrors }}
            />`}
          <//>`
        : null}
      ${merchants.loading
        ? html`<p class="muted credit-merchants-state" role="status">${t("credit.merchantsLoading")}</p>`
        : null}
      ${merchants.error
        ? html`<div class="notice credit-merchants-state">
            <p>${t("credit.merchantsFailed")}</p>
            <${Button} variant="secondary" onClick=${merchants.reload}>${t("common.retry")}<//>
          </div>`
        : null}
      ${otherError || merchantError ? html`<${ErrorNotice} error=${action.error} />` : null}
      <div class="button-row">
        <${Button} type="submit" busy=${action.busy || (scope === "billing" && !currency)}>${t("credit.get")}<//>
      </div>
    </form>
  <//>`;
}

// --- The code ----------------------------------------------------------------------------------

function purpose(code) {
  const merchant = code.merchant?.name;
  const scope = SCOPES.includes(code.scope) ? code.scope : "deposit_waiver";
  return merchant ? t(`credit.for.${scope}`, { merchant }) : t(`credit.for.${scope}Any`);
}

/** The code in groups of four for reading; its text is exactly the code. */
function CodeText({ code, expired }) {
  const groups = code.match(/.{1,4}/g) || [code];
  return html`<p
    class=${`otc${expired ? " otc-expired" : ""}`}
    data-testid="one-time-code"
    role="img"
    aria-label=${t("credit.codeSpelled", { spelled: code.split("").join(" ") })}
    translate="no"
  >${groups.map((group) => html`<span class="otc-group">${group}</span>`)}</p>`;
}

function QrCode({ payload }) {
  const svg = renderSVG(payload, { pixelSize: 8, border: 2 });
  return html`<div
    class="qr"
    role="img"
    aria-label=${t("credit.qr")}
    dangerouslySetInnerHTML=${{ __html: svg }}
  ></div>`;
}

function CodeCard({ code, onNew, onDone, renewing }) {
  const heading = useRef(null);
  const seconds = useSecondsLeft(code.deadline);
  const expired = seconds <= 0;
  const [announcement, setAnnouncement] = useState("");
  const announced = useRef({ minute: false, expired: false });
  // The seconds left when a new code arrives (read, not a reason to run again).
  const secondsNow = useRef(seconds);
  secondsNow.current = seconds;

  useEffect(() => {
    heading.current?.focus();
    announced.current = { minute: secondsNow.current <= 60, expired: false };
    setAnnouncement("");
  }, [code.id]);

  useEffect(() => {
    if (expired && !announced.current.expired) {
      announced.current.expired = true;
      setAnnouncement(t("credit.expired"));
    } else if (!expired && seconds <= 60 && !announced.current.minute) {
      announced.current.minute = true;
      setAnnouncement(t("credit.oneMinute"));
    }
  }, [seconds, expired]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code.code);
      notify(() => t("credit.copied"));
    } catch {
      // No clipboard here (an old browser, or no permission): the code is on screen.
    }
  };
  const canCopy = typeof navigator !== "undefined" && navigator.clipboard && window.isSecureContext;
  const scope = SCOPES.includes(code.scope) ? code.scope : "deposit_waiver";

  return html`<section class="card credit-code" aria-labelledby="credit-code-title">
    <h2 class="card-title" id="credit-code-title" tabindex="-1" ref=${heading}>${t("credit.codeTitle")}</h2>
    <p class="credit-purpose">${purpose(code)}</p>
    <${CodeText} code=${code.code} expired=${expired} />
    ${expired
      ? html`<div class="notice credit-expired">
          <p>${t("credit.expired")}</p>
          <${ErrorNotice} error=${renewing.error} />
          <${Button} busy=${renewing.busy} onClick=${onNew}>${t("credit.newCode")}<//>
        </div>`
      : html`<p class="muted credit-show">${t("credit.show")}</p>
          <${QrCode} payload=${code.qr_payload} />
          <p class="countdown" role="timer" aria-live="off" aria-atomic="true">
            ${t("credit.expiresIn", { time: clock(seconds) })}
          </p>
          <p class="muted credit-until">
            ${t("credit.validUntil", { time: formatDate(new Date(code.deadline), { timeStyle: "short" }) })}
          </p>`}
    <p class="visually-hidden" role="status" aria-live="polite">${announcement}</p>
    <h3>${t("credit.learnTitle")}</h3>
    <p>${t(`credit.learn.${scope}`)}</p>
    ${code.consent_text
      ? html`<h3>${t("credit.agree")}</h3>
          ${scope === "billing" ? html`<p class="credit-limits-said">${limitsSentence(code)}</p>` : null}
          <p class="consent-text">${code.consent_text}</p>`
      : null}
    <p>${t("credit.revoke")} <a href="#/consents">${t("credit.openConsents")}</a></p>
    <div class="button-row">
      ${canCopy && !expired ? html`<${Button} variant="secondary" onClick=${copy}>${t("credit.copy")}<//>` : null}
      <${Button} variant="secondary" onClick=${onDone}>${t("credit.done")}<//>
    </div>
  </section>`;
}

/** The limits a billing code was made with, to make the next one with the same; else null. */
function limitsOf(code) {
  return Number.isInteger(code.max_bill_amount)
    ? { max_bill_amount: code.max_bill_amount, max_monthly_amount: code.max_monthly_amount }
    : null;
}

/** When the code ends by this phone's clock: the server's time, unless the clocks disagree. */
function withDeadline(result) {
  const received = Date.now();
  const expires = Date.parse(result.expires_at);
  const ttl = expires - received;
  const deadline = Number.isFinite(ttl) && ttl > 0 && ttl <= CODE_TTL_MS + 60 * 1000 ? expires : received + CODE_TTL_MS;
  return { ...result, deadline };
}

export function CreditScreen({ params = {} }) {
  const [code, setCode] = useState(null);
  // What was chosen last, so that "Done" comes back to the same choice.
  const [last, setLast] = useState(null);
  const formAnchor = useRef(null);
  const renewing = useAction((idempotencyKey, body) =>
    api("me/authorization-codes", { method: "POST", body, idempotencyKey }),
  );

  const renew = async () => {
    const result = await renewing.run(codeBody(code.scope, code.merchant?.id, limitsOf(code)));
    if (!result) return;
    notify(() => t("credit.newReady"));
    setCode(withDeadline(result));
  };

  const done = () => {
    setCode(null);
    renewing.reset();
  };

  // Back on the form after "Done": the focus goes to its first choice.
  const wasShowing = useRef(false);
  useEffect(() => {
    if (!code && wasShowing.current) formAnchor.current?.querySelector("input:checked, input")?.focus();
    wasShowing.current = Boolean(code);
  }, [code]);

  return html`<${Screen} title=${t("nav.credit")}>
    <p class="lead">${t("credit.intro")}</p>
    ${code
      ? html`<${CodeCard} code=${code} onNew=${renew} onDone=${done} renewing=${renewing} />`
      : html`<div ref=${formAnchor}>
          <${CodeForm}
            key=${`${params.scope || ""}/${params.merchant || ""}`}
            initialScope=${last ? last.scope : params.scope}
            initialMerchant=${last ? last.merchant : params.merchant}
            initialLimits=${last?.limits}
            onCode=${(result) => {
              setLast({ scope: result.scope, merchant: result.merchant?.id || "", limits: limitsOf(result) });
              setCode(withDeadline(result));
            }}
          />
        </div>`}
  <//>`;
}
