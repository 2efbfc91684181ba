//! Where the checkout form is.

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stage {
    Ready,
    /// Waiting for the proxy.
    Creating,
    /// Handed to ePay: the page is navigating away (or the overlay is open).
    Leaving,
    /// Something failed; the text says what, and Retry is offered.
    Problem(&'static str),
    /// Showing an order's outcome instead of the form.
    Outcome,
}

impl Stage {
    /// A click on Pay does nothing now (a double click makes one payment).
    pub fn busy(self) -> bool {
        matches!(self, Stage::Creating | Stage::Leaving)
    }

    /// What the checkout's result does to the form: only a form still waiting for it takes it
    /// (the overlay may already have closed and switched to the outcome).
    pub fn after_checkout(self, result: Stage) -> Stage {
        if self == Stage::Creating { result } else { self }
    }

    /// Back from ePay with the browser's Back button, the page may come from the back-forward
    /// cache still leaving: the form is usable again.
    pub fn after_pageshow(self) -> Stage {
        if self == Stage::Leaving { Stage::Ready } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_moves_only_where_it_may() {
        assert!(Stage::Creating.busy() && Stage::Leaving.busy());
        assert!(!Stage::Ready.busy() && !Stage::Problem("x").busy() && !Stage::Outcome.busy());
        assert_eq!(Stage::Creating.after_checkout(Stage::Leaving), Stage::Leaving);
        assert_eq!(Stage::Outcome.after_checkout(Stage::Leaving), Stage::Outcome, "the overlay closed first");
        assert_eq!(Stage::Leaving.after_pageshow(), Stage::Ready);
        assert_eq!(Stage::Outcome.after_pageshow(), Stage::Outcome);
    }
}
