// What holds the score back: each reason with its tip.
import { t } from "../../i18n.js";
import { Card, html } from "../../ui.js";

import { reasonTexts } from "./texts.js";

export function ReasonList({ reasons, score = null }) {
  return html`<ul class="list reason-list">
    ${reasons.map((reason) => {
      const { label, tip } = reasonTexts(reason, score);
      return html`<li class="reason" key=${reason.code}>
        <div class="reason-head">
          <p class="reason-label">${label}</p>
          <span class="reason-lost">${t("score.lost", { count: reason.points_lost })}</span>
        </div>
        ${tip ? html`<p class="reason-tip">${tip}</p>` : null}
      </li>`;
    })}
  </ul>`;
}

export function Reasons({ score }) {
  return html`<${Card} title=${t("score.reasons")} class="score-reasons">
    ${score.reasons.length
      ? html`<${ReasonList} reasons=${score.reasons} score=${score} />`
      : html`<p class="notice notice-ok">${t("score.reasonsNone")}</p>`}
  <//>`;
}
