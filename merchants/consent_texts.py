"""The consent texts a citizen is shown when they make a one-time code, versioned and in
their language (English, Spanish, Chinese).

The text shown is stored, word for word, on the code and on the consent it becomes
(``text``, ``text_version``, ``language``): what the citizen agreed to is what they read,
even after the wording here changes. Change a wording only by adding a new version
(``CURRENT_VERSION``); a stored text is never re-rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.money import format_money

# The Chinese texts use Chinese punctuation (full-width commas, colons), on purpose.
# ruff: noqa: RUF001

LANGUAGES = ("en", "es", "zh")
DEFAULT_LANGUAGE = "en"
CURRENT_VERSION = "1"

# (version, scope) → language → template. Placeholders: {merchant} (who may redeem the
# code), {days} (how long a deposit waiver lasts), {max_bill} and {max_monthly} (billing
# limits, formatted with their currency).
_TEMPLATES: dict[tuple[str, str], dict[str, str]] = {
    ("1", "deposit_waiver"): {
        "en": (
            "I let {merchant} see whether I qualify for a deposit waiver and book under "
            "it for {days} days. It learns the reasons for its answer, never my score. It "
            "may hold the deposit agreed at booking in my wallet and charge a damage claim "
            "up to that deposit, which I can accept or dispute. I can revoke this consent "
            "at any time in the app."
        ),
        "es": (
            "Permito que {merchant} compruebe si tengo derecho a no pagar fianza y reserve "
            "con ella durante {days} días. Conoce los motivos de su respuesta, nunca mi "
            "puntuación. Puede retener en mi monedero la fianza acordada al reservar y "
            "cobrar una reclamación por daños de hasta esa fianza, que puedo aceptar o "
            "disputar. Puedo revocar este consentimiento en cualquier momento en la app."
        ),
        "zh": (
            "我允许{merchant}查看我是否有资格免押金，并在{days}天内据此预订。它只能看到答复的原因，"
            "看不到我的评分。它可以在我的钱包中冻结预订时约定的押金，并就损坏索赔最多收取该押金，"
            "我可以接受或提出异议。我可以随时在应用中撤销此同意。"
        ),
    },
    ("1", "billing"): {
        "en": (
            "I let {merchant} bill me from my wallet until I revoke this consent: no single "
            "bill over {max_bill}, and no more than {max_monthly} in one calendar month. "
            "Each bill is due at least 7 days after it is issued; a bill still unpaid 30 "
            "days after its due date is reported on my record. I can revoke this consent at "
            "any time in the app."
        ),
        "es": (
            "Permito que {merchant} me facture desde mi monedero hasta que revoque este "
            "consentimiento: ninguna factura de más de {max_bill} y no más de {max_monthly} "
            "en un mes natural. Cada factura vence al menos 7 días después de emitirse; una "
            "factura sin pagar 30 días después de su vencimiento se anota en mi historial. "
            "Puedo revocar este consentimiento en cualquier momento en la app."
        ),
        "zh": (
            "我允许{merchant}从我的钱包向我收费，直到我撤销此同意：单张账单不超过{max_bill}，"
            "每个自然月合计不超过{max_monthly}。每张账单的到期日至少在开具后7天；"
            "到期后30天仍未支付的账单会记入我的信用记录。我可以随时在应用中撤销此同意。"
        ),
    },
}

_ANY_MERCHANT = {
    "en": "the merchant I show this code to",
    "es": "el comercio al que muestre este código",
    "zh": "我出示此代码的商户",
}


@dataclass(frozen=True, slots=True)
class ConsentText:
    """A consent text as shown: the words, their version and language."""

    text: str
    version: str
    language: str


def language_choose(*, requested: str | None, accept_language: str = "") -> str:
    """The citizen's language: the one they asked for (``language``), else the first of
    ours their ``Accept-Language`` names (by weight), else English."""
    if requested in LANGUAGES:
        return requested
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            weighted.append((-weight, index, primary))
    return min(weighted)[2] if weighted else DEFAULT_LANGUAGE


def consent_text(
    *,
    scope: str,
    language: str,
    merchant_name: str | None,
    currency: str,
    days: int,
    max_bill_amount: int | None = None,
    max_monthly_amount: int | None = None,
) -> ConsentText:
    """The current text for a code of ``scope``, in ``language``, with its terms filled
    in (the merchant it names, or any; the billing limits in ``currency``)."""
    if language not in LANGUAGES:
        raise ValueError(f"Unknown language {language!r}; one of {', '.join(LANGUAGES)}.")
    template = _TEMPLATES[(CURRENT_VERSION, scope)][language]
    text = template.format(
        merchant=merchant_name or _ANY_MERCHANT[language],
        days=days,
        max_bill=format_money(max_bill_amount, currency) if max_bill_amount else "",
        max_monthly=format_money(max_monthly_amount, currency) if max_monthly_amount else "",
    )
    return ConsentText(text=text, version=CURRENT_VERSION, language=language)
