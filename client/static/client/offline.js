// The last score this phone saw, kept so that the app can show it without a network,
// always marked with when it was computed and when it was seen.
const KEY = "open-sesame.last-score";

export function rememberScore(username, score) {
  try {
    localStorage.setItem(
      KEY,
      JSON.stringify({ username, seenAt: new Date().toISOString(), score }),
    );
  } catch {
    // Storage full or disabled: the app still works online.
  }
}

export function lastScore() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

/** Logging out forgets it: the next person on this phone must not see it. */
export function forgetScore() {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // Nothing kept.
  }
}
