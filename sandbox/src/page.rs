//! HTML of the sandbox's payment pages: escaped, with no inline script or style, each page
//! visibly marked as a sandbox.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole page; `body` is already-escaped HTML.
pub fn layout(lang: &str, title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} · ePay SANDBOX</title>
<link rel="stylesheet" href="payform.css">
</head>
<body>
<div class="sandbox-banner" role="note"><strong>SANDBOX</strong> · ePay emulator · no real money moves</div>
<main class="card">
{body}
</main>
</body>
</html>"#,
        title = escape(title),
    )
}

/// A page that explains what went wrong (bad params, expired token...).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(r#"<h1>Payment cannot start</h1><p class="error" role="alert">{}</p>"#, escape(message));
    (status, Html(layout("en", "Error", &body))).into_response()
}

/// Amount for people: "1 500 ₸", "1 500,50 ₸".
pub fn display_amount(amount: epay_api_types::Amount, currency: &str) -> String {
    let text = amount.to_string();
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push(',');
        grouped.push_str(fraction);
    }
    let sign = if currency == "KZT" { "₸" } else { currency };
    format!("{grouped}\u{a0}{sign}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use epay_api_types::Amount;

    #[test]
    fn escapes_and_formats() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(display_amount(Amount::from_minor(150_000), "KZT"), "1\u{a0}500\u{a0}₸");
        assert_eq!(display_amount(Amount::from_minor(123_456_789), "KZT"), "1\u{a0}234\u{a0}567,89\u{a0}₸");
        assert_eq!(display_amount(Amount::from_minor(500), "USD"), "5\u{a0}USD");
    }
}
