//! Every string the payer can see, in Russian (default), Kazakh and English. One struct per
//! language, so a missing translation does not compile.

use epay_api_types::{Language, PaymentMethod};

/// The words that differ between a card payment (`pay`, `showPaymentWidget`) and a
/// card-to-card transfer (`p2p`, `oct`, `aft`).
pub struct Wording {
    /// The button: "Оплатить" / "Перевести".
    pub act: &'static str,
    /// Before the fixed amount: "К оплате" / "К переводу".
    pub total: &'static str,
    pub creating: &'static str,
    pub done: &'static str,
    pub not_done: &'static str,
}

pub struct Texts {
    pub amount: &'static str,
    pub comment: &'static str,
    pub payment: Wording,
    pub transfer: Wording,
    pub redirecting: &'static str,
    pub retry: &'static str,
    pub sandbox: &'static str,
    pub powered_by: &'static str,
    /// The consent to save the card, when the shop offers it (unticked).
    pub save_card: &'static str,

    pub amount_empty: &'static str,
    pub amount_not_a_number: &'static str,
    pub amount_decimals: &'static str,
    pub amount_not_positive: &'static str,
    pub amount_min: &'static str,
    pub amount_max: &'static str,
    pub comment_too_long: &'static str,

    pub network: &'static str,
    pub unavailable: &'static str,
    pub refused: &'static str,
    pub in_progress: &'static str,
    pub finished: &'static str,
    pub rate_limited: &'static str,
    pub script_failed: &'static str,
    pub no_secure_random: &'static str,

    pub checking: &'static str,
    pub card: &'static str,
    pub waiting: &'static str,
    pub waiting_long: &'static str,
    pub check_again: &'static str,
    pub expired: &'static str,
    pub not_found: &'static str,
    pub try_again: &'static str,
    /// The fiscal receipt's link.
    pub receipt: &'static str,

    pub insufficient_funds: &'static str,
    pub retry_later: &'static str,
    pub declined: &'static str,
}

const RU: Texts = Texts {
    amount: "Сумма",
    comment: "Комментарий (необязательно)",
    payment: Wording {
        act: "Оплатить",
        total: "К оплате",
        creating: "Создаём платёж…",
        done: "Оплата прошла",
        not_done: "Оплата не прошла",
    },
    transfer: Wording {
        act: "Перевести",
        total: "К переводу",
        creating: "Создаём перевод…",
        done: "Перевод выполнен",
        not_done: "Перевод не выполнен",
    },
    redirecting: "Открываем страницу оплаты…",
    retry: "Повторить",
    sandbox: "Тестовый режим: деньги не списываются",
    powered_by: "Оплата через Halyk ePay",
    save_card: "Сохранить карту для следующих оплат в этом магазине",
    amount_empty: "Введите сумму",
    amount_not_a_number: "Введите сумму цифрами, например 1500 или 1500,50",
    amount_decimals: "Не больше двух знаков после запятой",
    amount_not_positive: "Сумма должна быть больше нуля",
    amount_min: "Минимальная сумма — ",
    amount_max: "Максимальная сумма — ",
    comment_too_long: "Комментарий слишком длинный",
    network: "Нет связи с платёжным сервисом. Проверьте интернет и повторите.",
    unavailable: "Платёжный сервис временно недоступен. Повторите через минуту.",
    refused: "Платёж не создан. Проверьте данные и повторите.",
    in_progress: "Платёж уже создаётся. Подождите секунду и повторите.",
    finished: "Этот платёж уже завершён. Обновите страницу, чтобы оплатить снова.",
    rate_limited: "Слишком много попыток. Подождите минуту.",
    script_failed: "Не удалось загрузить страницу оплаты. Повторите.",
    no_secure_random: "Этот браузер не умеет создавать защищённые ключи. Обновите браузер, чтобы заплатить.",
    checking: "Проверяем платёж…",
    card: "Карта",
    waiting: "Ждём подтверждения от банка…",
    waiting_long: "Подтверждение ещё не пришло. Если деньги списаны, заказ обновится автоматически — проверьте позже.",
    check_again: "Проверить снова",
    expired: "Время на оплату истекло. Деньги не списаны.",
    not_found: "Заказ не найден. Проверьте ссылку.",
    try_again: "Оплатить ещё раз",
    receipt: "Чек",
    insufficient_funds: "Недостаточно средств на карте.",
    retry_later: "Банк просит повторить попытку позже.",
    declined: "Банк отклонил платёж.",
};

const KK: Texts = Texts {
    amount: "Сома",
    comment: "Түсініктеме (міндетті емес)",
    payment: Wording {
        act: "Төлеу", total: "Төлеуге", creating: "Төлем жасалуда…", done: "Төлем өтті", not_done: "Төлем өтпеді"
    },
    transfer: Wording {
        act: "Аудару",
        total: "Аударуға",
        creating: "Аударым жасалуда…",
        done: "Аударым орындалды",
        not_done: "Аударым орындалмады",
    },
    redirecting: "Төлем беті ашылуда…",
    retry: "Қайталау",
    sandbox: "Тест режимі: ақша шешілмейді",
    powered_by: "Halyk ePay арқылы төлем",
    save_card: "Картаны осы дүкендегі келесі төлемдер үшін сақтау",
    amount_empty: "Соманы енгізіңіз",
    amount_not_a_number: "Соманы цифрмен енгізіңіз, мысалы 1500 немесе 1500,50",
    amount_decimals: "Үтірден кейін екі таңбадан артық емес",
    amount_not_positive: "Сома нөлден үлкен болуы керек",
    amount_min: "Ең аз сома — ",
    amount_max: "Ең көп сома — ",
    comment_too_long: "Түсініктеме тым ұзын",
    network: "Төлем қызметімен байланыс жоқ. Интернетті тексеріп, қайталаңыз.",
    unavailable: "Төлем қызметі уақытша қолжетімсіз. Бір минуттан кейін қайталаңыз.",
    refused: "Төлем жасалмады. Деректерді тексеріп, қайталаңыз.",
    in_progress: "Төлем жасалып жатыр. Сәл күтіп, қайталаңыз.",
    finished: "Бұл төлем аяқталған. Қайта төлеу үшін бетті жаңартыңыз.",
    rate_limited: "Әрекеттер тым көп. Бір минут күтіңіз.",
    script_failed: "Төлем бетін жүктеу мүмкін болмады. Қайталаңыз.",
    no_secure_random: "Бұл браузер қорғалған кілт жасай алмайды. Төлеу үшін браузерді жаңартыңыз.",
    checking: "Төлемді тексерудеміз…",
    card: "Карта",
    waiting: "Банктің растауын күтудеміз…",
    waiting_long: "Растау әлі келмеді. Ақша шешілсе, тапсырыс автоматты түрде жаңарады — кейінірек тексеріңіз.",
    check_again: "Қайта тексеру",
    expired: "Төлем уақыты өтті. Ақша шешілмеді.",
    not_found: "Тапсырыс табылмады. Сілтемені тексеріңіз.",
    try_again: "Қайта төлеу",
    receipt: "Чек",
    insufficient_funds: "Картада қаражат жеткіліксіз.",
    retry_later: "Банк кейінірек қайталауды сұрайды.",
    declined: "Банк төлемді қабылдамады.",
};

const EN: Texts = Texts {
    amount: "Amount",
    comment: "Comment (optional)",
    payment: Wording {
        act: "Pay",
        total: "To pay",
        creating: "Creating the payment…",
        done: "Payment successful",
        not_done: "Payment failed",
    },
    transfer: Wording {
        act: "Transfer",
        total: "To transfer",
        creating: "Creating the transfer…",
        done: "Transfer complete",
        not_done: "Transfer failed",
    },
    redirecting: "Opening the payment page…",
    retry: "Retry",
    sandbox: "Test mode: no money is charged",
    powered_by: "Paid through Halyk ePay",
    save_card: "Save the card for later payments in this shop",
    amount_empty: "Enter an amount",
    amount_not_a_number: "Enter the amount in digits, e.g. 1500 or 1500.50",
    amount_decimals: "At most two digits after the decimal point",
    amount_not_positive: "The amount must be greater than zero",
    amount_min: "The minimum amount is ",
    amount_max: "The maximum amount is ",
    comment_too_long: "The comment is too long",
    network: "Cannot reach the payment service. Check your connection and try again.",
    unavailable: "The payment service is temporarily unavailable. Try again in a minute.",
    refused: "The payment could not be created. Check the details and try again.",
    in_progress: "The payment is already being created. Wait a moment and try again.",
    finished: "This payment has already ended. Reload the page to pay again.",
    rate_limited: "Too many attempts. Please wait a minute.",
    script_failed: "The payment page could not be loaded. Try again.",
    no_secure_random: "This browser cannot create secure keys. Update it to pay.",
    checking: "Checking your payment…",
    card: "Card",
    waiting: "Waiting for the bank's confirmation…",
    waiting_long: "No confirmation yet. If money was taken, the order will update by itself; check again later.",
    check_again: "Check again",
    expired: "The payment window has closed. No money was taken.",
    not_found: "Order not found. Check the link.",
    try_again: "Pay again",
    receipt: "Receipt",
    insufficient_funds: "Insufficient funds on the card.",
    retry_later: "The bank asks to try again later.",
    declined: "The bank declined the payment.",
};

impl Texts {
    /// The words for `method`: a transfer's for p2p, oct and aft, a payment's otherwise.
    pub fn wording(&self, method: PaymentMethod) -> &Wording {
        if method.is_transfer() { &self.transfer } else { &self.payment }
    }
}

pub fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Ru => &RU,
        Language::Kk => &KK,
        Language::En => &EN,
    }
}

/// The payer-facing reason for an ePay decline: translated when the code is known, ePay's
/// own text otherwise.
pub fn decline_reason(texts: &Texts, code: Option<i64>, epay_reason: Option<&str>) -> String {
    match code {
        Some(484) => texts.insufficient_funds.to_owned(),
        Some(476) => texts.retry_later.to_owned(),
        _ => epay_reason.filter(|r| !r.trim().is_empty()).map_or_else(|| texts.declined.to_owned(), str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text_and_both_wordings() {
        for language in [Language::Ru, Language::Kk, Language::En] {
            let t = texts(language);
            for wording in [&t.payment, &t.transfer] {
                for text in [wording.act, wording.total, wording.creating, wording.done, wording.not_done] {
                    assert!(!text.trim().is_empty(), "{language:?}");
                }
            }
            assert_ne!(t.payment.act, t.transfer.act, "{language:?}: a payment and a transfer read differently");
        }
        assert_eq!(texts(Language::Kk).wording(PaymentMethod::Oct).act, "Аудару");
        assert_eq!(texts(Language::Ru).wording(PaymentMethod::Widget).act, "Оплатить");
    }

    #[test]
    fn known_decline_codes_are_translated_and_others_keep_epays_words() {
        let en = texts(Language::En);
        assert_eq!(decline_reason(en, Some(484), Some("x")), en.insufficient_funds);
        assert_eq!(decline_reason(en, Some(476), None), en.retry_later);
        assert_eq!(decline_reason(en, Some(-498), Some("описание ошибки")), "описание ошибки");
        assert_eq!(decline_reason(en, None, Some("  ")), en.declined);
    }
}
