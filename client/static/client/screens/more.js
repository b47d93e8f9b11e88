// Everything else the app does, one tap away.
import { register, t } from "../i18n.js";
import { useState } from "../vendor/preact-htm.js";

import { Button, Card, html, Screen } from "../ui.js";

register({
  en: {
    "more.bills": "Open and paid bills; pay a bill.",
    "more.perks": "What each merchant offers, and whether you qualify.",
    "more.consents": "Who may ask about you, and until when.",
    "more.access": "Every time a merchant looked, and why.",
    "more.records": "What your score is made of; dispute a record.",
    "more.data": "Download everything we hold about you.",
    "more.you": "Your account",
    "more.account": "Your name and e-mail, password, devices, phone and identity; close the account.",
    "more.signedInAs": "Logged in as {name} ({username}).",
    "more.logoutHint": "Logging out also removes the score this phone keeps for offline use.",
  },
  es: {
    "more.bills": "Facturas abiertas y pagadas; paga una factura.",
    "more.perks": "Lo que ofrece cada comercio y si cumples los requisitos.",
    "more.consents": "Quién puede consultar sobre ti y hasta cuándo.",
    "more.access": "Cada vez que un comercio consultó, y por qué.",
    "more.records": "De qué se compone tu puntuación; reclama un registro.",
    "more.data": "Descarga todo lo que guardamos sobre ti.",
    "more.you": "Tu cuenta",
    "more.account": "Tu nombre y e-mail, contraseña, dispositivos, teléfono e identidad; cerrar la cuenta.",
    "more.signedInAs": "Has iniciado sesión como {name} ({username}).",
    "more.logoutHint": "Al cerrar sesión también se borra la puntuación que este teléfono guarda para usarla sin conexión.",
  },
  "zh-Hans": {
    "more.bills": "待付和已付账单；支付账单。",
    "more.perks": "各商户提供的优惠，以及您是否符合条件。",
    "more.consents": "谁可以查询您的信息，期限到何时。",
    "more.access": "商户每一次查询的时间和原因。",
    "more.records": "您的评分由哪些记录组成；对记录提出异议。",
    "more.data": "下载我们保存的关于您的全部数据。",
    "more.you": "您的账户",
    "more.account": "姓名和电子邮箱、密码、设备、手机和身份验证；注销账户。",
    "more.signedInAs": "已登录：{name}（{username}）。",
    "more.logoutHint": "退出登录时，本机为离线使用保存的评分也会被删除。",
  },
});

const ITEMS = ["bills", "perks", "consents", "access", "records", "data", "account"];

export function MoreScreen({ me, onLogout, logoutPending = false }) {
  const [busy, setBusy] = useState(false);
  const logout = async () => {
    setBusy(true);
    const done = await onLogout();
    if (!done) setBusy(false);
  };
  return html`<${Screen} title=${t("app.more")}>
    <ul class="menu">
      ${ITEMS.map(
        (route) => html`<li>
          <a href=${`#/${route}`} class="menu-item">
            <span class="menu-title">${t(`nav.${route}`)}</span>
            <span class="menu-text">${t(`more.${route}`)}</span>
          </a>
        </li>`,
      )}
    </ul>
    <${Card} title=${t("more.you")}>
      <p>${t("more.signedInAs", { name: me.display_name || me.username, username: me.username })}</p>
      <p class="muted">${t("more.logoutHint")}</p>
      ${logoutPending && !busy ? html`<p class="notice notice-error" role="alert">${t("app.logoutFailed")}</p>` : null}
      <${Button} variant="secondary" busy=${busy} onClick=${logout}>${t("app.logout")}<//>
    <//>
  <//>`;
}
