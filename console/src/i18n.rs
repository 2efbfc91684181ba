//! The console's words in Russian, Kazakh and English. Pure. The server's messages (English)
//! are shown as details under a translated headline.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ru,
    Kk,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Ru, Lang::Kk, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Kk => "kk",
            Lang::En => "en",
        }
    }

    /// A stored choice or the browser's language ("kk-KZ", "en-US"...); Russian otherwise.
    pub fn from_code(code: &str) -> Lang {
        match code.get(..2).unwrap_or("").to_ascii_lowercase().as_str() {
            "kk" | "kz" => Lang::Kk,
            "en" => Lang::En,
            _ => Lang::Ru,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Lang::Ru => "РУС",
            Lang::Kk => "ҚАЗ",
            Lang::En => "ENG",
        }
    }
}

pub struct Texts {
    pub title: &'static str,
    pub nav_home: &'static str,
    pub nav_orders: &'static str,
    pub sign_out: &'static str,
    pub role_viewer: &'static str,
    pub role_operator: &'static str,
    pub loading: &'static str,
    pub retry: &'static str,
    pub failed_to_load: &'static str,
    pub sign_in_title: &'static str,
    pub user: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub wrong_credentials: &'static str,
    /// `{n}`: minutes.
    pub locked: &'static str,
    pub session_ended: &'static str,
    pub forbidden: &'static str,
    pub today: &'static str,
    pub week: &'static str,
    pub paid: &'static str,
    pub failed: &'static str,
    pub refunded: &'static str,
    pub waiting: &'static str,
    pub in_review: &'static str,
    pub expired: &'static str,
    pub reviews_open: &'static str,
    pub webhook_backlog: &'static str,
    /// `{n}`: minutes.
    pub oldest_waits: &'static str,
    pub status: &'static str,
    pub all: &'static str,
    pub search: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub find: &'static str,
    pub export: &'static str,
    pub more: &'static str,
    pub no_orders: &'static str,
    pub invoice: &'static str,
    pub created: &'static str,
    pub amount: &'static str,
    pub reference: &'static str,
    pub card: &'static str,
    pub back: &'static str,
    pub payment: &'static str,
    pub card_type: &'static str,
    pub issuer: &'static str,
    pub approval_code: &'static str,
    pub fee: &'static str,
    pub bonus: &'static str,
    pub transaction: &'static str,
    pub captured: &'static str,
    pub refunded_amount: &'static str,
    pub description: &'static str,
    pub contacts: &'static str,
    pub timeline: &'static str,
    pub post_links: &'static str,
    pub operations: &'static str,
    pub webhooks: &'static str,
    pub resend: &'static str,
    pub attempts: &'static str,
    pub review_reason: &'static str,
    pub actions: &'static str,
    pub refund: &'static str,
    pub refund_amount: &'static str,
    pub reason: &'static str,
    pub capture: &'static str,
    pub cancel_hold: &'static str,
    pub confirm_question: &'static str,
    pub confirm: &'static str,
    pub dismiss: &'static str,
    pub resolve_title: &'static str,
    pub checked: &'static str,
    pub note: &'static str,
    pub done: &'static str,
    pub viewer_note: &'static str,
    pub nothing: &'static str,
    pub resolution: &'static str,
    pub status_checks: &'static str,
    pub received: &'static str,
    pub verdict: &'static str,
    pub message: &'static str,
}

const RU: Texts = Texts {
    title: "Консоль ePay",
    nav_home: "Главная",
    nav_orders: "Заказы",
    sign_out: "Выйти",
    role_viewer: "наблюдатель",
    role_operator: "оператор",
    loading: "Загрузка…",
    retry: "Повторить",
    failed_to_load: "Не удалось загрузить.",
    sign_in_title: "Вход в консоль",
    user: "Имя",
    password: "Пароль",
    sign_in: "Войти",
    wrong_credentials: "Неверное имя или пароль.",
    locked: "Слишком много неудачных попыток: вход под этим именем закрыт ещё на {n} мин.",
    session_ended: "Сессия закончилась. Войдите снова.",
    forbidden: "Это действие вам недоступно.",
    today: "Сегодня",
    week: "С понедельника",
    paid: "Оплачено",
    failed: "Не прошло",
    refunded: "Возвращено",
    waiting: "Ждут оплаты",
    in_review: "На проверке",
    expired: "Истекли",
    reviews_open: "Заказы на проверке",
    webhook_backlog: "Уведомления магазину ждут отправки",
    oldest_waits: "самое старое ждёт {n} мин.",
    status: "Статус",
    all: "Все",
    search: "Номер, заказ магазина, карта, e-mail, телефон",
    from: "С",
    to: "По",
    find: "Найти",
    export: "Выгрузить CSV",
    more: "Ещё",
    no_orders: "Заказов нет.",
    invoice: "Номер",
    created: "Создан",
    amount: "Сумма",
    reference: "Заказ магазина",
    card: "Карта",
    back: "← Заказы",
    payment: "Платёж",
    card_type: "Тип карты",
    issuer: "Банк",
    approval_code: "Код авторизации",
    fee: "Комиссия",
    bonus: "Бонусами",
    transaction: "Транзакция",
    captured: "Списано",
    refunded_amount: "Возвращено",
    description: "Описание",
    contacts: "Контакты",
    timeline: "История",
    post_links: "Уведомления ePay (postLink)",
    operations: "Операции",
    webhooks: "Уведомления магазину (webhooks)",
    resend: "Отправить снова",
    attempts: "Попытки",
    review_reason: "Почему на проверке",
    actions: "Действия",
    refund: "Вернуть деньги",
    refund_amount: "Сумма (пусто — всё)",
    reason: "Причина",
    capture: "Списать",
    cancel_hold: "Снять блокировку",
    confirm_question: "Подтвердите:",
    confirm: "Подтвердить",
    dismiss: "Отмена",
    resolve_title: "Решение по проверке",
    checked: "Что проверено (например, кабинет ePay)",
    note: "Заметка",
    done: "Готово.",
    viewer_note: "Вы наблюдатель: возвраты, списания и решения доступны операторам.",
    nothing: "Нет.",
    resolution: "Решение",
    status_checks: "Запросы статуса в ePay",
    received: "Получено",
    verdict: "Вердикт",
    message: "Ответ ePay",
};

const KK: Texts = Texts {
    title: "ePay консолі",
    nav_home: "Басты бет",
    nav_orders: "Тапсырыстар",
    sign_out: "Шығу",
    role_viewer: "бақылаушы",
    role_operator: "оператор",
    loading: "Жүктелуде…",
    retry: "Қайталау",
    failed_to_load: "Жүктеу мүмкін болмады.",
    sign_in_title: "Консольге кіру",
    user: "Аты",
    password: "Құпиясөз",
    sign_in: "Кіру",
    wrong_credentials: "Аты немесе құпиясөз қате.",
    locked: "Сәтсіз әрекеттер тым көп: бұл атпен кіру тағы {n} мин. жабық.",
    session_ended: "Сессия аяқталды. Қайта кіріңіз.",
    forbidden: "Бұл әрекет сізге қолжетімсіз.",
    today: "Бүгін",
    week: "Дүйсенбіден бері",
    paid: "Төленді",
    failed: "Өтпеді",
    refunded: "Қайтарылды",
    waiting: "Төлем күтуде",
    in_review: "Тексеруде",
    expired: "Мерзімі өтті",
    reviews_open: "Тексерудегі тапсырыстар",
    webhook_backlog: "Дүкенге жіберілмеген хабарламалар",
    oldest_waits: "ең ескісі {n} мин. күтуде",
    status: "Күйі",
    all: "Барлығы",
    search: "Нөмір, дүкен тапсырысы, карта, e-mail, телефон",
    from: "Бастап",
    to: "Дейін",
    find: "Іздеу",
    export: "CSV жүктеу",
    more: "Тағы",
    no_orders: "Тапсырыстар жоқ.",
    invoice: "Нөмір",
    created: "Құрылды",
    amount: "Сома",
    reference: "Дүкен тапсырысы",
    card: "Карта",
    back: "← Тапсырыстар",
    payment: "Төлем",
    card_type: "Карта түрі",
    issuer: "Банк",
    approval_code: "Авторизация коды",
    fee: "Комиссия",
    bonus: "Бонуспен",
    transaction: "Транзакция",
    captured: "Есептен шығарылды",
    refunded_amount: "Қайтарылды",
    description: "Сипаттама",
    contacts: "Байланыс",
    timeline: "Тарих",
    post_links: "ePay хабарламалары (postLink)",
    operations: "Операциялар",
    webhooks: "Дүкенге хабарламалар (webhooks)",
    resend: "Қайта жіберу",
    attempts: "Әрекеттер",
    review_reason: "Неге тексеруде",
    actions: "Әрекеттер",
    refund: "Ақшаны қайтару",
    refund_amount: "Сома (бос — барлығы)",
    reason: "Себебі",
    capture: "Есептен шығару",
    cancel_hold: "Бұғатты алу",
    confirm_question: "Растаңыз:",
    confirm: "Растау",
    dismiss: "Бас тарту",
    resolve_title: "Тексеру бойынша шешім",
    checked: "Не тексерілді (мысалы, ePay кабинеті)",
    note: "Ескертпе",
    done: "Дайын.",
    viewer_note: "Сіз бақылаушысыз: қайтару, есептен шығару және шешімдер операторларға қолжетімді.",
    nothing: "Жоқ.",
    resolution: "Шешім",
    status_checks: "ePay-дағы күй сұраулары",
    received: "Алынды",
    verdict: "Шешім",
    message: "ePay жауабы",
};

const EN: Texts = Texts {
    title: "ePay console",
    nav_home: "Home",
    nav_orders: "Orders",
    sign_out: "Sign out",
    role_viewer: "viewer",
    role_operator: "operator",
    loading: "Loading…",
    retry: "Retry",
    failed_to_load: "Could not load.",
    sign_in_title: "Sign in to the console",
    user: "Name",
    password: "Password",
    sign_in: "Sign in",
    wrong_credentials: "Wrong name or password.",
    locked: "Too many failed attempts: this name is locked for {n} more min.",
    session_ended: "Your session ended. Sign in again.",
    forbidden: "You may not do this.",
    today: "Today",
    week: "Since Monday",
    paid: "Paid",
    failed: "Failed",
    refunded: "Refunded",
    waiting: "Waiting",
    in_review: "In review",
    expired: "Expired",
    reviews_open: "Orders in review",
    webhook_backlog: "Shop notifications waiting",
    oldest_waits: "the oldest has waited {n} min.",
    status: "Status",
    all: "All",
    search: "Invoice, shop order, card, e-mail, phone",
    from: "From",
    to: "To",
    find: "Search",
    export: "Export CSV",
    more: "More",
    no_orders: "No orders.",
    invoice: "Invoice",
    created: "Created",
    amount: "Amount",
    reference: "Shop order",
    card: "Card",
    back: "← Orders",
    payment: "Payment",
    card_type: "Card type",
    issuer: "Bank",
    approval_code: "Approval code",
    fee: "Fee",
    bonus: "Paid with bonuses",
    transaction: "Transaction",
    captured: "Charged",
    refunded_amount: "Refunded",
    description: "Description",
    contacts: "Contacts",
    timeline: "History",
    post_links: "ePay notifications (postLink)",
    operations: "Operations",
    webhooks: "Shop notifications (webhooks)",
    resend: "Send again",
    attempts: "Attempts",
    review_reason: "Why in review",
    actions: "Actions",
    refund: "Refund",
    refund_amount: "Amount (empty: all)",
    reason: "Reason",
    capture: "Capture",
    cancel_hold: "Release the hold",
    confirm_question: "Please confirm:",
    confirm: "Confirm",
    dismiss: "Cancel",
    resolve_title: "Resolve the review",
    checked: "What you checked (e.g. ePay's cabinet)",
    note: "Note",
    done: "Done.",
    viewer_note: "You are a viewer: refunds, captures and decisions are for operators.",
    nothing: "None.",
    resolution: "Decision",
    status_checks: "ePay status questions",
    received: "Received",
    verdict: "Verdict",
    message: "ePay's answer",
};

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Ru => &RU,
        Lang::Kk => &KK,
        Lang::En => &EN,
    }
}

/// An order's merchant status or proxy state, as a person reads it.
/// A review decision as people read it: a payment's (`paid`, `failed`, `refund`) or a capture's,
/// cancel's or refund's (`done`, `not_done`, `send_again`).
pub fn decision_label(lang: Lang, decision: &str) -> &'static str {
    in_language(
        lang,
        match decision {
            "paid" => ["Оплачен", "Төленді", "Paid"],
            "failed" => ["Не оплачен", "Төленбеді", "Not paid"],
            "refund" => ["Вернуть деньги", "Ақшаны қайтару", "Refund the money"],
            "done" => ["ePay выполнил операцию", "ePay операцияны орындады", "ePay did it"],
            "not_done" => ["ePay не выполнил: отменить", "ePay орындамады: бас тарту", "ePay did not: abandon it"],
            "send_again" => ["Отправить ещё раз (тот же externalID)", "Қайта жіберу (сол externalID)", "Send it again (same externalID)"],
            "epay_ledger" => ["Записать, как показывает ePay сейчас", "ePay қазір көрсеткендей жазу", "Record what ePay shows now"],
            _ => ["—", "—", "—"],
        },
    )
}

pub fn status_label(lang: Lang, status: &str) -> &'static str {
    in_language(
        lang,
        match status {
            "open" => ["Открыт", "Ашық", "Open"],
            "pending" | "created" => ["Ожидает оплаты", "Төлем күтуде", "Awaiting payment"],
            "confirming" => ["Проверяется в ePay", "ePay-да тексерілуде", "Being confirmed"],
            "review" => ["На проверке", "Тексеруде", "In review"],
            "authorized" => ["Заблокирован (холд)", "Бұғатталған (холд)", "Authorized (held)"],
            "paid" => ["Оплачен", "Төленді", "Paid"],
            "refunded" => ["Возвращён", "Қайтарылды", "Refunded"],
            "cancelled" => ["Отменён", "Болдырылмады", "Cancelled"],
            "failed" | "start_failed" => ["Не прошёл", "Өтпеді", "Failed"],
            "expired" => ["Истёк", "Мерзімі өтті", "Expired"],
            _ => ["—", "—", "—"],
        },
    )
}

/// The one of `[ru, kk, en]` in `lang`.
fn in_language(lang: Lang, [ru, kk, en]: [&'static str; 3]) -> &'static str {
    match lang {
        Lang::Ru => ru,
        Lang::Kk => kk,
        Lang::En => en,
    }
}

/// The filter's choices: merchant statuses and `review`.
pub const STATUSES: [&str; 9] = ["open", "pending", "review", "authorized", "paid", "refunded", "cancelled", "failed", "expired"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text_and_status() {
        for lang in Lang::ALL {
            let t = texts(lang);
            for text in [t.title, t.locked, t.oldest_waits, t.viewer_note, t.resolve_title] {
                assert!(!text.trim().is_empty(), "{lang:?}");
            }
            assert!(t.locked.contains("{n}") && t.oldest_waits.contains("{n}"), "{lang:?}");
            for status in STATUSES {
                assert_ne!(status_label(lang, status), "—", "{lang:?} {status}");
            }
            for decision in ["paid", "failed", "refund", "done", "not_done", "send_again", "epay_ledger"] {
                assert_ne!(decision_label(lang, decision), "—", "{lang:?} {decision}");
            }
            assert_eq!(Lang::from_code(lang.code()), lang);
        }
        assert_eq!(Lang::from_code("kk-KZ"), Lang::Kk);
        assert_eq!(Lang::from_code("de"), Lang::Ru);
        assert_ne!(texts(Lang::Kk).sign_in, texts(Lang::Ru).sign_in);
    }
}
