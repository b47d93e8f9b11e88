// The score itself: its dial, how it moved, when it was computed and by which scorecard.
import { ScoreDial } from "../../dial.js";
import { formatDateTime, formatRelative, t } from "../../i18n.js";
import { html } from "../../ui.js";

import "./messages.js";

function Change({ score }) {
  if (score.previous_score === null || score.previous_score === undefined) {
    return html`<p class="change">${t("score.first")}</p>`;
  }
  const delta = score.score - score.previous_score;
  if (delta === 0) return html`<p class="change">${t("score.same")}</p>`;
  return html`<p class=${`change ${delta > 0 ? "change-up" : "change-down"}`}>
    <span aria-hidden="true">${delta > 0 ? "▲" : "▼"} </span>
    ${t(delta > 0 ? "score.up" : "score.down", { count: Math.abs(delta) })}
  </p>`;
}

export function Summary({ score }) {
  return html`<div class="card score-card score-summary">
    <${ScoreDial} score=${score.score} band=${score.band} size=${180} />
    <${Change} score=${score} />
    <p class="muted score-meta">
      <time datetime=${score.computed_at} title=${formatDateTime(score.computed_at)}>
        ${t("score.computed", { when: formatRelative(score.computed_at) })}
      </time>
      <span aria-hidden="true"> · </span>
      <span>${t("score.version", { version: score.scorecard_version })}</span>
    </p>
  </div>`;
}
