// The score's range and its bands (the scorecard's). Pure: importable by Node.

export const SCORE_MIN = 350;
export const SCORE_MAX = 950;
// The lowest score of each band, worst first.
export const BANDS = [
  { code: "poor", from: 350 },
  { code: "fair", from: 550 },
  { code: "good", from: 600 },
  { code: "very_good", from: 650 },
  { code: "excellent", from: 700 },
];

/** Each band as {code, from, to}: its lowest score and the next band's (the top for the last). */
export function bandRanges() {
  return BANDS.map((band, index) => ({
    code: band.code,
    from: band.from,
    to: index + 1 < BANDS.length ? BANDS[index + 1].from : SCORE_MAX,
  }));
}
