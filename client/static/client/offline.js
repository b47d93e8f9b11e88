// What this phone keeps between launches, and nothing more:
// - the last score it saw, only {username, score, band, computed_at}, so that the app can
//   show it without a network (always with when it was computed), and only to that person;
// - who was signed in at the last launch (a username), to check the kept score against,
//   and to start Home's loads together with the session check;
// - a logout the server has not confirmed yet, which runs before anything else at launch.
// All of it is forgotten when the session ends (logout, expiry) or someone else signs in.
const SCORE_KEY = "open-sesame.last-score";
const USER_KEY = "open-sesame.user";
const LOGOUT_KEY = "open-sesame.pending-logout";

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Storage full or disabled: the app still works online.
  }
}

export function rememberScore(username, score) {
  if (!username || !score) return;
  const { score: value, band, computed_at: computedAt } = score;
  write(SCORE_KEY, JSON.stringify({ username, score: value, band, computed_at: computedAt }));
}

/** The kept score, only if it is `username`'s (null for anyone else, or if none is kept). */
export function lastScore(username) {
  let kept = null;
  try {
    kept = JSON.parse(read(SCORE_KEY) || "null");
  } catch {
    kept = null;
  }
  if (!kept || !username || kept.username !== username) return null;
  if (!Number.isInteger(kept.score) || !kept.band || !kept.computed_at) return null;
  return kept;
}

export function forgetScore() {
  write(SCORE_KEY, null);
}

/** Who is signed in now; someone else's kept score is forgotten at once. */
export function rememberUser(username) {
  const kept = read(SCORE_KEY);
  if (kept) {
    try {
      if (JSON.parse(kept)?.username !== username) forgetScore();
    } catch {
      forgetScore();
    }
  }
  write(USER_KEY, username);
}

export function lastUser() {
  return read(USER_KEY);
}

/** The session ended (logout, expiry): forget whose it was and their score. */
export function forgetUser() {
  write(USER_KEY, null);
  forgetScore();
}

export function pendingLogout() {
  return read(LOGOUT_KEY) !== null;
}

export function setPendingLogout(pending) {
  write(LOGOUT_KEY, pending ? new Date().toISOString() : null);
}
