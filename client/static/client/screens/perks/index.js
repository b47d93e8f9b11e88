// Perks: what each merchant offers (a deposit waiver up to an amount), what it asks for in
// plain words (translated from the structured requirements), whether the citizen qualifies
// now and how much would be waived, why, and the cheapest plan that would make them qualify.
// The requirements in words are in ./requirements.js, the messages in ./messages.js.
import { formatDate, formatMoney, t } from "../../i18n.js";
import { Badge, Empty, html, Loaded, Pager, Screen, usePaged } from "../../ui.js";

import {
  categoryLabel,
  conditionStates,
  known,
  kindLabel,
  reasonText,
  requirementText,
} from "./requirements.js";

/** The requirement in words: ours, or the server's English text. */
function Said({ text, fallback }) {
  return text ? html`${text}` : html`<span lang="en">${fallback}</span>`;
}

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
      const level = stepCount(step, "identity_level");
      const text = known(`perks.step.identity.${level}`);
      // Where to do it, in the app: the phone, or an identity document.
      const where = level === 1 ? "#/phone" : level === 2 ? "#/identity" : null;
      return html`<li>
        <p class="perk-step-main"><${Said} text=${text} fallback=${step.text} /></p>
        ${where ? html`<a href=${where}>${t("perks.step.identityGo")}</a>` : null}
      </li>`;
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
      // The account's age matters when the wait is for it (the server's `waits_for` says so;
      // without it, only when nothing else is waited for).
      const forAge = Array.isArray(step.waits_for) ? step.waits_for.includes("account_age_days") : !notes.length;
      if (Number.isInteger(changes.account_age_days) && forAge) {
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

// The server's note by its code (`to_qualify_note_code`), in the citizen's language.
const NOTES = {
  rescoring: "perks.qualify.refreshing",
  blocked_by_dispute: "perks.qualify.blocked",
  no_tier_waives: "perks.qualify.noTiers",
  out_of_reach: "perks.qualify.unreachable",
};

/** The note to show: by its code; "" is no note; an unknown code, the server's English. */
function qualifyNote(perk) {
  const code = perk.to_qualify_note_code;
  if (code === "" || (code === undefined && !perk.to_qualify_note)) return null;
  if (code in NOTES) return { text: t(NOTES[code]), lang: null };
  return perk.to_qualify_note ? { text: perk.to_qualify_note, lang: "en" } : null;
}

function ToQualify({ perk }) {
  if (perk.eligible_now || perk.to_qualify_status === "eligible") return null;
  const steps = perk.to_qualify || [];
  const note = qualifyNote(perk);
  const actionable = steps.filter((step) => step.code !== "await_dispute_resolution");
  let lead = null;
  if (perk.to_qualify_status === "reachable" && steps.length) {
    lead = t("perks.qualify.reachable", { count: steps.length });
  } else if (perk.to_qualify_status === "out_of_reach" && actionable.length) {
    lead = t("perks.qualify.stepsNotEnough");
  }
  return html`<div class=${`perk-section perk-qualify perk-qualify-${perk.to_qualify_status}`}>
    <h3>${t("perks.qualify.title")}</h3>
    ${note ? html`<p lang=${note.lang || undefined}>${note.text}</p>` : null}
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
    <${ToQualify} perk=${perk} />
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

