//! Paging of the merchant API's lists: `limit` and `cursor` read the same way everywhere, and
//! a page cut from one row more than asked (that row says whether a next page exists).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use epay_api_types::ErrorCode;

use crate::error::AppError;

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// Where a page starts and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    /// The cursor: rows below this id.
    pub before_id: Option<i64>,
}

impl Default for Page {
    fn default() -> Page {
        Page { limit: DEFAULT_PAGE, before_id: None }
    }
}

impl Page {
    /// Takes `name=value` if it is `limit` or `cursor` (`Ok(true)`), refusing a bad value with a
    /// 400 that names it. Pure.
    pub fn read(&mut self, name: &str, value: &str) -> Result<bool, AppError> {
        match name {
            "limit" => {
                self.limit = value.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| {
                    AppError::bad_request(ErrorCode::InvalidField, format!("limit must be a whole number from 1 to {MAX_PAGE}"))
                })?;
                Ok(true)
            }
            "cursor" => {
                let id = cursor_id(value)
                    .ok_or_else(|| AppError::bad_request(ErrorCode::InvalidCursor, "cursor is not a nextCursor this API returned"))?;
                self.before_id = Some(id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts `rows` (fetched with `fetch()`, newest first) to the page, and the cursor of the next
    /// page if there is one.
    pub fn cut<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
        if rows.len() as i64 <= self.limit {
            return (rows, None);
        }
        rows.truncate(self.limit as usize);
        let next = rows.last().map(|last| cursor(id(last)));
        (rows, next)
    }
}

fn cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("before:{id}"))
}

/// The id a `cursor` names.
fn cursor_id(value: &str) -> Option<i64> {
    URL_SAFE_NO_PAD
        .decode(value)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("before:").and_then(|id| id.parse::<i64>().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_and_cursor_are_read_and_a_page_is_cut_with_its_next_cursor() {
        let mut page = Page::default();
        assert!(!page.read("status", "paid").unwrap());
        assert!(page.read("limit", "2").unwrap());
        assert!(page.read("cursor", &cursor(77)).unwrap());
        assert_eq!(page, Page { limit: 2, before_id: Some(77) });
        for (name, value, code) in [
            ("limit", "0", ErrorCode::InvalidField),
            ("limit", "101", ErrorCode::InvalidField),
            ("cursor", "bm9wZQ", ErrorCode::InvalidCursor),
        ] {
            assert_eq!(Page::default().read(name, value).unwrap_err().code, code, "{name}={value}");
        }
        assert_eq!(page.fetch(), 3);
        let (rows, next) = page.cut(vec![9, 8, 7], |n| *n);
        assert_eq!((rows, next), (vec![9, 8], Some(cursor(8))));
        assert_eq!(page.cut(vec![9, 8], |n| *n), (vec![9, 8], None), "the last page");
    }
}
