// My score: the score on its dial, what makes it up (each factor's points against its
// most), what holds it back (reasons with tips), how it moved (an SVG chart with a table
// beside it), and a what-if simulator that asks the server and saves nothing. One module
// per panel; the messages in ./messages.js, the chart's scale in ./scale.js.
import { t } from "../../i18n.js";
import { html, Loaded, Screen, useApi } from "../../ui.js";

import { Factors } from "./factors.js";
import { History } from "./history.js";
import { Reasons } from "./reasons.js";
import { Summary } from "./summary.js";
import { WhatIf } from "./whatif.js";

export function ScoreScreen({ me }) {
  const score = useApi("me/score");
  return html`<${Screen} title=${t("nav.score")}>
    <${Loaded} result=${score}>
      ${(data) => html`
        <${Summary} score=${data} />
        <${Factors} score=${data} />
        <${Reasons} score=${data} />
        <${History} />
        <${WhatIf} score=${data} me=${me} />
      `}
    <//>
  <//>`;
}

