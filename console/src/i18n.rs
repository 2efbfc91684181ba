//! The console's words in Russian, Kazakh and English. Pure. The server's messages (English)
//! are shown as details under a translated headline.

/// The console's languages are the widget's (the wire's `Language`).
pub use epay_api_types::Language as Lang;
use epay_api_types::{Decision, MerchantStatus, OperationStatus, OrderState};

/// A stored choice or the browser's language ("kk-KZ", "en-US"...); Russian otherwise.
pub fn lang_from_code(code: &str) -> Lang {
    Lang::from_tag(code).unwrap_or_default()
}

/// The switch's label.
pub fn lang_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "РУС",
        Lang::Kk => "ҚАЗ",
        Lang::En => "ENG",
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
    /// `{n}`: seconds.
    pub wait: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub wrong_code: &'static str,
    pub nav_second_factor: &'static str,
    pub enrol_title: &'static str,
    pub enrol_intro: &'static str,
    pub enrol_required: &'static str,
    pub enrol_start: &'static str,
    pub enrol_secret: &'static str,
    pub enrol_confirm: &'static str,
    pub recovery_title: &'static str,
    pub recovery_intro: &'static str,
    pub recovery_saved: &'static str,
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
    wait: "Слишком много неудачных попыток с этого адреса: попробуйте снова через {n} с.",
    code_label: "Код из приложения",
    code_hint: "Шесть цифр из приложения-аутентификатора или один из резервных кодов.",
    wrong_code: "Неверный или уже использованный код: дождитесь следующего кода или введите резервный.",
    nav_second_factor: "Второй фактор",
    enrol_title: "Второй фактор входа",
    enrol_intro: "Вход в консоль — пароль и код из приложения-аутентификатора (Google Authenticator, Microsoft Authenticator, 1Password…). Отсканируйте QR-код приложением и введите код, который оно покажет.",
    enrol_required: "Операторы входят со вторым фактором. Подключите его, чтобы продолжить.",
    enrol_start: "Показать QR-код",
    enrol_secret: "Или введите ключ в приложение вручную:",
    enrol_confirm: "Подтвердить",
    recovery_title: "Резервные коды",
    recovery_intro: "Сохраните их в надёжном месте: если телефон потерян, каждый код один раз заменит код из приложения. Больше они показаны не будут.",
    recovery_saved: "Коды сохранены",
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
    wait: "Бұл мекенжайдан сәтсіз әрекеттер тым көп: {n} с. кейін қайталаңыз.",
    code_label: "Қолданбадағы код",
    code_hint: "Аутентификатор қолданбасындағы алты сан немесе резервтік кодтардың бірі.",
    wrong_code: "Код қате немесе бұрын қолданылған: келесі кодты күтіңіз немесе резервтік кодты енгізіңіз.",
    nav_second_factor: "Екінші фактор",
    enrol_title: "Кірудің екінші факторы",
    enrol_intro: "Консольге кіру — құпиясөз және аутентификатор қолданбасындағы код (Google Authenticator, Microsoft Authenticator, 1Password…). QR-кодты қолданбамен сканерлеп, ол көрсеткен кодты енгізіңіз.",
    enrol_required: "Операторлар екінші фактормен кіреді. Жалғастыру үшін оны қосыңыз.",
    enrol_start: "QR-кодты көрсету",
    enrol_secret: "Немесе кілтті қолданбаға қолмен енгізіңіз:",
    enrol_confirm: "Растау",
    recovery_title: "Резервтік кодтар",
    recovery_intro: "Оларды сенімді жерде сақтаңыз: телефон жоғалса, әр код қолданбадағы кодты бір рет алмастырады. Олар қайта көрсетілмейді.",
    recovery_saved: "Кодтар сақталды",
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
    wait: "Too many failed attempts from this address: try again in {n} s.",
    code_label: "Code from your app",
    code_hint: "The six digits of your authenticator app, or one of your recovery codes.",
    wrong_code: "Wrong or already used code: wait for the next code, or type a recovery code.",
    nav_second_factor: "Second factor",
    enrol_title: "Second sign-in factor",
    enrol_intro: "Signing in to the console takes your password and a code from an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password…). Scan the QR code with the app and type the code it shows.",
    enrol_required: "Operators sign in with a second factor. Set one up to go on.",
    enrol_start: "Show the QR code",
    enrol_secret: "Or type the key into the app:",
    enrol_confirm: "Confirm",
    recovery_title: "Recovery codes",
    recovery_intro: "Keep them somewhere safe: if your phone is lost, each code stands in once for the app's code. They will not be shown again.",
    recovery_saved: "I saved the codes",
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

/// A review decision as people read it: a payment's (`paid`, `failed`, `refund`) or a capture's,
/// cancel's or refund's (`done`, `not_done`, `send_again`, `epay_ledger`).
pub fn decision_label(lang: Lang, decision: Decision) -> &'static str {
    in_language(
        lang,
        match decision {
            Decision::Paid => ["Оплачен", "Төленді", "Paid"],
            Decision::Failed => ["Не оплачен", "Төленбеді", "Not paid"],
            Decision::Refund => ["Вернуть деньги", "Ақшаны қайтару", "Refund the money"],
            Decision::Done => ["ePay выполнил операцию", "ePay операцияны орындады", "ePay did it"],
            Decision::NotDone => ["ePay не выполнил: отменить", "ePay орындамады: бас тарту", "ePay did not: abandon it"],
            Decision::SendAgain => {
                ["Отправить ещё раз (тот же externalID)", "Қайта жіберу (сол externalID)", "Send it again (same externalID)"]
            }
            Decision::EpayLedger => ["Записать, как показывает ePay сейчас", "ePay қазір көрсеткендей жазу", "Record what ePay shows now"],
        },
    )
}

/// An order's merchant status, as a person reads it.
pub fn status_label(lang: Lang, status: MerchantStatus) -> &'static str {
    in_language(
        lang,
        match status {
            MerchantStatus::Open => ["Открыт", "Ашық", "Open"],
            MerchantStatus::Pending => ["Ожидает оплаты", "Төлем күтуде", "Awaiting payment"],
            MerchantStatus::Authorized => ["Заблокирован (холд)", "Бұғатталған (холд)", "Authorized (held)"],
            MerchantStatus::Paid => ["Оплачен", "Төленді", "Paid"],
            MerchantStatus::Refunded => ["Возвращён", "Қайтарылды", "Refunded"],
            MerchantStatus::Cancelled => ["Отменён", "Болдырылмады", "Cancelled"],
            MerchantStatus::Failed => ["Не прошёл", "Өтпеді", "Failed"],
            MerchantStatus::Expired => ["Истёк", "Мерзімі өтті", "Expired"],
        },
    )
}

/// The proxy's state of an order, as a person reads it: its merchant status, but for the
/// states people on call tell apart.
pub fn state_label(lang: Lang, state: OrderState) -> &'static str {
    match state {
        OrderState::Confirming => in_language(lang, ["Проверяется в ePay", "ePay-да тексерілуде", "Being confirmed"]),
        OrderState::Review => in_language(lang, ["На проверке", "Тексеруде", "In review"]),
        other => status_label(lang, other.merchant_status()),
    }
}

/// A capture's, cancel's or refund's status, as a person reads it.
pub fn operation_status_label(lang: Lang, status: OperationStatus) -> &'static str {
    in_language(
        lang,
        match status {
            OperationStatus::Pending => ["Отправляется в ePay", "ePay-ға жіберілуде", "Being sent to ePay"],
            OperationStatus::Accepted => ["Принята ePay", "ePay қабылдады", "Accepted by ePay"],
            OperationStatus::Unknown => {
                ["Исход неизвестен: уточняется", "Нәтижесі белгісіз: нақтылануда", "Outcome unknown: being looked up"]
            }
            OperationStatus::Succeeded => ["Выполнена", "Орындалды", "Succeeded"],
            OperationStatus::Failed => ["Не выполнена", "Орындалмады", "Failed"],
            OperationStatus::Review => ["На проверке", "Тексеруде", "In review"],
        },
    )
}

/// What a list or a page shows of an order: `review` while a person must look, else its
/// merchant status; also the status filter's choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Status(MerchantStatus),
    Review,
}

impl Shown {
    pub fn of(order: &epay_api_types::MerchantOrder) -> Shown {
        if order.state == OrderState::Review { Shown::Review } else { Shown::Status(order.status) }
    }

    /// Its word on the wire (`data-status`, the `status` filter).
    pub fn wire(self) -> &'static str {
        match self {
            Shown::Status(status) => status.as_str(),
            Shown::Review => OrderState::Review.as_str(),
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Shown::Status(status) => status_label(lang, status),
            Shown::Review => state_label(lang, OrderState::Review),
        }
    }
}

/// The filter's choices: merchant statuses, with `review` after `pending`.
pub const FILTERS: [Shown; 9] = [
    Shown::Status(MerchantStatus::Open),
    Shown::Status(MerchantStatus::Pending),
    Shown::Review,
    Shown::Status(MerchantStatus::Authorized),
    Shown::Status(MerchantStatus::Paid),
    Shown::Status(MerchantStatus::Refunded),
    Shown::Status(MerchantStatus::Cancelled),
    Shown::Status(MerchantStatus::Failed),
    Shown::Status(MerchantStatus::Expired),
];

/// The one of `[ru, kk, en]` in `lang`.
pub(crate) fn in_language(lang: Lang, [ru, kk, en]: [&'static str; 3]) -> &'static str {
    match lang {
        Lang::Ru => ru,
        Lang::Kk => kk,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text_and_status() {
        for lang in Lang::ALL {
            let t = texts(lang);
            for text in [t.title, t.wait, t.oldest_waits, t.viewer_note, t.resolve_title, t.enrol_intro, t.recovery_intro, t.wrong_code] {
                assert!(!text.trim().is_empty(), "{lang:?}");
            }
            assert!(t.wait.contains("{n}") && t.oldest_waits.contains("{n}"), "{lang:?}");
            for shown in FILTERS {
                assert!(!shown.label(lang).is_empty(), "{lang:?} {shown:?}");
            }
            for &state in OrderState::ALL {
                assert!(!state_label(lang, state).is_empty(), "{lang:?} {state}");
            }
            for &status in OperationStatus::ALL {
                assert!(!operation_status_label(lang, status).is_empty(), "{lang:?} {status}");
            }
            for &decision in Decision::ALL {
                assert!(!decision_label(lang, decision).is_empty(), "{lang:?} {decision}");
            }
            assert_eq!(lang_from_code(lang.tag()), lang);
        }
        assert_eq!(lang_from_code("kk-KZ"), Lang::Kk);
        assert_eq!(lang_from_code("de"), Lang::Ru);
        assert_ne!(texts(Lang::Kk).sign_in, texts(Lang::Ru).sign_in);
    }
}
