// Verify an identity document: the kind, the issuing country and a photo or scan, sent for
// review; the documents sent, with their status and, when one is rejected, why.
import { useState } from "../../vendor/preact-htm.js";

import { api } from "../../api.js";
import { formatDate, t } from "../../i18n.js";
import {
  Badge,
  Button,
  Card,
  Empty,
  ErrorNotice,
  Field,
  html,
  Loaded,
  notify,
  Pager,
  Screen,
  useAction,
  usePaged,
} from "../../ui.js";

import "./messages.js";
import { formErrors } from "./password.js";
import { BackToAccount } from "./profile.js";

const KINDS = ["passport", "national_id", "driving_licence"];
const TYPES = new Set(["image/jpeg", "image/png", "image/webp", "application/pdf"]);
const MAX_BYTES = 5 * 1024 * 1024;
const STATUS_TONE = { pending: "warning", approved: "ok", rejected: "danger" };

/** Why a chosen file cannot go (null: it can): the server checks again, by its content. */
export function fileProblem(file) {
  if (!file) return "identity.fileMissing";
  if ((file.type && !TYPES.has(file.type)) || file.size > MAX_BYTES || file.size === 0) return "identity.fileInvalid";
  return null;
}

function DocumentRow({ document: doc }) {
  return html`<li class="identity-document">
    <div class="row">
      <h3>${t(`identity.kind.${doc.kind}`)} · ${doc.country}</h3>
      <${Badge} tone=${STATUS_TONE[doc.status] || "neutral"}>${t(`identity.status.${doc.status}`)}<//>
    </div>
    <p class="muted">
      <time datetime=${doc.submitted_at}>${t("identity.submitted", { date: formatDate(doc.submitted_at) })}</time>
      ${doc.decided_at
        ? html` · <time datetime=${doc.decided_at}>${t("identity.decided", { date: formatDate(doc.decided_at) })}</time>`
        : null}
    </p>
    ${doc.status === "rejected" && doc.reason ? html`<p>${t("identity.reason", { reason: doc.reason })}</p>` : null}
  </li>`;
}

function UploadForm({ onSent }) {
  const [kind, setKind] = useState("passport");
  const [country, setCountry] = useState("");
  const [problem, setProblem] = useState(null);
  const upload = useAction(async (key, form) => api("me/identity-documents", { method: "POST", body: form }));
  const { fields, general } = formErrors(upload.error);

  const submit = async (event) => {
    event.preventDefault();
    // The chosen file, from the form (a component passes no ref down to its input).
    const input = event.currentTarget.elements.namedItem("file");
    const file = input?.files?.[0];
    const wrong = fileProblem(file);
    setProblem(wrong);
    if (wrong) return;
    const form = new FormData();
    form.append("kind", kind);
    form.append("country", country.trim().toUpperCase());
    form.append("file", file);
    const created = await upload.run(form);
    if (!created) return;
    input.value = "";
    notify(() => t("identity.sent"));
    onSent();
  };
  const countryError =
    fields.country && fields.country.code !== "required" && fields.country.code !== "blank"
      ? { code: "", message: t("identity.countryInvalid") }
      : fields.country;
  // The server tells a file's type and size by its content: any refusal of it says the rule.
  const fileError = problem || fields.file ? { code: "", message: t(problem || "identity.fileInvalid") } : null;

  return html`<form class="form" onSubmit=${submit} noValidate>
    <${ErrorNotice} error=${general} />
    <${Field}
      as="select"
      label=${t("identity.kind")}
      name="kind"
      value=${kind}
      onChange=${(event) => setKind(event.currentTarget.value)}
      error=${fields.kind}
    >
      ${KINDS.map((each) => html`<option value=${each}>${t(`identity.kind.${each}`)}</option>`)}
    <//>
    <${Field}
      label=${t("identity.country")}
      hint=${t("identity.countryHint")}
      name="country"
      autocomplete="country"
      autocapitalize="characters"
      maxlength="2"
      required
      value=${country}
      onInput=${(event) => setCountry(event.currentTarget.value)}
      error=${countryError}
    />
    <${Field}
      label=${t("identity.file")}
      hint=${t("identity.fileHint")}
      name="file"
      type="file"
      accept="image/jpeg,image/png,image/webp,application/pdf"
      required
      onChange=${() => setProblem(null)}
      error=${fileError}
    />
    <${Button} type="submit" busy=${upload.busy}>${t("identity.submit")}<//>
  </form>`;
}

export function IdentityScreen({ me }) {
  const list = usePaged("me/identity-documents");
  const documents = list.data?.results || [];
  const pending = documents.some((doc) => doc.status === "pending");
  const verified = me?.identity_level >= 2 || documents.some((doc) => doc.status === "approved");
  return html`<${Screen} title=${t("identity.title")}>
    <${BackToAccount} />
    <p class="lead">${t("identity.lead")}</p>
    ${verified ? html`<p class="notice notice-ok">${t("identity.verified")}</p>` : null}
    ${list.data && !pending && !verified
      ? html`<${Card}><${UploadForm} onSent=${list.reload} /><//>`
      : null}
    ${pending ? html`<p class="notice">${t("identity.pending")}</p>` : null}
    <${Card} title=${t("identity.history")}>
      <${Loaded} result=${list}>
        ${(data) =>
          data.results.length
            ? html`<ul class="list">
                  ${data.results.map((doc) => html`<${DocumentRow} key=${doc.id} document=${doc} />`)}
                </ul>
                <${Pager} list=${list} />`
            : html`<${Empty}>${t("identity.empty")}<//>`}
      <//>
    <//>
  <//>`;
}
