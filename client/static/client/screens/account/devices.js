// Devices: every session and app token of the account, when it logged in and was last
// used; log one out, or every one at once (this one included).
import { api } from "../../api.js";
import { formatDate, formatRelative, t } from "../../i18n.js";
import {
  Badge,
  Card,
  ConfirmButton,
  Empty,
  ErrorNotice,
  html,
  Loaded,
  notify,
  Pager,
  Screen,
  useAction,
  usePaged,
} from "../../ui.js";

import "./messages.js";
import { BackToAccount } from "./profile.js";
import { deviceName } from "./texts.js";

function DeviceRow({ device, onRevoked, onSignedOut }) {
  const name = deviceName(device);
  const revoke = useAction(async () => api(`me/sessions/${encodeURIComponent(device.id)}/revoke`, { method: "POST" }));
  const run = async () => {
    const result = await revoke.run();
    if (result === undefined) return;
    if (device.current) {
      onSignedOut?.();
      return;
    }
    notify(() => t("devices.revoked", { device: name }));
    onRevoked();
  };
  return html`<li class="device">
    <div class="row">
      <h2 class="device-name">${name}</h2>
      ${device.current ? html`<${Badge} tone="ok">${t("devices.this")}<//>` : null}
    </div>
    <p class="muted">
      ${t(`devices.kind.${device.kind}`)} ·
      <time datetime=${device.created_at}>${t("devices.since", { date: formatDate(device.created_at) })}</time>
    </p>
    <p class="muted">
      <time datetime=${device.last_used_at}>${t("devices.lastUsed", { when: formatRelative(device.last_used_at) })}</time>
    </p>
    <${ErrorNotice} error=${revoke.error} />
    <${ConfirmButton}
      variant="secondary"
      question=${t("devices.revokeQuestion", { device: name })}
      confirmLabel=${t("devices.revoke")}
      busy=${revoke.busy}
      onConfirm=${run}
    >
      ${t("devices.revoke")}
    <//>
  </li>`;
}

export function DevicesScreen({ onSignedOut }) {
  const list = usePaged("me/sessions");
  const everywhere = useAction(async () => api("auth/logout-all", { method: "POST" }));
  const logoutAll = async () => {
    const result = await everywhere.run();
    if (result === undefined) return;
    notify(() => t("devices.loggedOut"));
    onSignedOut?.();
  };
  return html`<${Screen} title=${t("devices.title")}>
    <${BackToAccount} />
    <p class="lead">${t("devices.lead")}</p>
    <${Card}>
      <${Loaded} result=${list}>
        ${(data) =>
          data.results.length
            ? html`<ul class="list devices" aria-busy=${list.loading ? "true" : "false"}>
                  ${data.results.map(
                    (device) =>
                      html`<${DeviceRow}
                        key=${device.id}
                        device=${device}
                        onRevoked=${list.reload}
                        onSignedOut=${onSignedOut}
                      />`,
                  )}
                </ul>
                <${Pager} list=${list} />`
            : html`<${Empty}>${t("devices.empty")}<//>`}
      <//>
    <//>
    <${Card} title=${t("devices.all")}>
      <p>${t("devices.allText")}</p>
      <${ErrorNotice} error=${everywhere.error} />
      <${ConfirmButton}
        variant="danger"
        question=${t("devices.allQuestion")}
        confirmLabel=${t("devices.all")}
        busy=${everywhere.busy}
        onConfirm=${logoutAll}
      >
        ${t("devices.all")}
      <//>
    <//>
  <//>`;
}
