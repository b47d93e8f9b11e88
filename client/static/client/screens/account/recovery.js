// The ways back in, open signed in or not: ask for a password reset link, choose a new
// password from that link (#/reset?uid=…&token=…), and verify an e-mail address from its
// link (#/verify-email?token=…).
import { useEffect, useRef, useState } from "../../vendor/preact-htm.js";

import { api, ApiError } from "../../api.js";
import { register, t } from "../../i18n.js";
import { Button, Card, ErrorNotice, Field, html, Loading, notify, Screen, useAction } from "../../ui.js";

import { formErrors, ShowPassword } from "./password.js";

register({
  en: {
    "forgot.title": "Forgot your password?",
    "forgot.lead": "Give your username or your account's e-mail address. If the account has a verified address, we send a link there to choose a new password.",
    "forgot.who": "Username or e-mail address",
    "forgot.submit": "Send the link",
    "forgot.sent": "If an account matches, a link is on its way to its verified e-mail address. It works once, for a short while. No e-mail after a few minutes? The account may have no verified address: then only support can help.",
    "forgot.back": "Back to log in",
    "reset.title": "Choose a new password",
    "reset.lead": "Once it is changed, every device logged in to your account is logged out.",
    "reset.new": "New password",
    "reset.submit": "Save the new password",
    "reset.done": "Your password is changed. Log in with it; every device was logged out.",
    "reset.incomplete": "This link is incomplete. Open it again from the e-mail, or ask for a new one.",
    "reset.again": "Ask for a new link",
    "verify.title": "Verify your e-mail address",
    "verify.busy": "Verifying your address…",
    "verify.done": "Your e-mail address {email} is verified. It can now be used to reset your password.",
    "verify.invalid": "This link is not valid any more: it works once, and only for the latest address you gave. Send a new one from Account and security.",
    "verify.toAccount": "Account and security",
    "verify.toLogin": "Log in",
  },
  es: {
    "forgot.title": "¿Has olvidado tu contraseña?",
    "forgot.lead": "Indica tu nombre de usuario o el correo de tu cuenta. Si la cuenta tiene un correo verificado, te enviamos allí un enlace para elegir una contraseña nueva.",
    "forgot.who": "Nombre de usuario o correo electrónico",
    "forgot.submit": "Enviar el enlace",
    "forgot.sent": "Si alguna cuenta coincide, va de camino un enlace a su correo verificado. Sirve una vez y durante poco tiempo. ¿No llega en unos minutos? Puede que la cuenta no tenga un correo verificado: entonces solo el soporte puede ayudarte.",
    "forgot.back": "Volver a iniciar sesión",
    "reset.title": "Elige una contraseña nueva",
    "reset.lead": "Al cambiarla, se cierra la sesión en todos los dispositivos de tu cuenta.",
    "reset.new": "Contraseña nueva",
    "reset.submit": "Guardar la contraseña nueva",
    "reset.done": "Tu contraseña ha cambiado. Inicia sesión con ella; se cerró la sesión en todos los dispositivos.",
    "reset.incomplete": "Este enlace está incompleto. Ábrelo de nuevo desde el correo o pide uno nuevo.",
    "reset.again": "Pedir un enlace nuevo",
    "verify.title": "Verifica tu correo electrónico",
    "verify.busy": "Verificando tu dirección…",
    "verify.done": "Tu correo {email} está verificado. Ya sirve para restablecer tu contraseña.",
    "verify.invalid": "Este enlace ya no es válido: sirve una vez y solo para la última dirección que diste. Envía uno nuevo desde Cuenta y seguridad.",
    "verify.toAccount": "Cuenta y seguridad",
    "verify.toLogin": "Iniciar sesión",
  },
  "zh-Hans": {
    "forgot.title": "忘记密码？",
    "forgot.lead": "请填写用户名或账户的电子邮箱。如果账户有已验证的邮箱，我们会把设置新密码的链接发送到该邮箱。",
    "forgot.who": "用户名或电子邮箱",
    "forgot.submit": "发送链接",
    "forgot.sent": "如有匹配的账户，链接已发往其已验证的邮箱。链接只能使用一次，且很快失效。几分钟后仍未收到？该账户可能没有已验证的邮箱，只能联系客服。",
    "forgot.back": "返回登录",
    "reset.title": "设置新密码",
    "reset.lead": "修改后，登录您账户的所有设备都会退出登录。",
    "reset.new": "新密码",
    "reset.submit": "保存新密码",
    "reset.done": "密码已修改。请用新密码登录；所有设备均已退出登录。",
    "reset.incomplete": "此链接不完整。请从邮件中重新打开，或重新申请。",
    "reset.again": "重新申请链接",
    "verify.title": "验证电子邮箱",
    "verify.busy": "正在验证您的邮箱…",
    "verify.done": "您的电子邮箱 {email} 已验证，现在可以用它重设密码。",
    "verify.invalid": "此链接已失效：它只能使用一次，且只对您最新填写的邮箱有效。请在“账户与安全”中重新发送。",
    "verify.toAccount": "账户与安全",
    "verify.toLogin": "登录",
  },
});

export function ForgotScreen({ me }) {
  const [who, setWho] = useState("");
  const [sent, setSent] = useState(false);
  const ask = useAction(async (key, value) => {
    const body = /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value) ? { email: value } : { username: value };
    return api("auth/password-reset", { method: "POST", body });
  });
  const { fields, general } = formErrors(ask.error);
  const submit = async (event) => {
    event.preventDefault();
    const value = who.trim();
    if (!value) return;
    const answer = await ask.run(value);
    if (answer !== undefined) setSent(true);
  };
  return html`<${Screen} title=${t("forgot.title")}>
    <p class="lead">${t("forgot.lead")}</p>
    ${sent
      ? html`<p class="notice notice-ok" role="status">${t("forgot.sent")}</p>`
      : html`<form class="form" onSubmit=${submit} noValidate>
          <${ErrorNotice} error=${general} />
          <${Field}
            label=${t("forgot.who")}
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck="false"
            required
            value=${who}
            onInput=${(event) => setWho(event.currentTarget.value)}
            error=${fields.username || fields.email}
          />
          <${Button} type="submit" busy=${ask.busy}>${t("forgot.submit")}<//>
        </form>`}
    <p class="switch"><a href=${me ? "#/account" : "#/login"}>${me ? t("verify.toAccount") : t("forgot.back")}</a></p>
  <//>`;
}

export function ResetScreen({ params = {}, me, onSignedOut, navigate }) {
  const [password, setPassword] = useState("");
  const [shown, setShown] = useState(false);
  const { uid, token } = params;
  const reset = useAction(async (key, value) =>
    api("auth/password-reset/confirm", { method: "POST", body: { uid, token, new_password: value } }),
  );
  const { fields, general } = formErrors(reset.error);
  const linkDead = reset.error instanceof ApiError && (reset.error.code === "token_invalid" || fields.uid || fields.token);

  const submit = async (event) => {
    event.preventDefault();
    const done = await reset.run(password);
    if (done === undefined) return;
    notify(() => t("reset.done"));
    // Every session ended, this one too: back to the login.
    if (me) onSignedOut?.();
    else navigate("login");
  };

  if (!uid || !token) {
    return html`<${Screen} title=${t("reset.title")}>
      <p class="notice notice-error" role="alert">${t("reset.incomplete")}</p>
      <p><a href="#/forgot">${t("reset.again")}</a></p>
    <//>`;
  }
  return html`<${Screen} title=${t("reset.title")}>
    <p class="lead">${t("reset.lead")}</p>
    <${Card}>
      <form class="form" onSubmit=${submit} noValidate>
        ${linkDead
          ? html`<div class="notice notice-error" role="alert">
              <p>${t("error.token_invalid")}</p>
              <p><a href="#/forgot">${t("reset.again")}</a></p>
            </div>`
          : html`<${ErrorNotice} error=${general} />`}
        <${Field}
          label=${t("reset.new")}
          hint=${t("auth.passwordHint")}
          name="new_password"
          type=${shown ? "text" : "password"}
          autocomplete="new-password"
          required
          value=${password}
          onInput=${(event) => setPassword(event.currentTarget.value)}
          error=${fields.new_password}
        />
        <${ShowPassword} shown=${shown} onChange=${setShown} />
        <${Button} type="submit" busy=${reset.busy}>${t("reset.submit")}<//>
      </form>
    <//>
  <//>`;
}

export function VerifyEmailScreen({ params = {}, me, onProfile }) {
  const token = params.token || "";
  const [state, setState] = useState({ status: "busy", profile: null, error: null });
  const tried = useRef(null);
  const [attempt, setAttempt] = useState(0);
  // Who to tell of the verified profile, as it is when the answer comes.
  const signedIn = useRef({ me, onProfile });
  signedIn.current = { me, onProfile };
  useEffect(() => {
    // A link verifies once: never sent twice for one token (a re-render, a language change).
    const id = `${token}|${attempt}`;
    if (tried.current === id) return;
    tried.current = id;
    if (!token) {
      setState({ status: "invalid", profile: null, error: null });
      return;
    }
    setState({ status: "busy", profile: null, error: null });
    api("auth/email-verify", { method: "POST", body: { token } }).then(
      (profile) => {
        setState({ status: "done", profile, error: null });
        if (signedIn.current.me) signedIn.current.onProfile?.(profile);
      },
      (error) => {
        const invalid = error instanceof ApiError && (error.code === "token_invalid" || error.status === 400);
        setState({ status: invalid ? "invalid" : "failed", profile: null, error });
      },
    );
  }, [token, attempt]);

  const next = me
    ? html`<p><a href="#/account">${t("verify.toAccount")}</a></p>`
    : html`<p><a href="#/login">${t("verify.toLogin")}</a></p>`;
  let shown;
  if (state.status === "busy") shown = html`<${Loading} label=${t("verify.busy")} />`;
  else if (state.status === "done") {
    shown = html`<p class="notice notice-ok" role="status">${t("verify.done", { email: state.profile?.email || "" })}</p>`;
  } else if (state.status === "invalid") {
    shown = html`<p class="notice notice-error" role="alert">${t("verify.invalid")}</p>`;
  } else {
    shown = html`<${ErrorNotice} error=${state.error} onRetry=${() => setAttempt((n) => n + 1)} />`;
  }
  return html`<${Screen} title=${t("verify.title")}>${shown} ${next}<//>`;
}
