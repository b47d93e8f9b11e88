// The score history chart's scale (screens/score/scale.js): the span it shows, where each
// point goes, its grid lines and the bands' stripes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SCORE_MAX, SCORE_MIN } from "../../client/static/client/lib/bands.js";
import {
  CHART,
  chartBands,
  chartScale,
  chartTicks,
  chronological,
} from "../../client/static/client/screens/score/scale.js";

const at = (day) => `2026-11-${String(day).padStart(2, "0")}T09:00:00Z`;
const PLOT_W = CHART.width - CHART.left - CHART.right;
const PLOT_H = CHART.height - CHART.top - CHART.bottom;

describe("chartScale", () => {
  test("spans whole steps of 50 with room around the scores", () => {
    const scale = chartScale([
      { score: 612, computed_at: at(1) },
      { score: 655, computed_at: at(11) },
    ]);
    assert.deepEqual([scale.min, scale.max], [612, 655]);
    assert.equal(scale.low % 50, 0);
    assert.equal(scale.high % 50, 0);
    assert.ok(scale.low <= 612 - 30 && scale.high >= 655 + 30);
    assert.ok(scale.high - scale.low >= 150);
  });

  test("stays within the score's range at both ends", () => {
    const bottom = chartScale([{ score: SCORE_MIN, computed_at: at(1) }]);
    assert.equal(bottom.low, SCORE_MIN);
    assert.ok(bottom.high - bottom.low >= 150);
    const top = chartScale([{ score: SCORE_MAX, computed_at: at(1) }]);
    assert.equal(top.high, SCORE_MAX);
    assert.ok(top.high - top.low >= 150);
  });

  test("places points left to right in time and high scores at the top", () => {
    const points = [
      { score: 600, computed_at: at(1) },
      { score: 700, computed_at: at(21) },
    ];
    const scale = chartScale(points);
    assert.equal(scale.x(Date.parse(at(1))), CHART.left);
    assert.equal(scale.x(Date.parse(at(21))), CHART.left + PLOT_W);
    assert.equal(scale.x(Date.parse(at(11))), CHART.left + PLOT_W / 2);
    assert.equal(scale.y(scale.high), CHART.top);
    assert.equal(scale.y(scale.low), CHART.top + PLOT_H);
    assert.ok(scale.y(700) < scale.y(600));
  });

  test("one point sits in the middle", () => {
    const scale = chartScale([{ score: 640, computed_at: at(5) }]);
    assert.equal(scale.x(Date.parse(at(5))), CHART.left + PLOT_W / 2);
  });
});

describe("chartTicks and chartBands", () => {
  test("a line every 50, or every 100 over a wide span", () => {
    assert.deepEqual(chartTicks(550, 700), [550, 600, 650, 700]);
    assert.deepEqual(chartTicks(350, 950), [400, 500, 600, 700, 800, 900]);
  });

  test("only the bands within the span, clipped to it", () => {
    assert.deepEqual(chartBands(575, 675), [
      { code: "fair", from: 575, to: 600 },
      { code: "good", from: 600, to: 650 },
      { code: "very_good", from: 650, to: 675 },
    ]);
  });

  test("chronological sorts oldest first without changing its input", () => {
    const points = [{ computed_at: at(9) }, { computed_at: at(2) }];
    assert.deepEqual(chronological(points).map((p) => p.computed_at), [at(2), at(9)]);
    assert.equal(points[0].computed_at, at(9));
  });
});
