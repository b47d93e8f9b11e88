// The citizen app: the frame (header, tabs, language), the router, and the session.
// Screens live in ./screens/, one module each, with their own messages.
import { Component, html, render, useCallback, useEffect, useRef, useState } from "./vendor/preact-htm.js";

import {
  api,
  ApiError,
  dropPrefetched,
  ICON_URL,
  forgetCsrfToken,
  prefetch,
  SERVICE_WORKER_URL,
  SIGNED_OUT_EVENT,
} from "./api.js";
import { detectLanguage, language, LANGUAGES, onLanguageChange, setLanguage, t } from "./i18n.js";
import {
  forgetScore,
  forgetUser,
  lastUser,
  pendingLogout,
  rememberUser,
  setPendingLogout,
} from "./offline.js";
import "./strings.js";
import { Button, Loading, notify, Notices } from "./ui.js";
import { applyUpdate, watchForUpdates } from "./updates.js";

import { LoginScreen, SignupScreen } from "./screens/auth.js";
import { HOME_LOADS, HomeScreen, OfflineHome } from "./screens/home.js";
import { MoreScreen } from "./screens/more.js";

// The first screens (home, login, more) come with the app; every other one is loaded when
// first opened (and in the background once the first screen shows), so a first visit
// downloads only what it shows. The service worker keeps them all for offline use.
const LAZY = {
  score: [() => import("./screens/score/index.js"), "ScoreScreen"],
  wallet: [() => import("./screens/wallet/index.js"), "WalletScreen"],
  bills: [() => import("./screens/bills.js"), "BillsScreen"],
  perks: [() => import("./screens/perks/index.js"), "PerksScreen"],
  credit: [() => import("./screens/credit.js"), "CreditScreen"],
  consents: [() => import("./screens/consents.js"), "ConsentsScreen"],
  access: [() => import("./screens/access/index.js"), "AccessScreen"],
  records: [() => import("./screens/records/index.js"), "RecordsScreen"],
  data: [() => import("./screens/data.js"), "DataScreen"],
  account: [() => import("./screens/account/profile.js"), "AccountScreen"],
  password: [() => import("./screens/account/password.js"), "PasswordScreen"],
  devices: [() => import("./screens/account/devices.js"), "DevicesScreen"],
  phone: [() => import("./screens/account/phone.js"), "PhoneScreen"],
  identity: [() => import("./screens/account/identity.js"), "IdentityScreen"],
  monitoring: [() => import("./screens/account/monitoring.js"), "MonitoringScreen"],
  close: [() => import("./screens/account/close.js"), "CloseScreen"],
  // Links from e-mails and the way back in: open signed in or not.
  forgot: [() => import("./screens/account/recovery.js"), "ForgotScreen"],
  reset: [() => import("./screens/account/recovery.js"), "ResetScreen"],
  "verify-email": [() => import("./screens/account/recovery.js"), "VerifyEmailScreen"],
};
// Screens anyone may open, signed in or not (a reset or verification link from an e-mail).
const OPEN_TO_ALL = new Set(["forgot", "reset", "verify-email"]);
const loaded = {};

/** The module of a lazy screen: one load each, a failed one tried again next time. */
function loadScreen(route) {
  const [load, name] = LAZY[route];
  if (!loaded[route]) {
    loaded[route] = load().then(
      (module) => module[name],
      (error) => {
        delete loaded[route];
        throw error;
      },
    );
  }
  return loaded[route];
}

/** Load every other screen in the background, once the first one is shown. */
function warmScreens() {
  const idle = window.requestIdleCallback || ((run) => setTimeout(run, 1000));
  idle(() => Object.keys(LAZY).forEach((route) => loadScreen(route).catch(() => undefined)));
}

/** A screen loaded on first use: a spinner meanwhile, an error with a retry if it fails. */
function LazyScreen({ route, ...props }) {
  const [state, setState] = useState({ Screen: null, error: null });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setState({ Screen: null, error: null });
    loadScreen(route).then(
      (Screen) => current && setState({ Screen, error: null }),
      (error) => current && setState({ Screen: null, error }),
    );
    return () => {
      current = false;
    };
  }, [route, attempt]);
  if (state.error) {
    return html`<${RetryScreen}
      title=${t("app.crashTitle")}
      text=${t("error.network_error")}
      onRetry=${() => setAttempt((n) => n + 1)}
    />`;
  }
  if (!state.Screen) return html`<${Loading} />`;
  return html`<${state.Screen} ...${props} />`;
}

const SCREENS = { home: HomeScreen, more: MoreScreen };
const PUBLIC = { login: LoginScreen, signup: SignupScreen };
const TABS = [
  { route: "home", icon: "M3 11.5 12 4l9 7.5V20a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z" },
  { route: "score", icon: "M4 19a8 8 0 1 1 16 0M12 19l4-6" },
  { route: "wallet", icon: "M3 7h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2zM3 7l13-3v3M16 13.5h2" },
  { route: "credit", icon: "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h2v2h-2zM18 18h2v2h-2zM14 18h2" },
  { route: "more", icon: "M5 7h14M5 12h14M5 17h14" },
];
// Screens reached from "More" keep its tab lit.
const TAB_OF = {
  bills: "more",
  perks: "more",
  consents: "more",
  access: "more",
  records: "more",
  data: "more",
  account: "more",
  password: "more",
  devices: "more",
  phone: "more",
  identity: "more",
  monitoring: "more",
  close: "more",
  forgot: "more",
  reset: "more",
  "verify-email": "more",
};

/** "#/records?tab=claims" → {route: "records", params: {tab: "claims"}} */
function parseHash() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [route, query = ""] = raw.split("?");
  return { route: route || "home", params: Object.fromEntries(new URLSearchParams(query)) };
}

export function navigate(route, params = null) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  window.location.hash = `#/${route}${query}`;
}

function useRoute() {
  const [where, setWhere] = useState(parseHash);
  useEffect(() => {
    const update = () => {
      setWhere(parseHash());
      window.scrollTo(0, 0);
    };
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return where;
}

function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  return online;
}

function LanguagePicker() {
  return html`<div class="language">
    <label for="language-picker" class="visually-hidden">${t("app.language")}</label>
    <svg aria-hidden="true" viewBox="0 0 24 24" class="icon">
      <path d="M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3 12h18M12 3c2.5 2.5 3.5 5.5 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-5.5-3.5-9s1-6.5 3.5-9z" />
    </svg>
    <select
      id="language-picker"
      value=${language()}
      onChange=${(event) => setLanguage(event.currentTarget.value)}
    >
      ${LANGUAGES.map(
        (option) => html`<option value=${option.code} lang=${option.code}>${option.name}</option>`,
      )}
    </select>
  </div>`;
}

function TopBar() {
  return html`<header class="topbar">
    <a class="brand" href="#/home">
      <img src=${ICON_URL} alt="" width="28" height="28" />
      <span>${t("app.name")}</span>
    </a>
    <div class="topbar-tools">
      <${LanguagePicker} />
    </div>
  </header>`;
}

function TabBar({ current }) {
  const lit = TAB_OF[current] || current;
  return html`<nav class="tabbar" aria-label=${t("app.menu")}>
    ${TABS.map(
      (tab) => html`<a
        href=${`#/${tab.route}`}
        class="tab"
        aria-current=${lit === tab.route ? "page" : undefined}
      >
        <svg aria-hidden="true" viewBox="0 0 24 24" class="icon"><path d=${tab.icon} /></svg>
        <span>${t(tab.route === "more" ? "app.more" : `nav.${tab.route}`)}</span>
      </a>`,
    )}
  </nav>`;
}

function SkipLink() {
  return html`<a
    class="skip-link"
    href="#main"
    onClick=${(event) => {
      event.preventDefault();
      document.getElementById("main")?.focus();
    }}
    >${t("app.skip")}</a
  >`;
}

/**
 * Ask the server to end the session. True once it has (or there was none); false when it
 * could not be asked (offline, or a server error): the logout stays pending.
 */
async function serverLogout() {
  try {
    await api("auth/logout", { method: "POST" });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) return false;
  }
  setPendingLogout(false);
  forgetUser();
  forgetCsrfToken();
  return true;
}

const LOGOUT_RETRY_MS = 30_000;

/** The signed-out state. */
const SIGNED_OUT = { status: "out", me: null, error: null, logoutPending: false };

/**
 * The retry screen of a failure that no form can fix (the server is unwell, or this app
 * could not show what it got): never the login form for someone who is signed in.
 */
function RetryScreen({ title, text, onRetry }) {
  const heading = useRef(null);
  useEffect(() => heading.current?.focus({ preventScroll: true }), []);
  return html`<section class="screen retry-screen" aria-labelledby="retry-title">
    <header class="screen-head">
      <h1 id="retry-title" tabindex="-1" ref=${heading}>${title}</h1>
    </header>
    <div class="notice notice-error" role="alert"><p>${text}</p></div>
    <${Button} onClick=${onRetry}>${t("common.retry")}<//>
  </section>`;
}

/** The top-level error boundary: a screen that throws shows a retry, not a frozen app. */
class ErrorBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { error: null };
  }

  static getDerivedStateFromError(error) {
    return { error };
  }

  componentDidCatch(error) {
    this.setState({ error });
  }

  render() {
    if (!this.state.error) return this.props.children;
    return html`<${RetryScreen}
      title=${t("app.crashTitle")}
      text=${t("app.crash")}
      onRetry=${() => this.setState({ error: null })}
    />`;
  }
}

/**
 * Focus never falls to the page: when the focused element is removed (a paid bill leaves
 * its list, a form closes), the screen's heading takes it. (Browsers do not all say when
 * the focused element goes: the removal itself is watched.)
 */
function useFocusGuard() {
  useEffect(() => {
    let last = null;
    const track = (event) => {
      last = event.target;
    };
    const rescue = () => {
      const active = document.activeElement;
      if (!last || last.isConnected || (active && active !== document.body)) return;
      last = null;
      document.querySelector("main h1")?.focus({ preventScroll: true });
    };
    const watcher = new MutationObserver(rescue);
    watcher.observe(document.getElementById("app"), { childList: true, subtree: true });
    document.addEventListener("focusin", track);
    return () => {
      watcher.disconnect();
      document.removeEventListener("focusin", track);
    };
  }, []);
}

function App() {
  const [, setLanguageShown] = useState(language());
  const [session, setSession] = useState({ status: "checking", me: null, error: null, logoutPending: false });
  const { route, params } = useRoute();
  const online = useOnline();

  useEffect(() => onLanguageChange(setLanguageShown), []);
  useFocusGuard();

  const check = useCallback(async () => {
    setSession((previous) => ({ ...previous, status: "checking" }));
    // A logout the server has not confirmed runs before anything else.
    if (pendingLogout()) {
      forgetScore();
      const done = await serverLogout();
      setSession({ ...SIGNED_OUT, logoutPending: !done });
      return;
    }
    // Home's loads start together with the session check, not after it: a signed-in
    // citizen waits for one round trip, not two. (If the session check fails, they fail
    // with it, and are dropped.)
    if (parseHash().route === "home") prefetch(HOME_LOADS);
    try {
      const me = await api("me");
      rememberUser(me.username);
      setSession({ status: "in", me, error: null, logoutPending: false });
      warmScreens();
    } catch (error) {
      dropPrefetched();
      if (error instanceof ApiError && error.isNetwork) {
        setSession({ status: "offline", me: null, error, logoutPending: false });
      } else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        forgetUser();
        setSession(SIGNED_OUT);
      } else {
        // A 5xx (a deploy's 502), or an answer that could not be read: the session may
        // well be fine; say so and offer a retry, never the login form.
        setSession({ status: "unavailable", me: null, error, logoutPending: false });
      }
    }
  }, []);

  useEffect(() => {
    check();
  }, [check]);
  useEffect(() => {
    // The session ended on the server (expired, or logged out elsewhere): forget it here.
    const signedOut = () => {
      forgetUser();
      setSession(SIGNED_OUT);
    };
    window.addEventListener(SIGNED_OUT_EVENT, signedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, signedOut);
  }, []);
  // What the session is now, for the effects below to read without running again on it.
  const status = useRef(session.status);
  status.current = session.status;
  // Coming back online after starting offline: check the session again.
  useEffect(() => {
    if (online && status.current === "offline") check();
  }, [online, check]);
  // A logout still pending: try again as soon as the network is back, and every half
  // minute meanwhile; once the server confirms, the session ends here too.
  useEffect(() => {
    if (!session.logoutPending) return undefined;
    let cancelled = false;
    const attempt = () =>
      serverLogout().then((done) => {
        if (cancelled || !done) return;
        const wasIn = status.current === "in";
        setSession({ ...SIGNED_OUT });
        if (wasIn) navigate("login");
      });
    if (online) attempt();
    const timer = setInterval(() => navigator.onLine && attempt(), LOGOUT_RETRY_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [online, session.logoutPending]);

  const signedIn = useCallback((me) => {
    forgetCsrfToken(); // Django rotates the CSRF token at login.
    // Logging in replaced the old session on the server: a pending logout is done with,
    // and someone else's kept score is forgotten.
    setPendingLogout(false);
    rememberUser(me.username);
    setSession({ status: "in", me, error: null, logoutPending: false });
    navigate("home");
    warmScreens();
  }, []);

  /** The profile changed (a new name, e-mail or phone): the frame shows the new one. */
  const profileChanged = useCallback((me) => {
    setSession((previous) => (previous.status === "in" ? { ...previous, me } : previous));
  }, []);

  /**
   * The server already ended this session (logged out everywhere, the password reset, the
   * account closed): forget it here too and show the login.
   */
  const signedOutHere = useCallback(() => {
    forgetScore();
    forgetUser();
    forgetCsrfToken();
    setPendingLogout(false);
    setSession(SIGNED_OUT);
    navigate("login");
  }, []);

  /**
   * Log out: the session here ends only once the server has ended it. Until then the
   * citizen stays signed in, is told so, and the logout is retried (at once when the
   * network comes back, and first thing at the next launch). The kept score goes at once.
   */
  const logout = useCallback(async () => {
    setPendingLogout(true);
    forgetScore();
    const done = await serverLogout();
    if (!done) {
      setSession((previous) => ({ ...previous, logoutPending: true }));
      return false;
    }
    setSession(SIGNED_OUT);
    navigate("login");
    return true;
  }, []);

  let body;
  if (session.status === "checking") {
    body = html`<main id="main" tabindex="-1" class="main">
      <p class="boot" role="status">${t("common.loading")}</p>
    </main>`;
  } else if (session.status === "offline") {
    body = html`<main id="main" tabindex="-1" class="main">
      <${OfflineHome} username=${lastUser()} onRetry=${check} />
    </main>`;
  } else if (session.status === "unavailable") {
    body = html`<main id="main" tabindex="-1" class="main">
      <${RetryScreen} title=${t("app.unavailableTitle")} text=${t("app.unavailable")} onRetry=${check} />
    </main>`;
  } else if (session.status === "in") {
    const props = {
      me: session.me,
      params,
      navigate,
      onLogout: logout,
      onProfile: profileChanged,
      onSignedOut: signedOutHere,
      logoutPending: session.logoutPending,
    };
    const shown = LAZY[route]
      ? html`<${LazyScreen} route=${route} ...${props} />`
      : html`<${SCREENS[route] || HomeScreen} ...${props} />`;
    body = html`<main id="main" tabindex="-1" class="main">
        ${online ? null : html`<p class="banner" role="status">${t("app.offline")}</p>`}
        <${ErrorBoundary} key=${route}>${shown}<//>
      </main>
      <${TabBar} current=${route} />`;
  } else {
    const Screen = PUBLIC[route] || LoginScreen;
    const props = { onSignedIn: signedIn, onSignedOut: signedOutHere, navigate, params, me: null };
    body = html`<main id="main" tabindex="-1" class="main main-public">
      ${session.logoutPending ? html`<p class="banner" role="alert">${t("app.logoutFailed")}</p>` : null}
      <${ErrorBoundary} key=${route}>
        ${OPEN_TO_ALL.has(route)
          ? html`<${LazyScreen} route=${route} ...${props} />`
          : html`<${Screen} ...${props} />`}
      <//>
    </main>`;
  }

  return html`<div class=${`app ${session.status === "in" ? "app-in" : "app-out"}`}>
    <${SkipLink} />
    <${TopBar} />
    ${body}
    <${Notices} />
  </div>`;
}

setLanguage(detectLanguage(), { remember: false });
const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);

if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker
      .register(SERVICE_WORKER_URL)
      .then((registration) =>
        watchForUpdates(registration, () =>
          notify(() => t("app.updatedText"), { label: () => t("app.updated"), run: () => applyUpdate(registration) }),
        ),
      )
      .catch(() => {
        // Without a service worker the app still works online; only offline start is lost.
      });
  });
}
