// What makes up the score: each factor's points against its most.
import { formatNumber, t } from "../../i18n.js";
import { Badge, Card, html } from "../../ui.js";

import { factorLabel, factorValue } from "./texts.js";

function FactorBar({ factor }) {
  const max = Math.max(factor.max_points, 0);
  const share = max > 0 ? Math.min(1, Math.max(0, factor.points) / max) : 0;
  const full = factor.points >= factor.max_points;
  const tone = full ? "full" : factor.points < 0 ? "negative" : share >= 0.5 ? "half" : "low";
  return html`<li class="factor">
    <div class="factor-head">
      <span class="factor-name">${factorLabel(factor)}</span>
      ${full
        ? html`<${Badge} tone="ok">${t("score.fullMarks")}<//>`
        : factor.points < 0
          ? html`<${Badge} tone="danger">${t("score.negative")}<//>`
          : null}
    </div>
    <div class=${`factor-bar factor-bar-${tone}`} aria-hidden="true">
      <span style=${`width:${(share * 100).toFixed(1)}%`}></span>
    </div>
    <div class="factor-foot">
      <span class="factor-value">${factorValue(factor)}</span>
      <span class="factor-points">
        ${t("score.points", { points: formatNumber(factor.points), max: formatNumber(factor.max_points) })}
      </span>
    </div>
  </li>`;
}

export function Factors({ score }) {
  return html`<${Card} title=${t("score.factors")} class="score-factors">
    <p class="muted">${t("score.factorsLead")}</p>
    <ul class="list factor-list">
      ${score.factors.map((factor) => html`<${FactorBar} key=${factor.key} factor=${factor} />`)}
    </ul>
  <//>`;
}
