// Perks: what each merchant offers (a deposit waiver up to an amount), what it asks for in
// plain words (translated from the structured requirements), whether the citizen qualifies
// now and how much would be waived, why, and the cheapest plan that would make them qualify.
import { formatDate, formatMoney, formatNumber, has, register, t } from "../i18n.js";
import { FACTS } from "../strings.js";
import { Badge, Card, Empty, html, Loaded, Pager, Screen, usePaged } from "../ui.js";

register({
  en: {
    "perks.intro": "What each merchant offers and exactly what it asks for. A merchant only learns whether a deposit can be waived for you and how much — never your score.",
    "perks.kind.deposit_waiver": "Deposit waiver",
    "perks.offer": "{kind} of up to {amount}",
    "perks.qualifies": "You qualify now",
    "perks.notYet": "Not yet",
    "perks.waivable": "Up to {amount} of the deposit would be waived",
    "perks.nothingWaived": "Nothing would be waived right now",
    "perks.asks": "What it asks for",
    "perks.noConditions": "Nothing beyond your band.",
    "perks.tiers": "How much is waived",
    "perks.why": "Why",
    "perks.whyNot": "Why not yet",
    "perks.useCode": "Get a code for {merchant}",
    "perks.none": "No merchant offers a perk at the moment.",

    "perks.op.>=": "at least",
    "perks.op.<=": "at most",
    "perks.op.==": "exactly",
    "perks.op.>": "more than",
    "perks.op.<": "less than",
    "perks.bandOp.>=": "at least",
    "perks.bandOp.<=": "at most",
    "perks.bandOp.==": "exactly",
    "perks.bandOp.>": "better than",
    "perks.bandOp.<": "worse than",

    "perks.req.condition": "{fact}: {op} {value}",
    "perks.req.none": "{fact}: none",
    "perks.req.band": "{fact}: {op} {value}",
    "perks.zero.unpaid_claims": "No unpaid claims",
    "perks.zero.open_disputes": "No open disputes",
    "perks.zero.late_payments_24m": "No late payments in the last 24 months",
    "perks.zero.no_shows_12m": "No no-shows in the last 12 months",
    "perks.metPrefix": "Met: ",
    "perks.unmetPrefix": "Not met: ",
    "perks.req.tier": "Band {band}: up to {amount} waived",
    "perks.req.tierNothing": "Band {band}: nothing waived",
    "perks.identity.value": "level {level} ({name})",
    "perks.identity.0": "not verified",
    "perks.identity.1": "phone verified",
    "perks.identity.2": "identity document verified",
    "perks.days": { one: "{count} day", other: "{count} days" },

    "perks.reason.deposit_waived": "A deposit of {amount} would be waived in full.",
    "perks.reason.partial_waiver": "Up to {waived} of a {amount} deposit would be waived; the other {held} would be held on your wallet.",
    "perks.reason.no_waiver_for_band": "At your current band, no part of the deposit can be waived.",
    "perks.reason.notMet": "Still needed — {requirement}",
    "perks.reason.factNotMet": "You do not yet meet what this merchant asks about: {fact}.",

    "perks.qualify.title": "What would make you qualify",
    "perks.qualify.reachable": { one: "Do this and you would qualify:", other: "Do all of these and you would qualify:" },
    "perks.qualify.refreshing": "Your score is being brought up to date under the current scorecard; the perk opens once it is.",
    "perks.qualify.stepsNotEnough": "These steps help, but they are not enough on their own:",
    "perks.qualify.blocked": "Only how your open dispute is resolved can change this: staff decide it, or it is upheld automatically 30 days after you opened it.",
    "perks.qualify.noTiers": "This perk waives no part of a deposit at any band at the moment.",
    "perks.qualify.unreachable": "Nothing within reach would be enough for now, not even paying your next bills on time, completing more bookings, settling your unpaid claims, verifying your identity and waiting a few years.",

    "perks.step.settle": { one: "Settle your unpaid claim", other: "Settle your {count} unpaid claims" },
    "perks.step.claim": "{amount} from {merchant}",
    "perks.step.claimFrom": "A claim from {merchant}",
    "perks.step.claimAmount": "A claim of {amount}",
    "perks.step.payClaims": { one: "Pay it in My records", other: "Pay them in My records" },
    "perks.step.identity.1": "Verify your phone number",
    "perks.step.identity.2": "Verify an identity document",
    "perks.step.bills": { one: "Pay your next bill on time", other: "Pay your next {count} bills on time" },
    "perks.step.bookings": { one: "Complete your next booking without a problem", other: "Complete your next {count} bookings without a problem" },
    "perks.step.wait": "Wait until {date}",
    "perks.step.waitNoShows": "By then, older no-shows no longer count.",
    "perks.step.waitLate": "By then, older late payments no longer count.",
    "perks.step.waitAge": { one: "By then, your account is {count} day old.", other: "By then, your account is {count} days old." },
    "perks.step.dispute": "Your open dispute is decided by {date} at the latest: staff decide it, or it is upheld automatically.",
  },
  es: {
    "perks.intro": "Lo que ofrece cada comercio y exactamente lo que pide. El comercio solo sabe si se te puede eximir del depósito y en qué cantidad; nunca ve tu puntuación.",
    "perks.kind.deposit_waiver": "Exención de depósito",
    "perks.offer": "{kind} de hasta {amount}",
    "perks.qualifies": "Cumples los requisitos",
    "perks.notYet": "Todavía no",
    "perks.waivable": "Se te eximiría de hasta {amount} del depósito",
    "perks.nothingWaived": "Ahora mismo no se te eximiría de nada",
    "perks.asks": "Lo que pide",
    "perks.noConditions": "Nada más que tu nivel.",
    "perks.tiers": "Cuánto se exime",
    "perks.why": "Por qué",
    "perks.whyNot": "Por qué todavía no",
    "perks.useCode": "Obtener un código para {merchant}",
    "perks.none": "Ahora mismo ningún comercio ofrece ventajas.",

    "perks.op.>=": "al menos",
    "perks.op.<=": "como máximo",
    "perks.op.==": "exactamente",
    "perks.op.>": "más de",
    "perks.op.<": "menos de",
    "perks.bandOp.>=": "al menos",
    "perks.bandOp.<=": "como máximo",
    "perks.bandOp.==": "exactamente",
    "perks.bandOp.>": "mejor que",
    "perks.bandOp.<": "peor que",

    "perks.req.condition": "{fact}: {op} {value}",
    "perks.req.none": "{fact}: ninguno",
    "perks.req.band": "{fact}: {op} «{value}»",
    "perks.zero.unpaid_claims": "Ningún cargo por daños sin pagar",
    "perks.zero.open_disputes": "Ninguna reclamación abierta",
    "perks.zero.late_payments_24m": "Ningún pago con retraso en los últimos 24 meses",
    "perks.zero.no_shows_12m": "Ninguna no presentación en los últimos 12 meses",
    "perks.metPrefix": "Cumplido: ",
    "perks.unmetPrefix": "No cumplido: ",
    "perks.req.tier": "Nivel «{band}»: se exime hasta {amount}",
    "perks.req.tierNothing": "Nivel «{band}»: no se exime nada",
    "perks.identity.value": "nivel {level} ({name})",
    "perks.identity.0": "sin verificar",
    "perks.identity.1": "teléfono verificado",
    "perks.identity.2": "documento de identidad verificado",
    "perks.days": { one: "{count} día", other: "{count} días" },

    "perks.reason.deposit_waived": "Se te eximiría de un depósito de {amount} por completo.",
    "perks.reason.partial_waiver": "Se te eximiría de hasta {waived} de un depósito de {amount}; los otros {held} quedarían retenidos en tu monedero.",
    "perks.reason.no_waiver_for_band": "Con tu nivel actual no se puede eximir ninguna parte del depósito.",
    "perks.reason.notMet": "Aún falta — {requirement}",
    "perks.reason.factNotMet": "Aún no cumples lo que este comercio pide sobre: {fact}.",

    "perks.qualify.title": "Qué te haría cumplir los requisitos",
    "perks.qualify.reachable": { one: "Haz esto y cumplirías los requisitos:", other: "Haz todo esto y cumplirías los requisitos:" },
    "perks.qualify.refreshing": "Tu puntuación se está actualizando con el modelo de puntuación vigente; la ventaja se abrirá en cuanto termine.",
    "perks.qualify.stepsNotEnough": "Estos pasos ayudan, pero por sí solos no bastan:",
    "perks.qualify.blocked": "Solo la resolución de tu reclamación abierta puede cambiar esto: la decide el personal, o se acepta automáticamente 30 días después de abrirla.",
    "perks.qualify.noTiers": "Ahora mismo esta ventaja no exime ninguna parte del depósito en ningún nivel.",
    "perks.qualify.unreachable": "Por ahora nada a tu alcance bastaría, ni siquiera pagar a tiempo tus próximas facturas, completar más reservas, saldar tus cargos pendientes, verificar tu identidad y esperar unos años.",

    "perks.step.settle": { one: "Salda tu cargo por daños pendiente", other: "Salda tus {count} cargos por daños pendientes" },
    "perks.step.claim": "{amount} de {merchant}",
    "perks.step.claimFrom": "Un cargo de {merchant}",
    "perks.step.claimAmount": "Un cargo de {amount}",
    "perks.step.payClaims": { one: "Págalo en Mis registros", other: "Págalos en Mis registros" },
    "perks.step.identity.1": "Verifica tu número de teléfono",
    "perks.step.identity.2": "Verifica un documento de identidad",
    "perks.step.bills": { one: "Paga a tiempo tu próxima factura", other: "Paga a tiempo tus próximas {count} facturas" },
    "perks.step.bookings": { one: "Completa tu próxima reserva sin problemas", other: "Completa tus próximas {count} reservas sin problemas" },
    "perks.step.wait": "Espera hasta el {date}",
    "perks.step.waitNoShows": "Para entonces, las no presentaciones más antiguas dejarán de contar.",
    "perks.step.waitLate": "Para entonces, los pagos con retraso más antiguos dejarán de contar.",
    "perks.step.waitAge": { one: "Para entonces, tu cuenta tendrá {count} día.", other: "Para entonces, tu cuenta tendrá {count} días." },
    "perks.step.dispute": "Tu reclamación abierta se resolverá como tarde el {date}: la decide el personal, o se acepta automáticamente.",
  },
  "zh-Hans": {
    "perks.intro": "各商户提供什么优惠，以及具体要求。商户只会知道能否为您免除押金、免除多少，绝不会看到您的评分。",
    "perks.kind.deposit_waiver": "免押金",
    "perks.offer": "{kind}，最高 {amount}",
    "perks.qualifies": "您现在符合条件",
    "perks.notYet": "尚不符合",
    "perks.waivable": "最多可免除 {amount} 押金",
    "perks.nothingWaived": "目前不能免除任何押金",
    "perks.asks": "商户要求",
    "perks.noConditions": "除等级外没有其他要求。",
    "perks.tiers": "免除金额",
    "perks.why": "原因",
    "perks.whyNot": "尚不符合的原因",
    "perks.useCode": "获取用于 {merchant} 的验证码",
    "perks.none": "目前没有商户提供优惠。",

    "perks.op.>=": "至少",
    "perks.op.<=": "至多",
    "perks.op.==": "恰好为",
    "perks.op.>": "高于",
    "perks.op.<": "低于",
    "perks.bandOp.>=": "不低于",
    "perks.bandOp.<=": "不高于",
    "perks.bandOp.==": "为",
    "perks.bandOp.>": "优于",
    "perks.bandOp.<": "低于",

    "perks.req.condition": "{fact}：{op} {value}",
    "perks.req.none": "{fact}：无",
    "perks.req.band": "{fact}：{op}“{value}”",
    "perks.zero.unpaid_claims": "没有未付索赔",
    "perks.zero.open_disputes": "没有处理中的异议",
    "perks.zero.late_payments_24m": "最近 24 个月没有逾期付款",
    "perks.zero.no_shows_12m": "最近 12 个月没有未入住记录",
    "perks.metPrefix": "已满足：",
    "perks.unmetPrefix": "未满足：",
    "perks.req.tier": "等级{band}：最多免除 {amount}",
    "perks.req.tierNothing": "等级{band}：不免除",
    "perks.identity.value": "{level} 级（{name}）",
    "perks.identity.0": "未验证",
    "perks.identity.1": "已验证手机",
    "perks.identity.2": "已验证身份证件",
    "perks.days": { other: "{count} 天" },

    "perks.reason.deposit_waived": "{amount} 的押金可全部免除。",
    "perks.reason.partial_waiver": "{amount} 的押金中最多可免除 {waived}，其余 {held} 将在您的钱包中冻结。",
    "perks.reason.no_waiver_for_band": "按您目前的等级，押金不能免除任何部分。",
    "perks.reason.notMet": "尚未满足——{requirement}",
    "perks.reason.factNotMet": "您尚未满足该商户关于“{fact}”的要求。",

    "perks.qualify.title": "怎样才能符合条件",
    "perks.qualify.reachable": { other: "完成以下所有事项即可符合条件：" },
    "perks.qualify.refreshing": "您的评分正在按现行评分卡更新，更新完成后即可享受此优惠。",
    "perks.qualify.stepsNotEnough": "以下事项有帮助，但仅靠它们还不够：",
    "perks.qualify.blocked": "只有您处理中的异议的结果能改变这一点：由工作人员裁定，或在您提出异议 30 天后自动支持。",
    "perks.qualify.noTiers": "此优惠目前在任何等级都不免除押金。",
    "perks.qualify.unreachable": "目前力所能及的事都不够，即使按时支付接下来的账单、完成更多预订、结清未付索赔、验证身份并再等几年也不行。",

    "perks.step.settle": { other: "结清您的 {count} 笔未付索赔" },
    "perks.step.claim": "{merchant} 的 {amount}",
    "perks.step.claimFrom": "{merchant} 的一笔索赔",
    "perks.step.claimAmount": "一笔 {amount} 的索赔",
    "perks.step.payClaims": { other: "在“我的记录”中支付" },
    "perks.step.identity.1": "验证您的手机号码",
    "perks.step.identity.2": "验证身份证件",
    "perks.step.bills": { other: "按时支付接下来的 {count} 张账单" },
    "perks.step.bookings": { other: "顺利完成接下来的 {count} 次预订" },
    "perks.step.wait": "等到 {date}",
    "perks.step.waitNoShows": "到那时，较早的未入住记录将不再计入。",
    "perks.step.waitLate": "到那时，较早的逾期付款将不再计入。",
    "perks.step.waitAge": { other: "到那时，您的账户已开通 {count} 天。" },
    "perks.step.dispute": "您处理中的异议最迟将于 {date} 有结果：由工作人员裁定，或自动支持。",
  },
});

// Facts that count things (fewer is better for most): "== 0" reads as "none".
const COUNT_FACTS = new Set(["late_payments_24m", "bookings_completed", "no_shows_12m", "unpaid_claims", "open_disputes"]);
const OPS = new Set([">=", "<=", "==", ">", "<"]);

/** A message when this app has it, else null (the caller falls back to the server's words). */
function known(key, vars) {
  return has(key) ? t(key, vars) : null;
}

function factLabel(fact) {
  return known(`fact.${fact}`) || fact;
}

function bandLabel(band) {
  return known(`band.${band}`) || band;
}

function kindLabel(kind) {
  return known(`perks.kind.${kind}`) || kind;
}

function categoryLabel(category) {
  return known(`category.${category}`) || category;
}

/** A threshold in the fact's own unit: a level's name, a percent, days, or a number. */
function thresholdText(fact, value) {
  if (fact === "identity_level") {
    const name = known(`perks.identity.${value}`);
    return name ? t("perks.identity.value", { level: value, name }) : formatNumber(value);
  }
  if (fact === "on_time_ratio_12m") return formatNumber(value / 100, { style: "percent" });
  if (fact === "account_age_days") return t("perks.days", { count: value });
  return formatNumber(value);
}

/** One requirement in the citizen's language; null when this app cannot say it. */
function requirementText(requirement, currency) {
  const { kind, fact, op, threshold, band, amount } = requirement;
  if (kind === "tier") {
    if (!band || amount === null || amount === undefined) return null;
    return amount > 0
      ? t("perks.req.tier", { band: bandLabel(band), amount: formatMoney(amount, currency) })
      : t("perks.req.tierNothing", { band: bandLabel(band) });
  }
  if (kind !== "condition" || !FACTS.includes(fact) || !OPS.has(op)) return null;
  if (fact === "band") {
    if (!band) return null;
    return t("perks.req.band", { fact: factLabel(fact), op: t(`perks.bandOp.${op}`), value: bandLabel(band) });
  }
  if (threshold === null || threshold === undefined) return null;
  if (COUNT_FACTS.has(fact) && ((op === "==" && threshold === 0) || (op === "<=" && threshold === 0) || (op === "<" && threshold === 1))) {
    return known(`perks.zero.${fact}`) || t("perks.req.none", { fact: factLabel(fact) });
  }
  return t("perks.req.condition", { fact: factLabel(fact), op: t(`perks.op.${op}`), value: thresholdText(fact, threshold) });
}

/** The requirement in words: ours, or the server's English text. */
function Said({ text, fallback }) {
  return text ? html`${text}` : html`<span lang="en">${fallback}</span>`;
}

/** The fact a refusal's code is about: "<fact>_not_met" (the default) or the fact itself. */
function factOfCode(code) {
  const fact = code.endsWith("_not_met") ? code.slice(0, -"_not_met".length) : code;
  return FACTS.includes(fact) ? fact : null;
}

/**
 * Whether each condition is met, as far as the answer tells: all of them when the citizen
 * qualifies or only the band refuses; the ones a refusal names are not; the others are
 * when every refusal names its condition. `null` where it cannot be told.
 */
function conditionStates(perk, conditions) {
  const codes = perk.reasons.map((reason) => reason.code);
  if (perk.eligible_now || codes.every((code) => ["no_waiver_for_band", "deposit_waived", "partial_waiver"].includes(code))) {
    return conditions.map(() => "met");
  }
  const failed = new Set(codes.map(factOfCode).filter(Boolean));
  const allNamed = codes.every((code) => factOfCode(code));
  const perFact = {};
  for (const condition of conditions) perFact[condition.fact] = (perFact[condition.fact] || 0) + 1;
  return conditions.map((condition) => {
    if (failed.has(condition.fact)) return perFact[condition.fact] === 1 ? "unmet" : null;
    return allNamed ? "met" : null;
  });
}

function reasonText(reason, perk, conditions) {
  const currency = perk.currency;
  switch (reason.code) {
    case "deposit_waived":
      return t("perks.reason.deposit_waived", { amount: formatMoney(perk.max_amount, currency) });
    case "partial_waiver":
      return t("perks.reason.partial_waiver", {
        waived: formatMoney(perk.waivable_amount, currency),
        amount: formatMoney(perk.max_amount, currency),
        held: formatMoney(perk.max_amount - perk.waivable_amount, currency),
      });
    case "no_waiver_for_band":
      return t("perks.reason.no_waiver_for_band");
    default: {
      const fact = factOfCode(reason.code);
      if (!fact) return null;
      const matching = conditions.filter((condition) => condition.fact === fact);
      const requirement = matching.length === 1 ? requirementText(matching[0], currency) : null;
      return requirement
        ? t("perks.reason.notMet", { requirement })
        : t("perks.reason.factNotMet", { fact: factLabel(fact) });
    }
  }
}

// --- Parts --------------------------------------------------------------------------------

function Requirements({ perk, conditions, tiers }) {
  const states = conditionStates(perk, conditions);
  return html`<div class="perk-section">
    <h3>${t("perks.asks")}</h3>
    ${conditions.length
      ? html`<ul class="perk-reqs">
          ${conditions.map((condition, index) => {
            const state = states[index];
            return html`<li class=${`perk-req${state ? ` perk-req-${state}` : ""}`}>
              ${state
                ? html`<span class="perk-req-mark" aria-hidden="true">${state === "met" ? "✓" : "✗"}</span>
                    <span class="visually-hidden">${t(state === "met" ? "perks.metPrefix" : "perks.unmetPrefix")}</span>`
                : html`<span class="perk-req-mark" aria-hidden="true">•</span>`}
              <span><${Said} text=${requirementText(condition, perk.currency)} fallback=${condition.text} /></span>
            </li>`;
          })}
        </ul>`
      : html`<p class="muted">${t("perks.noConditions")}</p>`}
    ${tiers.length
      ? html`<h3>${t("perks.tiers")}</h3>
          <ul class="perk-tiers">
            ${tiers.map(
              (tier) => html`<li class=${`perk-tier band-${tier.band}`}>
                <span class="perk-tier-dot" aria-hidden="true"></span>
                <${Said} text=${requirementText(tier, perk.currency)} fallback=${tier.text} />
              </li>`,
            )}
          </ul>`
      : null}
  </div>`;
}

function Reasons({ perk, conditions }) {
  if (!perk.reasons.length) return null;
  return html`<div class="perk-section">
    <h3>${t(perk.eligible_now ? "perks.why" : "perks.whyNot")}</h3>
    <ul class="perk-reasons">
      ${perk.reasons.map(
        (reason) => html`<li><${Said} text=${reasonText(reason, perk, conditions)} fallback=${reason.message} /></li>`,
      )}
    </ul>
  </div>`;
}

function ClaimLine({ claim }) {
  const amount = claim.amount !== null && claim.amount !== undefined ? formatMoney(claim.amount, claim.currency) : null;
  if (amount && claim.merchant) return t("perks.step.claim", { amount, merchant: claim.merchant });
  if (claim.merchant) return t("perks.step.claimFrom", { merchant: claim.merchant });
  return amount ? t("perks.step.claimAmount", { amount }) : "";
}

function stepCount(step, key, fallback = 0) {
  const value = step.changes?.[key];
  return Number.isInteger(value) ? value : fallback;
}

function Step({ step }) {
  switch (step.code) {
    case "settle_unpaid_claims": {
      const claims = step.claims || [];
      const count = stepCount(step, "settle_unpaid_claims", claims.length) || claims.length;
      const payable = claims.some((claim) => claim.id);
      return html`<li>
        <p class="perk-step-main">${t("perks.step.settle", { count })}</p>
        ${claims.length
          ? html`<ul class="perk-claims">
              ${claims.map((claim, index) => html`<li key=${claim.id || index}><${ClaimLine} claim=${claim} /></li>`)}
            </ul>`
          : null}
        ${payable ? html`<a href="#/records?tab=claims">${t("perks.step.payClaims", { count })}</a>` : null}
      </li>`;
    }
    case "identity_level": {
      const text = known(`perks.step.identity.${stepCount(step, "identity_level")}`);
      return html`<li><p class="perk-step-main"><${Said} text=${text} fallback=${step.text} /></p></li>`;
    }
    case "pay_next_bills_on_time": {
      const count = stepCount(step, "pay_next_bills_on_time");
      const text = count ? t("perks.step.bills", { count }) : null;
      return html`<li><p class="perk-step-main"><${Said} text=${text} fallback=${step.text} /></p></li>`;
    }
    case "complete_next_bookings": {
      const count = stepCount(step, "complete_next_bookings");
      const text = count ? t("perks.step.bookings", { count }) : null;
      return html`<li><p class="perk-step-main"><${Said} text=${text} fallback=${step.text} /></p></li>`;
    }
    case "wait_until": {
      if (!step.date) return html`<li><p class="perk-step-main" lang="en">${step.text}</p></li>`;
      const changes = step.changes || {};
      const notes = [];
      if ("no_shows_12m" in changes) notes.push(t("perks.step.waitNoShows"));
      if ("late_payments_24m" in changes) notes.push(t("perks.step.waitLate"));
      // The account's age matters when the wait is for it (the server says so in its words).
      if (Number.isInteger(changes.account_age_days) && (!notes.length || /account is/.test(step.text || ""))) {
        notes.push(t("perks.step.waitAge", { count: changes.account_age_days }));
      }
      return html`<li>
        <p class="perk-step-main">
          ${t("perks.step.wait", { date: formatDate(step.date, { dateStyle: "long" }) })}
        </p>
        ${notes.map((note) => html`<p class="muted">${note}</p>`)}
      </li>`;
    }
    case "await_dispute_resolution":
      return html`<li>
        <p class="perk-step-main">
          ${step.date
            ? t("perks.step.dispute", { date: formatDate(step.date, { dateStyle: "long" }) })
            : html`<span lang="en">${step.text}</span>`}
        </p>
      </li>`;
    default:
      return html`<li><p class="perk-step-main" lang="en">${step.text}</p></li>`;
  }
}

/** The server's note, in the citizen's language when we can tell which note it is. */
function qualifyNote(perk, tiers, steps) {
  if (perk.to_qualify_status === "reachable") {
    if (!steps.length) return perk.to_qualify_note ? t("perks.qualify.refreshing") : null;
    return null;
  }
  if (perk.to_qualify_status !== "out_of_reach") return null;
  const disputes = steps.some((step) => step.code === "await_dispute_resolution");
  if (disputes) return t("perks.qualify.blocked");
  if (!steps.length) {
    if (tiers.length && tiers.every((tier) => !tier.amount)) return t("perks.qualify.noTiers");
    return t("perks.qualify.unreachable");
  }
  return null;
}

function ToQualify({ perk, conditions, tiers }) {
  if (perk.eligible_now || perk.to_qualify_status === "eligible") return null;
  const steps = perk.to_qualify || [];
  const note = qualifyNote(perk, tiers, steps);
  const actionable = steps.filter((step) => step.code !== "await_dispute_resolution");
  let lead = null;
  if (perk.to_qualify_status === "reachable" && steps.length) {
    lead = t("perks.qualify.reachable", { count: steps.length });
  } else if (perk.to_qualify_status === "out_of_reach" && actionable.length) {
    lead = t("perks.qualify.stepsNotEnough");
  }
  const fallbackNote = !note && perk.to_qualify_note && !(perk.to_qualify_status === "reachable" && steps.length);
  return html`<div class=${`perk-section perk-qualify perk-qualify-${perk.to_qualify_status}`}>
    <h3>${t("perks.qualify.title")}</h3>
    ${note ? html`<p>${note}</p>` : null}
    ${fallbackNote ? html`<p lang="en">${perk.to_qualify_note}</p>` : null}
    ${lead ? html`<p>${lead}</p>` : null}
    ${steps.length ? html`<ol class="perk-steps">${steps.map((step, index) => html`<${Step} key=${index} step=${step} />`)}</ol>` : null}
  </div>`;
}

function PerkCard({ perk }) {
  const requirements = perk.requirements || [];
  const conditions = requirements.filter((requirement) => requirement.kind !== "tier");
  const tiers = requirements.filter((requirement) => requirement.kind === "tier");
  const titleId = `perk-${perk.id}`;
  const max = formatMoney(perk.max_amount, perk.currency);
  return html`<li class="card perk" aria-labelledby=${titleId}>
    <div class="perk-head">
      <div>
        <h2 class="card-title" id=${titleId}>${perk.merchant.name}</h2>
        <p class="muted perk-category">${categoryLabel(perk.merchant.category)}</p>
      </div>
      <${Badge} tone=${perk.eligible_now ? "ok" : "warning"}>
        ${t(perk.eligible_now ? "perks.qualifies" : "perks.notYet")}
      <//>
    </div>
    <p class="perk-offer">${t("perks.offer", { kind: kindLabel(perk.kind), amount: max })}</p>
    <p class=${`perk-waivable${perk.eligible_now ? " perk-waivable-yes" : ""}`}>
      ${perk.eligible_now && perk.waivable_amount > 0
        ? t("perks.waivable", { amount: formatMoney(perk.waivable_amount, perk.currency) })
        : t("perks.nothingWaived")}
    </p>
    <${Requirements} perk=${perk} conditions=${conditions} tiers=${tiers} />
    <${Reasons} perk=${perk} conditions=${conditions} />
    <${ToQualify} perk=${perk} conditions=${conditions} tiers=${tiers} />
    ${perk.eligible_now && perk.kind === "deposit_waiver"
      ? html`<p class="perk-use">
          <a
            class="button button-secondary"
            href=${`#/credit?${new URLSearchParams({ scope: "deposit_waiver", merchant: perk.merchant.id })}`}
          >
            ${t("perks.useCode", { merchant: perk.merchant.name })}
          </a>
        </p>`
      : null}
  </li>`;
}

export function PerksScreen() {
  const list = usePaged("me/perks");
  return html`<${Screen} title=${t("nav.perks")}>
    <p class="lead">${t("perks.intro")}</p>
    <div aria-busy=${list.loading ? "true" : "false"}>
      <${Loaded} result=${list}>
        ${(data) =>
          data.results.length
            ? html`<ul class="perk-list">
                  ${data.results.map((perk) => html`<${PerkCard} key=${perk.id} perk=${perk} />`)}
                </ul>
                <${Pager} list=${list} />`
            : html`<${Empty}>${t("perks.none")}<//>`}
      <//>
    </div>
  <//>`;
}
