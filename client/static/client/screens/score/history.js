// How the score moved: an SVG chart (its scale from ./scale.js) with a table beside it.
import { useMemo } from "../../vendor/preact-htm.js";

import { withQuery } from "../../api.js";
import { formatDate, formatNumber, has, t } from "../../i18n.js";
import { Card, Empty, html, Loaded, useAllPages } from "../../ui.js";

import "./messages.js";
import { CHART, chartBands, chartScale, chartTicks, chronological } from "./scale.js";

// The latest HISTORY_LIMIT snapshots at most, newest first.
const HISTORY = withQuery("me/score/history", { page_size: 30 });
const HISTORY_LIMIT = 60;

const shortDate = (value) => formatDate(value, { month: "short", year: "numeric" });

function Chart({ points }) {
  // Oldest first, left to right.
  const ordered = useMemo(() => chronological(points), [points]);
  const scale = chartScale(ordered);
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  const label =
    ordered.length === 1
      ? t("score.chartOne", { score: first.score, date: formatDate(first.computed_at) })
      : t("score.chartLabel", {
          from: formatDate(first.computed_at),
          to: formatDate(last.computed_at),
          first: first.score,
          last: last.score,
          min: scale.min,
          max: scale.max,
        });
  const right = CHART.width - CHART.right;
  const bottom = CHART.height - CHART.bottom;
  const ticks = chartTicks(scale.low, scale.high);
  const bands = chartBands(scale.low, scale.high);
  const coords = ordered.map((p) => [scale.x(new Date(p.computed_at).getTime()), scale.y(p.score)]);
  const line = coords.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`).join(" ");
  const xLabels =
    ordered.length === 1
      ? [{ x: coords[0][0], anchor: "middle", text: shortDate(first.computed_at) }]
      : [
          { x: CHART.left, anchor: "start", text: shortDate(first.computed_at) },
          { x: right, anchor: "end", text: shortDate(last.computed_at) },
        ];
  return html`<svg
    class="score-chart"
    viewBox=${`0 0 ${CHART.width} ${CHART.height}`}
    role="img"
    aria-label=${label}
  >
    <g aria-hidden="true">
      ${bands.map(
        (band) => html`<rect
            class=${`chart-band chart-band-${band.code}`}
            x=${CHART.left}
            y=${scale.y(band.to)}
            width=${right - CHART.left}
            height=${scale.y(band.from) - scale.y(band.to)}
          />
          ${scale.y(band.from) - scale.y(band.to) >= 13
            ? html`<text
                class="chart-band-name"
                x=${right - 4}
                y=${scale.y(band.to) + 11}
                text-anchor="end"
              >
                ${t(`band.${band.code}`)}
              </text>`
            : null}`,
      )}
      ${ticks.map(
        (value) => html`<line class="chart-grid" x1=${CHART.left} x2=${right} y1=${scale.y(value)} y2=${scale.y(value)} />
          <text class="chart-tick" x=${CHART.left - 6} y=${scale.y(value) + 4} text-anchor="end">
            ${formatNumber(value)}
          </text>`,
      )}
      <line class="chart-axis" x1=${CHART.left} x2=${right} y1=${bottom} y2=${bottom} />
      ${xLabels.map(
        (label) => html`<text class="chart-tick" x=${label.x} y=${bottom + 18} text-anchor=${label.anchor}>
          ${label.text}
        </text>`,
      )}
      ${ordered.length > 1 ? html`<path class="chart-line" d=${line} />` : null}
      ${coords.map(
        ([x, y], i) => html`<circle
          class=${`chart-dot chart-dot-${ordered[i].band}${i === coords.length - 1 ? " chart-dot-last" : ""}`}
          cx=${x}
          cy=${y}
          r=${i === coords.length - 1 ? 5 : 3.5}
        />`,
      )}
    </g>
  </svg>`;
}

function HistoryTable({ points }) {
  return html`<details class="score-table">
    <summary>${t("score.table")}</summary>
    <div class="score-table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">${t("score.col.date")}</th>
            <th scope="col">${t("score.col.score")}</th>
            <th scope="col">${t("score.col.band")}</th>
            <th scope="col">${t("score.col.trigger")}</th>
          </tr>
        </thead>
        <tbody>
          ${points.map((point) => {
            const trigger = `score.trigger.${point.trigger}`;
            return html`<tr key=${point.computed_at}>
              <td class="date"><time datetime=${point.computed_at}>${formatDate(point.computed_at)}</time></td>
              <td class="num">${formatNumber(point.score)}</td>
              <td>${t(`band.${point.band}`)}</td>
              <td>${has(trigger) ? t(trigger) : point.trigger}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  </details>`;
}

export function History() {
  const history = useAllPages(HISTORY, { maxRows: HISTORY_LIMIT });
  return html`<${Card} title=${t("score.history")} class="score-history">
    <${Loaded} result=${history}>
      ${(points) =>
        points.length
          ? html`${history.count > points.length
                ? html`<p class="muted">${t("score.historyShown", { count: points.length })}</p>`
                : null}
              <${Chart} points=${points} />
              <${HistoryTable} points=${points} />`
          : html`<${Empty}>${t("score.historyEmpty")}<//>`}
    <//>
  <//>`;
}
