// The history chart's scale: which scores the chart spans, where each point goes, and its
// grid lines. Pure (no DOM, no messages): the node tests import it.
import { bandRanges, SCORE_MAX, SCORE_MIN } from "../../lib/bands.js";

/** The chart's box in SVG units: its size and the margins around the plot. */
export const CHART = { width: 340, height: 200, left: 38, right: 12, top: 10, bottom: 30 };

const STEP = 50; // the span is in whole steps of 50 points
const MARGIN = 30; // at least this much room above the highest and below the lowest score
const MIN_SPAN = 150; // a flat history still shows some range

const timeOf = (point) => new Date(point.computed_at).getTime();

/** The points oldest first (the chart reads left to right). */
export function chronological(points) {
  return [...points].sort((a, b) => timeOf(a) - timeOf(b));
}

/**
 * The scale for `points` ({score, computed_at}): `low` and `high`, the scores the chart
 * spans (multiples of 50 within the score's range, at least 150 apart, with room around
 * the scores), `min` and `max`, the lowest and highest score shown, and `x(time)` and
 * `y(score)`, where a moment and a score go in the chart's box. One point sits in the middle.
 */
export function chartScale(points, chart = CHART) {
  const scores = points.map((p) => p.score);
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  let low = Math.max(SCORE_MIN, Math.floor((min - MARGIN) / STEP) * STEP);
  let high = Math.min(SCORE_MAX, Math.ceil((max + MARGIN) / STEP) * STEP);
  while (high - low < MIN_SPAN && (low > SCORE_MIN || high < SCORE_MAX)) {
    if (low > SCORE_MIN) low -= STEP;
    if (high - low < MIN_SPAN && high < SCORE_MAX) high += STEP;
  }
  const times = points.map(timeOf);
  const first = Math.min(...times);
  const last = Math.max(...times);
  const plotW = chart.width - chart.left - chart.right;
  const plotH = chart.height - chart.top - chart.bottom;
  return {
    low,
    high,
    min,
    max,
    x: (time) =>
      last === first ? chart.left + plotW / 2 : chart.left + ((time - first) / (last - first)) * plotW,
    y: (score) => chart.top + ((high - score) / (high - low)) * plotH,
  };
}

/** The grid's scores between `low` and `high`: every 50, or every 100 over a wide span. */
export function chartTicks(low, high) {
  const step = high - low > 300 ? 100 : 50;
  const ticks = [];
  for (let value = Math.ceil(low / step) * step; value <= high; value += step) ticks.push(value);
  return ticks;
}

/** The bands' stripes within the span: {code, from, to}, only those that show. */
export function chartBands(low, high) {
  return bandRanges()
    .map((band) => ({ code: band.code, from: Math.max(band.from, low), to: Math.min(band.to, high) }))
    .filter((band) => band.to > band.from);
}
