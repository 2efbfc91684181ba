//! Which writes kept for later (`PgConn::execute_later`) PostgreSQL runs as one statement.
//!
//! In a batch of postLinks every job moves its own order and records its notification with
//! the same two statements, and on PostgreSQL a statement costs more than a row: the server
//! opens the thirteen indexes of `orders` and prepares their predicates for each one, and
//! answers each one. Statements of one text sent together therefore leave as one statement over
//! arrays of their values (docs/performance.md, "A fourth pass").
//!
//! Only statements that say they touch the rows of one order (the order, its history, its
//! notifications) are merged, and only among those sent one after the other (nothing moves
//! past another write), with at most one of a text per order, and with each order's
//! statements still in their order. The statements of different orders then touch different
//! rows, and any order of them leaves the same rows; the statements of one order run as they
//! were written.

use std::collections::HashMap;

/// A write kept for later, as the merge sees it: its text (a number per text), and the order
/// whose rows it alone touches, if it said so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    pub text: usize,
    pub order: Option<i64>,
}

/// The writes sent together, as groups of their positions in the order to send them, each
/// group one statement; `None` when none is merged. A write that names no order stays where it
/// is, alone, and nothing moves past it: only the writes between two such are merged.
pub fn groups(kept: &[Kept]) -> Option<Vec<Vec<usize>>> {
    let mut sent = Vec::with_capacity(kept.len());
    let mut merged = false;
    let mut start = 0;
    for end in 0..=kept.len() {
        if end < kept.len() && kept[end].order.is_some() {
            continue;
        }
        match within(&kept[start..end]) {
            Some(groups) => {
                merged = true;
                sent.extend(groups.into_iter().map(|group| group.into_iter().map(|at| start + at).collect()));
            }
            None => sent.extend((start..end).map(|at| vec![at])),
        }
        if end < kept.len() {
            sent.push(vec![end]);
        }
        start = end + 1;
    }
    merged.then_some(sent)
}

/// `groups` for writes that all name their order.
fn within(kept: &[Kept]) -> Option<Vec<Vec<usize>>> {
    // By text, in the order each text first came.
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut group_of = Vec::with_capacity(kept.len());
    for (at, write) in kept.iter().enumerate() {
        let group = match groups.iter().position(|(text, _)| *text == write.text) {
            Some(group) => group,
            None => {
                groups.push((write.text, Vec::new()));
                groups.len() - 1
            }
        };
        groups[group].1.push(at);
        group_of.push(group);
    }
    if groups.len() == kept.len() {
        return None;
    }
    // One order's writes: each in a later group than the one before it.
    let mut last_group: HashMap<i64, usize> = HashMap::new();
    for (write, &group) in kept.iter().zip(&group_of) {
        let order = write.order?;
        if last_group.insert(order, group).is_some_and(|before| before >= group) {
            return None;
        }
    }
    Some(groups.into_iter().map(|(_, members)| members).collect())
}

#[cfg(test)]
mod tests {
    use super::{Kept, groups};

    /// The writes, their texts named for reading.
    fn kept(writes: &[(&str, Option<i64>)]) -> Vec<Kept> {
        let texts = ["move", "note", "event"];
        writes.iter().map(|&(text, order)| Kept { text: texts.iter().position(|t| *t == text).unwrap(), order }).collect()
    }

    #[test]
    fn a_batch_of_postlinks_leaves_as_one_move_and_one_notification() {
        let writes =
            kept(&[("move", Some(1)), ("note", Some(1)), ("move", Some(2)), ("note", Some(2)), ("move", Some(3)), ("note", Some(3))]);
        assert_eq!(groups(&writes), Some(vec![vec![0, 2, 4], vec![1, 3, 5]]));
    }

    #[test]
    fn nothing_moves_past_a_write_that_names_no_order() {
        let writes = kept(&[("move", Some(1)), ("event", None), ("move", Some(2))]);
        assert_eq!(groups(&writes), None);
        // A status answer's event, then postLinks: those after it are merged, after it.
        let writes = kept(&[
            ("move", Some(1)),
            ("event", None),
            ("move", Some(2)),
            ("note", Some(2)),
            ("move", Some(3)),
            ("note", Some(3)),
            ("event", None),
        ]);
        assert_eq!(groups(&writes), Some(vec![vec![0], vec![1], vec![2, 4], vec![3, 5], vec![6]]));
    }

    #[test]
    fn nothing_to_merge_is_sent_as_it_is() {
        assert_eq!(groups(&kept(&[("move", Some(1)), ("note", Some(1))])), None);
        assert_eq!(groups(&kept(&[("move", Some(1))])), None);
        assert_eq!(groups(&[]), None);
    }

    #[test]
    fn one_order_twice_in_a_group_is_not_merged() {
        // Two moves of one order must run one after the other.
        let writes = kept(&[("move", Some(1)), ("move", Some(1)), ("move", Some(2))]);
        assert_eq!(groups(&writes), None);
    }

    #[test]
    fn an_order_whose_writes_would_change_places_is_not_merged() {
        // Order 2 notes before it moves: merged, its move would come first.
        let writes = kept(&[("move", Some(1)), ("note", Some(1)), ("note", Some(2)), ("move", Some(2))]);
        assert_eq!(groups(&writes), None);
    }
}
