// The score history chart's scale (screens/score/scale.js): which scores it spans, where
// each point goes, its grid lines and its band stripes. Pure: no DOM, no messages.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  CHART,
  chartBands,
  chartScale,
  chartTicks,
  chronological,
} from "../../client/static/client/screens/score/scale.js";

const at = (day, score) => ({ score, computed_at: `2026-01-${String(day).padStart(2, "0")}T00:00:00Z` });

describe("chartScale", () => {
  test("spans whole fifties with room around the scores", () => {
    const scale = chartScale([at(1, 612), at(2, 688)]);
    assert.deepEqual([scale.low, scale.high, scale.min, scale.max], [550, 750, 612, 688]);
  });

  test("a flat history still spans 150 points", () => {
    const scale = chartScale([at(1, 640), at(2, 640)]);
    assert.equal(scale.high - scale.low, 150);
    assert.ok(scale.low <= 610 && scale.high >= 670);
  });

  test("never leaves the score's range, even at its ends", () => {
    assert.equal(chartScale([at(1, 352)]).low, 350);
    assert.equal(chartScale([at(1, 948)]).high, 950);
    const low = chartScale([at(1, 350), at(2, 360)]);
    assert.deepEqual([low.low, low.high], [350, 500]);
  });

  test("the first point is at the left, the last at the right, one alone in the middle", () => {
    const points = [at(1, 600), at(11, 700), at(21, 650)];
    const scale = chartScale(points);
    const x = (point) => scale.x(Date.parse(point.computed_at));
    assert.equal(x(points[0]), CHART.left);
    assert.equal(x(points[2]), CHART.width - CHART.right);
    assert.equal(x(points[1]), (CHART.left + CHART.width - CHART.right) / 2);
    const one = chartScale([at(5, 600)]);
    assert.equal(one.x(Date.parse(at(5, 600).computed_at)), (CHART.left + CHART.width - CHART.right) / 2);
  });

  test("higher scores are higher up, the span filling the plot", () => {
    const scale = chartScale([at(1, 600), at(2, 700)]);
    assert.equal(scale.y(scale.high), CHART.top);
    assert.equal(scale.y(scale.low), CHART.height - CHART.bottom);
    assert.ok(scale.y(700) < scale.y(600));
  });
});

describe("chartTicks and chartBands", () => {
  test("a grid line every 50 points, every 100 over a wide span", () => {
    assert.deepEqual(chartTicks(550, 750), [550, 600, 650, 700, 750]);
    assert.deepEqual(chartTicks(350, 950), [400, 500, 600, 700, 800, 900]);
  });

  test("only the bands within the span, cut to it", () => {
    assert.deepEqual(chartBands(550, 700), [
      { code: "fair", from: 550, to: 600 },
      { code: "good", from: 600, to: 650 },
      { code: "very_good", from: 650, to: 700 },
    ]);
    assert.deepEqual(chartBands(700, 950), [{ code: "excellent", from: 700, to: 950 }]);
  });

  test("points are put oldest first", () => {
    assert.deepEqual(
      chronological([at(3, 1), at(1, 2), at(2, 3)]).map((p) => p.score),
      [2, 3, 1],
    );
  });
});
