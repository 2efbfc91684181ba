//! The second factor's arithmetic: TOTP (RFC 6238 through `totp-rs`: SHA-1, 6 digits, 30 s
//! steps, one step of clock skew either side, which is what authenticator apps expect), the
//! `otpauth://` link and its QR code, and one-time recovery codes. Pure but for the random
//! secrets and codes.

use base64::Engine;
use rand::Rng;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::secrets::sha256_hex;

/// What authenticator apps show above the code.
pub const ISSUER: &str = "ePay proxy console";
/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A new random secret (160 bits, as RFC 4226 recommends), base32.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

fn totp(secret: &str, user: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(bytes)
        .with_account_name(user.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The `otpauth://totp/...` link an authenticator app reads from the QR code.
pub fn otpauth_link(secret: &str, user: &str) -> String {
    totp(secret, user).and_then(|totp| totp.to_url().ok()).unwrap_or_default()
}

/// The QR code of `link` as an SVG `data:` URL (shown in an `<img>`, so it runs nothing).
pub fn qr_code(link: &str) -> String {
    let svg = qrcode::QrCode::new(link.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).quiet_zone(true).build())
        .unwrap_or_default();
    format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(svg))
}

/// The time step whose code `code` is, at unix second `now`, if it is one.
pub fn matching_step(secret: &str, code: &str, now: i64) -> Option<i64> {
    let digits = totp_digits(code)?;
    let step = totp(secret, "-")?.check(&digits, u64::try_from(now).ok()?)?;
    i64::try_from(step).ok()
}

/// Whether `code` looks like a TOTP code (six digits) rather than a recovery code.
pub fn is_totp_code(code: &str) -> bool {
    totp_digits(code).is_some()
}

/// `code`'s six digits as typed (apps show `123 456`), if it is six digits.
fn totp_digits(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// New recovery codes, `xxxxx-xxxxx` from an alphabet without look-alikes (50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut pick = || RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char;
            let (first, second): (String, String) = ((0..5).map(|_| pick()).collect(), (0..5).map(|_| pick()).collect());
            format!("{first}-{second}")
        })
        .collect()
}

/// What is stored of a recovery code: the SHA-256 of it as typed, without case, spaces or
/// dashes (the code has 50 random bits: no slow hash is needed).
pub fn recovery_digest(code: &str) -> String {
    let normalized: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    sha256_hex(normalized.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" (base32 below) at
    /// 59 s gives 94287082 in 8 digits, whose last six are the 6-digit code.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_are_those_of_rfc_6238_and_a_step_either_side_is_accepted() {
        assert_eq!(matching_step(RFC_SECRET, "287082", 59), Some(1));
        assert_eq!(matching_step(RFC_SECRET, "287 082", 59), Some(1), "spaces as apps show them");
        assert_eq!(matching_step(RFC_SECRET, "287082", 59 + 30), Some(1), "a step late");
        assert_eq!(matching_step(RFC_SECRET, "287082", 59 + 60), None, "two steps late");
        assert_eq!(matching_step(RFC_SECRET, "287083", 59), None);
        assert_eq!(matching_step(RFC_SECRET, "28708", 59), None);
        assert_eq!(matching_step("not base32!", "287082", 59), None);
    }

    #[test]
    fn the_link_names_the_person_and_the_issuer_and_the_qr_code_is_an_svg_image() {
        let secret = new_secret();
        assert_eq!(Secret::try_from_base32(&secret).unwrap().len(), 20);
        let link = otpauth_link(&secret, "aigerim");
        assert!(link.starts_with("otpauth://totp/"), "{link}");
        assert!(link.contains("aigerim") && link.contains(&format!("secret={secret}")) && link.contains("issuer=ePay"), "{link}");
        let qr = qr_code(&link);
        let svg = base64::engine::general_purpose::STANDARD.decode(qr.strip_prefix("data:image/svg+xml;base64,").unwrap()).unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), RECOVERY_CODES);
        assert!(codes.iter().all(|code| code.len() == 11 && code.as_bytes()[5] == b'-'));
        assert_eq!(recovery_digest("abcde-fghjk"), recovery_digest(" ABCDE FGHJK "));
        assert!(!is_totp_code("abcde-fghjk") && is_totp_code("123 456"));
    }
}
