// My data: everything Open Sesame holds about me, as one JSON file to download and keep.
// Fetched through the API (so a failure reads as a sentence), then saved from a Blob.
import { useCallback, useEffect, useRef, useState } from "../vendor/preact-htm.js";

import { api } from "../api.js";
import { formatList, register, t } from "../i18n.js";
import { Button, Card, ErrorNotice, html, Loading, Screen, useAction } from "../ui.js";

register({
  en: {
    "data.intro": "Download everything Open Sesame holds about you, in one file you can keep.",
    "data.included": "What the file holds",
    "data.section.profile": "Profile",
    "data.what.profile": "Your names, login name, email, identity level and when you joined.",
    "data.section.wallet": "Wallet",
    "data.what.wallet": "Your balance, what is held and what is available.",
    "data.section.transactions": "Transactions",
    "data.what.transactions": "Every payment in and out of your wallet.",
    "data.section.holds": "Holds",
    "data.what.holds": "Money set aside for deposits, and what became of it.",
    "data.section.bills": "Bills",
    "data.what.bills": "Every bill sent to you, paid or open.",
    "data.section.credit_events": "Credit events",
    "data.what.credit_events": "Each record your score is made of, and until when it counts.",
    "data.section.score_history": "Score history",
    "data.what.score_history": "Every score you had, with its reasons.",
    "data.section.disputes": "Disputes",
    "data.what.disputes": "The records and claims you disputed, and the outcome.",
    "data.section.consents": "Consents",
    "data.what.consents": "Who could ask about you, and until when.",
    "data.section.codes": "One-time codes",
    "data.what.codes": "When you made them and who used them (never the codes themselves).",
    "data.section.access_log": "Access log",
    "data.what.access_log": "Who looked at your score or facts, why and what they read.",
    "data.section.decisions": "Decisions",
    "data.what.decisions": "What merchants were told about you.",
    "data.section.bookings": "Bookings",
    "data.what.bookings": "Your stays and rentals.",
    "data.section.claims": "Claims",
    "data.what.claims": "Damage claims made against you.",
    "data.section.monitoring": "Fairness check",
    "data.what.monitoring": "The age band and sex you told us for the fairness check, if any, and when.",
    "data.download": "Download my data",
    "data.preparing": "Preparing your file…",
    "data.saved": "Saved as {filename}.",
    "data.summary": "It holds {list}.",
    "data.saveAgain": "Save the file again",
    "data.about": "About the file",
    "data.format":
      "The file is in JSON, a plain-text format that any program can read. Amounts are in minor units (cents), with their currency.",
    "data.safe":
      "It holds your personal data. Keep it somewhere safe and share it only with people you trust.",
    "data.count.transactions": { one: "{count} transaction", other: "{count} transactions" },
    "data.count.holds": { one: "{count} hold", other: "{count} holds" },
    "data.count.bills": { one: "{count} bill", other: "{count} bills" },
    "data.count.credit_events": { one: "{count} credit event", other: "{count} credit events" },
    "data.count.score_history": { one: "{count} score", other: "{count} scores" },
    "data.count.disputes": { one: "{count} dispute", other: "{count} disputes" },
    "data.count.consents": { one: "{count} consent", other: "{count} consents" },
    "data.count.codes": { one: "{count} one-time code", other: "{count} one-time codes" },
    "data.count.access_log": { one: "{count} look-up", other: "{count} look-ups" },
    "data.count.decisions": { one: "{count} decision", other: "{count} decisions" },
    "data.count.bookings": { one: "{count} booking", other: "{count} bookings" },
    "data.count.claims": { one: "{count} claim", other: "{count} claims" },
  },
  es: {
    "data.intro": "Descarga todo lo que Open Sesame guarda sobre ti en un solo archivo que puedes conservar.",
    "data.included": "Qué contiene el archivo",
    "data.section.profile": "Perfil",
    "data.what.profile": "Tu nombre, tu nombre de usuario, tu correo, tu nivel de identidad y cuándo te registraste.",
    "data.section.wallet": "Monedero",
    "data.what.wallet": "Tu saldo, lo retenido y lo disponible.",
    "data.section.transactions": "Movimientos",
    "data.what.transactions": "Cada entrada y salida de dinero de tu monedero.",
    "data.section.holds": "Retenciones",
    "data.what.holds": "El dinero apartado para depósitos y qué pasó con él.",
    "data.section.bills": "Facturas",
    "data.what.bills": "Todas las que te han enviado, pagadas o pendientes.",
    "data.section.credit_events": "Registros de crédito",
    "data.what.credit_events": "Cada registro que forma tu puntuación y hasta cuándo cuenta.",
    "data.section.score_history": "Historial de puntuación",
    "data.what.score_history": "Cada puntuación que has tenido, con sus motivos.",
    "data.section.disputes": "Reclamaciones",
    "data.what.disputes": "Los registros y cargos que has reclamado, y el resultado.",
    "data.section.consents": "Consentimientos",
    "data.what.consents": "Quién podía consultar sobre ti y hasta cuándo.",
    "data.section.codes": "Códigos de un solo uso",
    "data.what.codes": "Cuándo los creaste y quién los usó (nunca los códigos en sí).",
    "data.section.access_log": "Registro de consultas",
    "data.what.access_log": "Quién consultó tu puntuación o tus datos, por qué y qué leyó.",
    "data.section.decisions": "Decisiones",
    "data.what.decisions": "Lo que se comunicó a los comercios sobre ti.",
    "data.section.bookings": "Reservas",
    "data.what.bookings": "Tus estancias y alquileres.",
    "data.section.claims": "Cargos por daños",
    "data.what.claims": "Los que te han reclamado.",
    "data.section.monitoring": "Comprobación de equidad",
    "data.what.monitoring": "El grupo de edad y el sexo que nos dijiste para la comprobación de equidad, si lo hiciste, y cuándo.",
    "data.download": "Descargar mis datos",
    "data.preparing": "Preparando tu archivo…",
    "data.saved": "Guardado como {filename}.",
    "data.summary": "Contiene {list}.",
    "data.saveAgain": "Guardar el archivo de nuevo",
    "data.about": "Sobre el archivo",
    "data.format":
      "El archivo está en JSON, un formato de texto que cualquier programa puede leer. Los importes están en unidades menores (céntimos), junto a su moneda.",
    "data.safe":
      "Contiene tus datos personales. Guárdalo en un lugar seguro y compártelo solo con personas de confianza.",
    "data.count.transactions": { one: "{count} movimiento", other: "{count} movimientos" },
    "data.count.holds": { one: "{count} retención", other: "{count} retenciones" },
    "data.count.bills": { one: "{count} factura", other: "{count} facturas" },
    "data.count.credit_events": { one: "{count} registro de crédito", other: "{count} registros de crédito" },
    "data.count.score_history": { one: "{count} puntuación", other: "{count} puntuaciones" },
    "data.count.disputes": { one: "{count} reclamación", other: "{count} reclamaciones" },
    "data.count.consents": { one: "{count} consentimiento", other: "{count} consentimientos" },
    "data.count.codes": { one: "{count} código de un solo uso", other: "{count} códigos de un solo uso" },
    "data.count.access_log": { one: "{count} consulta", other: "{count} consultas" },
    "data.count.decisions": { one: "{count} decisión", other: "{count} decisiones" },
    "data.count.bookings": { one: "{count} reserva", other: "{count} reservas" },
    "data.count.claims": { one: "{count} cargo por daños", other: "{count} cargos por daños" },
  },
  "zh-Hans": {
    "data.intro": "下载 Open Sesame 保存的关于您的全部数据，保存为一个可留存的文件。",
    "data.included": "文件包含的内容",
    "data.section.profile": "个人资料",
    "data.what.profile": "您的姓名、用户名、邮箱、身份验证级别和注册时间。",
    "data.section.wallet": "钱包",
    "data.what.wallet": "余额、冻结金额和可用金额。",
    "data.section.transactions": "交易",
    "data.what.transactions": "钱包的每一笔收入和支出。",
    "data.section.holds": "冻结",
    "data.what.holds": "为押金冻结的资金及其结果。",
    "data.section.bills": "账单",
    "data.what.bills": "发给您的每一张账单，无论已付或待付。",
    "data.section.credit_events": "信用记录",
    "data.what.credit_events": "构成您评分的每条记录，以及其计入的期限。",
    "data.section.score_history": "评分历史",
    "data.what.score_history": "您的每一次评分及其原因。",
    "data.section.disputes": "异议",
    "data.what.disputes": "您提出异议的记录和索赔，以及处理结果。",
    "data.section.consents": "授权",
    "data.what.consents": "谁可以查询您的信息，以及期限。",
    "data.section.codes": "一次性码",
    "data.what.codes": "您生成的时间和使用者（绝不包括码本身）。",
    "data.section.access_log": "查询记录",
    "data.what.access_log": "谁查询了您的评分或信息、原因和读取的内容。",
    "data.section.decisions": "决定",
    "data.what.decisions": "商户得到的关于您的结果。",
    "data.section.bookings": "预订",
    "data.what.bookings": "您的住宿和租赁。",
    "data.section.claims": "索赔",
    "data.what.claims": "针对您的损坏索赔。",
    "data.section.monitoring": "公平性检查",
    "data.what.monitoring": "您为公平性检查提供的年龄段和性别（如有）及提供时间。",
    "data.download": "下载我的数据",
    "data.preparing": "正在准备您的文件…",
    "data.saved": "已保存为 {filename}。",
    "data.summary": "其中包含{list}。",
    "data.saveAgain": "再次保存文件",
    "data.about": "关于此文件",
    "data.format": "文件为 JSON 格式，是任何程序都能读取的纯文本。金额以最小货币单位（分）表示，并注明币种。",
    "data.safe": "文件包含您的个人数据，请妥善保管，只与您信任的人分享。",
    "data.count.transactions": { other: "{count}笔交易" },
    "data.count.holds": { other: "{count}笔冻结" },
    "data.count.bills": { other: "{count}张账单" },
    "data.count.credit_events": { other: "{count}条信用记录" },
    "data.count.score_history": { other: "{count}次评分" },
    "data.count.disputes": { other: "{count}项异议" },
    "data.count.consents": { other: "{count}项授权" },
    "data.count.codes": { other: "{count}个一次性码" },
    "data.count.access_log": { other: "{count}次查询" },
    "data.count.decisions": { other: "{count}项决定" },
    "data.count.bookings": { other: "{count}个预订" },
    "data.count.claims": { other: "{count}项索赔" },
  },
});

const SECTIONS = [
  "profile",
  "wallet",
  "transactions",
  "holds",
  "bills",
  "credit_events",
  "score_history",
  "disputes",
  "consents",
  "codes",
  "access_log",
  "decisions",
  "bookings",
  "claims",
  "monitoring",
];

// The counted sections, each from the export's own keys (see merchants/privacy/export.py).
const COUNTED = [
  ["transactions", ["transactions"]],
  ["bills", ["bills"]],
  ["holds", ["holds"]],
  ["credit_events", ["credit_events"]],
  ["score_history", ["score_history"]],
  ["disputes", ["disputes", "claim_disputes"]],
  ["consents", ["consents"]],
  ["codes", ["authorization_codes"]],
  ["access_log", ["access_log"]],
  ["decisions", ["decisions"]],
  ["bookings", ["bookings"]],
  ["claims", ["claims"]],
];

function countsOf(document) {
  return COUNTED.map(([name, keys]) => [
    name,
    keys.reduce((sum, key) => sum + (Array.isArray(document[key]) ? document[key].length : 0), 0),
  ]);
}

function summary(counts) {
  const parts = counts.map(([name, count]) => t(`data.count.${name}`, { count }));
  const list = formatList(parts);
  return t("data.summary", { list });
}

/** Today in the phone's own calendar, as YYYY-MM-DD. */
function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function save(url, filename) {
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  link.style.display = "none";
  document.body.appendChild(link);
  link.click();
  link.remove();
}

export function DataScreen() {
  const [file, setFile] = useState(null); // {url, filename, counts}
  const urlRef = useRef(null);
  useEffect(
    () => () => {
      if (urlRef.current) URL.revokeObjectURL(urlRef.current);
    },
    [],
  );
  const download = useAction(useCallback(() => api("me/export"), []));

  const start = async () => {
    const document_ = await download.run();
    if (!document_) return;
    const blob = new Blob([JSON.stringify(document_, null, 2)], { type: "application/json" });
    if (urlRef.current) URL.revokeObjectURL(urlRef.current);
    const url = URL.createObjectURL(blob);
    urlRef.current = url;
    const filename = `open-sesame-data-${today()}.json`;
    setFile({ url, filename, counts: countsOf(document_) });
    save(url, filename);
  };

  return html`<${Screen} title=${t("nav.data")}>
    <p class="lead">${t("data.intro")}</p>
    <${Card} class="data-download">
      <${Button} busy=${download.busy} onClick=${start}>${t("data.download")}<//>
      ${download.busy ? html`<${Loading} label=${t("data.preparing")} />` : null}
      <${ErrorNotice} error=${download.error} />
      ${file && !download.busy
        ? html`<div class="notice notice-ok data-result" role="status">
            <p>${t("data.saved", { filename: file.filename })}</p>
            <p>${summary(file.counts)}</p>
            <a class="button button-secondary" href=${file.url} download=${file.filename}>
              ${t("data.saveAgain")}
            </a>
          </div>`
        : null}
    <//>
    <${Card} title=${t("data.included")}>
      <ul class="data-sections">
        ${SECTIONS.map(
          (name) => html`<li key=${name}>
            <strong>${t(`data.section.${name}`)}</strong>
            <span>${t(`data.what.${name}`)}</span>
          </li>`,
        )}
      </ul>
    <//>
    <${Card} title=${t("data.about")}>
      <p>${t("data.format")}</p>
      <p><strong>${t("data.safe")}</strong></p>
    <//>
  <//>`;
}
