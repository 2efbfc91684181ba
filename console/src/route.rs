//! Where the console is: the address's fragment (`#/orders?status=review`), so a reload, the
//! back button and a shared link all land on the same page, and the proxy serves one file.
//! Pure.

/// The order list's filters, as the list's query string carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub status: String,
    pub q: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Home,
    Orders(OrderFilter),
    Order(String),
    /// Customers with saved cards or subscriptions, filtered by a search.
    Customers(String),
    /// One customer (`accountId`).
    Customer(String),
    /// Fiscal receipts of a status ("" for all).
    Receipts(String),
    /// Enrolling a second factor (also shown, whatever the route, to a session that must).
    SecondFactor,
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl OrderFilter {
    /// The query string of `GET /api/admin/orders` (and of the page's fragment).
    pub fn query(&self) -> String {
        [("status", &self.status), ("q", &self.q), ("createdFrom", &self.from), ("createdTo", &self.to)]
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(name, value)| format!("{name}={}", encode(value.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn parse(query: &str) -> OrderFilter {
        let mut filter = OrderFilter::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value);
            match name {
                "status" => filter.status = value,
                "q" => filter.q = value,
                "createdFrom" => filter.from = value,
                "createdTo" => filter.to = value,
                _ => {}
            }
        }
        filter
    }
}

impl Route {
    /// The route a fragment names (`#/...`); anything unknown is the home page.
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#');
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        match path.trim_end_matches('/') {
            "/orders" => Route::Orders(OrderFilter::parse(query)),
            "/second-factor" => Route::SecondFactor,
            "/receipts" => Route::Receipts(query.split('&').find_map(|p| p.strip_prefix("status=")).map(decode).unwrap_or_default()),
            "/customers" => Route::Customers(query.split('&').find_map(|p| p.strip_prefix("q=")).map(decode).unwrap_or_default()),
            customer if customer.starts_with("/customers/") && customer.len() > 11 => Route::Customer(decode(&customer[11..])),
            order if order.starts_with("/orders/") && order.len() > 8 => Route::Order(decode(&order[8..])),
            _ => Route::Home,
        }
    }

    pub fn hash(&self) -> String {
        match self {
            Route::Home => "#/".to_owned(),
            Route::Orders(filter) if filter.query().is_empty() => "#/orders".to_owned(),
            Route::Orders(filter) => format!("#/orders?{}", filter.query()),
            Route::Order(invoice_id) => format!("#/orders/{}", encode(invoice_id)),
            Route::SecondFactor => "#/second-factor".to_owned(),
            Route::Customers(q) if q.trim().is_empty() => "#/customers".to_owned(),
            Route::Customers(q) => format!("#/customers?q={}", encode(q.trim())),
            Route::Customer(account_id) => format!("#/customers/{}", encode(account_id)),
            Route::Receipts(status) if status.is_empty() => "#/receipts".to_owned(),
            Route::Receipts(status) => format!("#/receipts?status={}", encode(status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_survive_a_round_trip_through_the_address() {
        let filter = OrderFilter {
            status: "review".into(),
            q: "Айгерим +7 701".into(),
            from: String::new(),
            to: "2026-12-04T00:00:00+05:00".into(),
        };
        for route in [
            Route::Home,
            Route::Orders(OrderFilter::default()),
            Route::Orders(filter),
            Route::Order("000000123456".into()),
            Route::SecondFactor,
            Route::Customers(String::new()),
            Route::Customers("cust 7/%".into()),
            Route::Customer("cust-7 ü".into()),
            Route::Receipts(String::new()),
            Route::Receipts("failed".into()),
        ] {
            assert_eq!(Route::parse(&route.hash()), route, "{}", route.hash());
        }
        assert_eq!(Route::parse(""), Route::Home);
        assert_eq!(Route::parse("#/nowhere"), Route::Home);
        assert_eq!(Route::parse("#/orders/"), Route::Orders(OrderFilter::default()));
        assert_eq!(Route::parse("#/orders?q=50%"), Route::Orders(OrderFilter { q: "50%".into(), ..OrderFilter::default() }));
    }
}
