// Who looked: every read of my score or facts by someone else (a merchant with my consent,
// or Open Sesame support), why, and which facts, newest first. The sentences are in
// ./purpose.js, the messages in ./messages.js.
import { formatDateTime, formatRelative, has, t } from "../../i18n.js";
import { api } from "../../api.js";
import { Badge, Card, Empty, html, Loaded, Pager, Screen, useLoad, usePaged } from "../../ui.js";

import { decisionSentence, factsRead, purposeSentence } from "./purpose.js";

/** A translated sentence with the accessor's name, in bold, where `{who}` stands. */
function withName(sentence, name) {
  const at = sentence.indexOf("{who}");
  if (at < 0) return html`<strong>${name}</strong> ${sentence}`;
  return html`${sentence.slice(0, at)}<strong class="access-who">${name}</strong>${sentence.slice(at + 5)}`;
}

function KindBadge({ kind }) {
  if (!kind) return null;
  const label = has(`access.kind.${kind}`) ? t(`access.kind.${kind}`) : kind;
  return html`<${Badge} tone=${kind === "merchant" ? "neutral" : "warning"}>${label}<//>`;
}

function AccessRow({ entry, decisions }) {
  return html`<li class="access-entry">
    <div class="access-head">
      <p class="access-what">${withName(purposeSentence(entry), entry.accessor)}</p>
      <${KindBadge} kind=${entry.accessor_kind} />
    </div>
    <p class="muted">
      <time datetime=${entry.created_at}>
        ${formatDateTime(entry.created_at)} · ${formatRelative(entry.created_at)}
      </time>
    </p>
    <p>${factsRead(entry.facts)}</p>
    ${entry.decision_id ? html`<p class="access-decision">${decisionText(entry, decisions)}</p>` : null}
  </li>`;
}

/** What the entry's look-up decided, in words; said plainly when it could not be loaded. */
function decisionText(entry, decisions) {
  if (decisions.loading && !decisions.data) return t("common.loading");
  const decision = decisions.data?.[entry.decision_id];
  return decision ? decisionSentence(decision) : t("access.decisionUnknown");
}

/** The decisions of the entries shown, by id: one request for the page. */
function useDecisions(entries) {
  const ids = [...new Set((entries || []).map((entry) => entry.decision_id).filter(Boolean))];
  return useLoad(
    ids.length
      ? async (signal) => {
          const query = new URLSearchParams(ids.map((id) => ["id", id]));
          const page = await api(`me/decisions?${query}`, { signal });
          return Object.fromEntries(page.results.map((decision) => [decision.id, decision]));
        }
      : null,
    ids,
  );
}

export function AccessScreen() {
  const list = usePaged("me/access-log");
  const decisions = useDecisions(list.data?.results);
  return html`<${Screen} title=${t("nav.access")}>
    <p class="lead">${t("access.intro")}</p>
    <p><a href="#/consents">${t("access.consentsLink")}</a></p>
    <${Card}>
      <${Loaded} result=${list}>
        ${(data) =>
          data.results.length
            ? html`<p class="muted">${t("access.total", { count: data.count })}</p>
                <ul class="list" aria-busy=${list.loading ? "true" : "false"}>
                  ${data.results.map((entry) => html`<${AccessRow} key=${entry.id} entry=${entry} decisions=${decisions} />`)}
                </ul>
                <${Pager} list=${list} />`
            : html`<${Empty}>${t("access.empty")}<//>`}
      <//>
    <//>
  <//>`;
}

