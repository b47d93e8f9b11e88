// My records: what the score is made of (credit records, each disputable), the disputes
// and their outcomes, the damage claims (pay or dispute them) and the stays behind them.
// Four tabs, one module each; the one shown is the route's `tab` parameter
// (#/records?tab=claims). The messages are in ./messages.js.
import { t } from "../../i18n.js";
import { html, Screen, Tabs } from "../../ui.js";

import { BookingsPanel } from "./bookings.js";
import { ClaimsPanel } from "./claims.js";
import { TABS } from "./common.js";
import { DisputesPanel } from "./disputes.js";
import { RecordsPanel } from "./records.js";

const PANELS = {
  records: RecordsPanel,
  disputes: DisputesPanel,
  claims: ClaimsPanel,
  bookings: BookingsPanel,
};

export function RecordsScreen({ params = {}, navigate }) {
  const tab = TABS.includes(params.tab) ? params.tab : "records";
  const Panel = PANELS[tab];
  return html`<${Screen} title=${t("nav.records")}>
    <${Tabs}
      id="records"
      label=${t("records.tabs")}
      tabs=${TABS.map((key) => ({ key, label: t(`records.tab.${key}`) }))}
      current=${tab}
      onSelect=${(next) => navigate("records", { tab: next })}
      class="records-tabs"
    />
    <div
      role="tabpanel"
      id=${`records-panel-${tab}`}
      aria-labelledby=${`records-tab-${tab}`}
      tabindex="0"
      class="records-panel"
    >
      <${Panel} key=${tab} params=${params} navigate=${navigate} />
    </div>
  <//>`;
}

