// The score on a dial: an arc from the lowest to the highest score, coloured by band,
// with the number and the band in words in the middle (colour is never the only cue).
import { html } from "./vendor/preact-htm.js";

import { formatNumber, t } from "./i18n.js";
import { BANDS, SCORE_MAX, SCORE_MIN } from "./lib/bands.js";

export { BANDS, SCORE_MAX, SCORE_MIN } from "./lib/bands.js";

const START = 225; // degrees clockwise from 12 o'clock: the dial opens at the bottom
const SWEEP = 270;

function point(angle, radius) {
  const radians = ((angle - 90) * Math.PI) / 180;
  return [100 + radius * Math.cos(radians), 100 + radius * Math.sin(radians)];
}

function arc(from, to, radius) {
  const [x1, y1] = point(from, radius);
  const [x2, y2] = point(to, radius);
  const large = to - from > 180 ? 1 : 0;
  return `M ${x1.toFixed(2)} ${y1.toFixed(2)} A ${radius} ${radius} 0 ${large} 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`;
}

function angleOf(score) {
  const clamped = Math.min(SCORE_MAX, Math.max(SCORE_MIN, score));
  return START + ((clamped - SCORE_MIN) / (SCORE_MAX - SCORE_MIN)) * SWEEP;
}

export function ScoreDial({ score, band, size = 220 }) {
  const label = t("dial.label", { score, band: t(`band.${band}`) });
  const end = angleOf(score);
  return html`<figure class=${`dial band-${band}`} style=${`--dial-size:${size}px`}>
    <svg viewBox="0 0 200 200" role="img" aria-label=${label}>
      <path class="dial-track" d=${arc(START, START + SWEEP, 84)} />
      ${BANDS.map((b, index) => {
        const to = index + 1 < BANDS.length ? BANDS[index + 1].from : SCORE_MAX;
        return html`<path
          class=${`dial-band dial-band-${b.code}`}
          d=${arc(angleOf(b.from) + 0.6, angleOf(to) - 0.6, 97)}
        />`;
      })}
      <path class="dial-value" d=${arc(START, Math.max(end, START + 0.5), 84)} />
      <text x="100" y="104" class="dial-score" text-anchor="middle">${formatNumber(score)}</text>
      <text x="100" y="132" class="dial-band-name" text-anchor="middle">${t(`band.${band}`)}</text>
    </svg>
  </figure>`;
}
