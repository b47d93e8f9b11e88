// Sign up and log in: session login with CSRF, exactly as the API describes for web clients.
import { useRef, useState } from "../vendor/preact-htm.js";

import { api, ApiError } from "../api.js";
import { register, t } from "../i18n.js";
import { Button, ErrorNotice, Field, html, Screen } from "../ui.js";

register({
  en: {
    "auth.login": "Log in",
    "auth.signup": "Create an account",
    "auth.welcome": "Your wallet and the trust you have earned, in one place.",
    "auth.username": "Username",
    "auth.usernameHint": "Letters, digits and @ . + - _ only.",
    "auth.usernameRule": "Use only letters, digits and @ . + - _.",
    "auth.password": "Password",
    "auth.passwordHint": "At least 8 characters, not only digits, not like your name.",
    "auth.displayName": "Your name (optional)",
    "auth.noAccount": "New here?",
    "auth.haveAccount": "Already have an account?",
    "auth.toSignup": "Create an account",
    "auth.toLogin": "Log in",
    "auth.showPassword": "Show password",
    "auth.email": "E-mail address (optional)",
    "auth.emailHint": "Only to reset a forgotten password. We send a link to check it is yours.",
    "auth.forgot": "Forgot your password?",
    "auth.promise": "Your score counts how you keep commitments, never how much you have or whom you know.",
  },
  es: {
    "auth.login": "Iniciar sesión",
    "auth.signup": "Crear una cuenta",
    "auth.welcome": "Tu monedero y la confianza que te has ganado, en un solo lugar.",
    "auth.username": "Nombre de usuario",
    "auth.usernameHint": "Solo letras, números y @ . + - _.",
    "auth.usernameRule": "Usa solo letras, números y @ . + - _.",
    "auth.password": "Contraseña",
    "auth.passwordHint": "Al menos 8 caracteres, no solo números, que no se parezca a tu nombre.",
    "auth.displayName": "Tu nombre (opcional)",
    "auth.noAccount": "¿Eres nuevo?",
    "auth.haveAccount": "¿Ya tienes una cuenta?",
    "auth.toSignup": "Crear una cuenta",
    "auth.toLogin": "Iniciar sesión",
    "auth.showPassword": "Mostrar contraseña",
    "auth.email": "Correo electrónico (opcional)",
    "auth.emailHint": "Solo para restablecer una contraseña olvidada. Te enviamos un enlace para comprobar que es tuyo.",
    "auth.forgot": "¿Has olvidado tu contraseña?",
    "auth.promise": "Tu puntuación mide cómo cumples tus compromisos, nunca cuánto tienes ni a quién conoces.",
  },
  "zh-Hans": {
    "auth.login": "登录",
    "auth.signup": "创建账户",
    "auth.welcome": "您的钱包和您赢得的信任，尽在一处。",
    "auth.username": "用户名",
    "auth.usernameHint": "只能使用字母、数字和 @ . + - _。",
    "auth.usernameRule": "请只使用字母、数字和 @ . + - _。",
    "auth.password": "密码",
    "auth.passwordHint": "至少 8 个字符，不能全是数字，不能与姓名相似。",
    "auth.displayName": "您的姓名（选填）",
    "auth.noAccount": "第一次使用？",
    "auth.haveAccount": "已有账户？",
    "auth.toSignup": "创建账户",
    "auth.toLogin": "登录",
    "auth.showPassword": "显示密码",
    "auth.email": "电子邮箱（选填）",
    "auth.emailHint": "仅用于重设忘记的密码。我们会发送链接，确认邮箱属于您。",
    "auth.forgot": "忘记密码？",
    "auth.promise": "您的评分衡量的是您如何履行承诺，而不是您有多少钱或认识谁。",
  },
});

function fieldErrors(error) {
  return error instanceof ApiError ? error.fields : {};
}

function usernameError(error) {
  const field = fieldErrors(error).username;
  // The API's "invalid" here means characters outside the allowed set.
  if (field && field.code === "invalid") return { code: "", message: t("auth.usernameRule") };
  return field;
}

function AuthForm({ mode, onSignedIn, navigate }) {
  const [values, setValues] = useState({ username: "", password: "", display_name: "", email: "" });
  const [showPassword, setShowPassword] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  // Registered but not yet logged in (the login failed): a retry only logs in.
  const registeredAs = useRef(null);
  const signup = mode === "signup";
  const set = (name) => (event) => setValues({ ...values, [name]: event.currentTarget.value });

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const credentials = { username: values.username.trim(), password: values.password };
      if (signup && registeredAs.current !== credentials.username) {
        const email = values.email.trim();
        await api("auth/register", {
          method: "POST",
          body: { ...credentials, display_name: values.display_name.trim(), ...(email ? { email } : {}) },
        });
        registeredAs.current = credentials.username;
      }
      await api("auth/login", { method: "POST", body: credentials });
      onSignedIn(await api("me"));
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };

  const errors = fieldErrors(error);
  const general = error && !(error instanceof ApiError && error.code === "invalid") ? error : null;
  return html`<${Screen} title=${t(signup ? "auth.signup" : "auth.login")}>
    <p class="lead">${t("auth.welcome")}</p>
    <form class="form" onSubmit=${submit} noValidate>
      <${ErrorNotice} error=${general} />
      ${error && !general ? html`<p class="notice notice-error" role="alert">${t("error.invalid")}</p>` : null}
      <${Field}
        label=${t("auth.username")}
        hint=${signup ? t("auth.usernameHint") : null}
        name="username"
        autocomplete="username"
        autocapitalize="none"
        spellcheck="false"
        required
        value=${values.username}
        onInput=${set("username")}
        error=${usernameError(error)}
      />
      ${signup
        ? html`<${Field}
            label=${t("auth.displayName")}
            name="display_name"
            autocomplete="name"
            value=${values.display_name}
            onInput=${set("display_name")}
            error=${errors.display_name}
          />
          <${Field}
            label=${t("auth.email")}
            hint=${t("auth.emailHint")}
            name="email"
            type="email"
            autocomplete="email"
            autocapitalize="none"
            spellcheck="false"
            value=${values.email}
            onInput=${set("email")}
            error=${errors.email}
          />`
        : null}
      <${Field}
        label=${t("auth.password")}
        hint=${signup ? t("auth.passwordHint") : null}
        name="password"
        type=${showPassword ? "text" : "password"}
        autocomplete=${signup ? "new-password" : "current-password"}
        required
        value=${values.password}
        onInput=${set("password")}
        error=${errors.password}
      />
      <label class="check">
        <input
          type="checkbox"
          checked=${showPassword}
          onChange=${(event) => setShowPassword(event.currentTarget.checked)}
        />
        ${t("auth.showPassword")}
      </label>
      <${Button} type="submit" busy=${busy}>${t(signup ? "auth.signup" : "auth.login")}<//>
    </form>
    ${signup ? null : html`<p class="switch"><a href="#/forgot">${t("auth.forgot")}</a></p>`}
    <p class="switch">
      ${t(signup ? "auth.haveAccount" : "auth.noAccount")}${" "}
      <a href=${signup ? "#/login" : "#/signup"} onClick=${(event) => {
        event.preventDefault();
        navigate(signup ? "login" : "signup");
      }}>${t(signup ? "auth.toLogin" : "auth.toSignup")}</a>
    </p>
    <p class="promise">${t("auth.promise")}</p>
  <//>`;
}

export function LoginScreen(props) {
  return html`<${AuthForm} mode="login" ...${props} />`;
}

export function SignupScreen(props) {
  return html`<${AuthForm} mode="signup" ...${props} />`;
}
