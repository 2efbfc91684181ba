use serde::{Deserialize, Serialize};

/// Which `halyk.*` method the widget calls; it also decides the token's scope.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentMethod {
    /// Card-to-card transfer (`halyk.p2p`), the seed's flow.
    #[default]
    #[serde(rename = "p2p")]
    P2p,
    /// Card payment (`halyk.pay`).
    #[serde(rename = "pay")]
    Pay,
    /// Original credit transfer (`halyk.oct`).
    #[serde(rename = "oct")]
    Oct,
    /// Account funding transaction (`halyk.aft`).
    #[serde(rename = "aft")]
    Aft,
    /// Card payment in an overlay iframe (`halyk.showPaymentWidget`).
    #[serde(rename = "showPaymentWidget")]
    Widget,
}

impl PaymentMethod {
    pub fn from_name(name: &str) -> Option<PaymentMethod> {
        match name {
            "p2p" => Some(PaymentMethod::P2p),
            "pay" => Some(PaymentMethod::Pay),
            "oct" => Some(PaymentMethod::Oct),
            "aft" => Some(PaymentMethod::Aft),
            "showPaymentWidget" | "widget" => Some(PaymentMethod::Widget),
            _ => None,
        }
    }

    /// The name of the function on the `halyk` global.
    pub fn js_name(self) -> &'static str {
        match self {
            PaymentMethod::P2p => "p2p",
            PaymentMethod::Pay => "pay",
            PaymentMethod::Oct => "oct",
            PaymentMethod::Aft => "aft",
            PaymentMethod::Widget => "showPaymentWidget",
        }
    }

    /// A card-to-card transfer (P2P, OCT, AFT), not a card payment: it has its own terminal,
    /// status endpoint, token scope and words.
    pub fn is_transfer(self) -> bool {
        matches!(self, PaymentMethod::P2p | PaymentMethod::Oct | PaymentMethod::Aft)
    }

    /// OAuth scope of the payment token: transfers use `transfer`, card payments `payment`.
    pub fn token_scope(self) -> &'static str {
        if self.is_transfer() { "transfer" } else { "payment" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for method in [PaymentMethod::P2p, PaymentMethod::Pay, PaymentMethod::Oct, PaymentMethod::Aft, PaymentMethod::Widget] {
            let name = serde_json::to_string(&method).unwrap();
            assert_eq!(name.trim_matches('"'), method.js_name());
            assert_eq!(PaymentMethod::from_name(method.js_name()), Some(method));
        }
    }
}
