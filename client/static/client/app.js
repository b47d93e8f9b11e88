// The citizen app: the frame (header, tabs, language), the router, and the session.
// Screens live in ./screens/, one module each, with their own messages.
import { html, render, useCallback, useEffect, useState } from "./vendor/preact-htm.js";

import {
  api,
  ApiError,
  ICON_URL,
  forgetCsrfToken,
  SERVICE_WORKER_URL,
  SIGNED_OUT_EVENT,
} from "./api.js";
import { detectLanguage, language, LANGUAGES, onLanguageChange, setLanguage, t } from "./i18n.js";
import { forgetScore } from "./offline.js";
import "./strings.js";
import { Notices } from "./ui.js";

import { AccessScreen } from "./screens/access.js";
import { LoginScreen, SignupScreen } from "./screens/auth.js";
import { BillsScreen } from "./screens/bills.js";
import { ConsentsScreen } from "./screens/consents.js";
import { CreditScreen } from "./screens/credit.js";
import { DataScreen } from "./screens/data.js";
import { HomeScreen, OfflineHome } from "./screens/home.js";
import { MoreScreen } from "./screens/more.js";
import { PerksScreen } from "./screens/perks.js";
import { RecordsScreen } from "./screens/records.js";
import { ScoreScreen } from "./screens/score.js";
import { WalletScreen } from "./screens/wallet.js";

const SCREENS = {
  home: HomeScreen,
  score: ScoreScreen,
  wallet: WalletScreen,
  bills: BillsScreen,
  perks: PerksScreen,
  credit: CreditScreen,
  consents: ConsentsScreen,
  access: AccessScreen,
  records: RecordsScreen,
  data: DataScreen,
  more: MoreScreen,
};
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

function App() {
  const [, setLanguageShown] = useState(language());
  const [session, setSession] = useState({ status: "checking", me: null, error: null });
  const { route, params } = useRoute();
  const online = useOnline();

  useEffect(() => onLanguageChange(setLanguageShown), []);

  const check = useCallback(() => {
    setSession((previous) => ({ ...previous, status: "checking" }));
    api("me").then(
      (me) => setSession({ status: "in", me, error: null }),
      (error) => {
        if (error instanceof ApiError && error.isNetwork) {
          setSession({ status: "offline", me: null, error });
        } else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          setSession({ status: "out", me: null, error: null });
        } else {
          setSession({ status: "error", me: null, error });
        }
      },
    );
  }, []);

  useEffect(check, [check]);
  useEffect(() => {
    const signedOut = () => setSession({ status: "out", me: null, error: null });
    window.addEventListener(SIGNED_OUT_EVENT, signedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, signedOut);
  }, []);
  // Coming back online after starting offline: check the session again.
  useEffect(() => {
    if (online && session.status === "offline") check();
  }, [online]);

  const signedIn = useCallback((me) => {
    forgetCsrfToken(); // Django rotates the CSRF token at login.
    setSession({ status: "in", me, error: null });
    navigate("home");
  }, []);

  const logout = useCallback(async () => {
    try {
      await api("auth/logout", { method: "POST" });
    } catch {
      // Logged out already, or offline: either way, forget this session here.
    }
    forgetCsrfToken();
    forgetScore();
    setSession({ status: "out", me: null, error: null });
    navigate("login");
  }, []);

  let body;
  if (session.status === "checking") {
    body = html`<main id="main" tabindex="-1" class="main">
      <p class="boot" role="status">${t("common.loading")}</p>
    </main>`;
  } else if (session.status === "offline") {
    body = html`<main id="main" tabindex="-1" class="main">
      <${OfflineHome} onRetry=${check} />
    </main>`;
  } else if (session.status === "in") {
    const Screen = SCREENS[route] || HomeScreen;
    body = html`<main id="main" tabindex="-1" class="main">
        ${online ? null : html`<p class="banner" role="status">${t("app.offline")}</p>`}
        <${Screen} me=${session.me} params=${params} navigate=${navigate} onLogout=${logout} />
      </main>
      <${TabBar} current=${route} />`;
  } else {
    const Screen = PUBLIC[route] || LoginScreen;
    body = html`<main id="main" tabindex="-1" class="main main-public">
      ${session.status === "error"
        ? html`<p class="banner" role="alert">${t("error.unknown")}</p>`
        : null}
      <${Screen} onSignedIn=${signedIn} navigate=${navigate} />
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
    navigator.serviceWorker.register(SERVICE_WORKER_URL).catch(() => {
      // Without a service worker the app still works online; only offline start is lost.
    });
  });
}
