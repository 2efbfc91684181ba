//! The payment page's `?params=`: LZString's `compressToEncodedURIComponent` of
//! `name=encodeURIComponent(value)&...`, with nested objects (auth) encoded the same way.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

pub type Params = HashMap<String, String>;

/// Decompresses and splits `?params=`. `None` when it is not LZString output.
pub fn decode(compressed: &str) -> Option<Params> {
    let utf16 = lz_str::decompress_from_encoded_uri_component(compressed)?;
    let text = String::from_utf16(&utf16).ok()?;
    Some(split(&text))
}

/// `a=1&b=x%20y` into a map; values are decoded like `decodeURIComponent`.
pub fn split(text: &str) -> Params {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(value).decode_utf8().ok()?;
            Some((name.to_owned(), value.into_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_payment_api_js_encodes() {
        // encodeParams({invoiceId: "123456", description: "Оплата & co", auth: {access_token: "T", expires_in: 7200}})
        let flat = "invoiceId=123456&description=%D0%9E%D0%BF%D0%BB%D0%B0%D1%82%D0%B0%20%26%20co&auth=access_token%3DT%26expires_in%3D7200";
        let compressed = lz_str::compress_to_encoded_uri_component(flat);
        let params = decode(&compressed).unwrap();
        assert_eq!(params["invoiceId"], "123456");
        assert_eq!(params["description"], "Оплата & co");
        let auth = split(&params["auth"]);
        assert_eq!(auth["access_token"], "T");
        assert_eq!(auth["expires_in"], "7200");
    }
}
