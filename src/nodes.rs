//! Every node of the skeleton (`markup.rs`) the widget binds, found once when it mounts: a
//! skeleton that lacks one fails here, naming the class, not later at some binding.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use crate::markup::class;

pub struct Nodes {
    pub form: Element,
    pub sandbox: Element,
    pub what: Element,
    pub total: Element,
    pub total_label: Element,
    pub total_amount: Element,
    pub amount_field: Element,
    pub amount_input: HtmlElement,
    pub comment_field: Element,
    /// The consent to save the card, and its checkbox.
    pub save: Element,
    pub save_input: HtmlElement,
    pub pay: Element,
    pub act: Element,
    pub pay_amount: Element,
    pub status: Element,
    pub problem: Element,
    pub problem_text: Element,
    pub retry: Element,
    pub outcome: Element,
    pub message: Element,
    pub card: Element,
    /// The fiscal receipt's link.
    pub receipt: Element,
    pub again: Element,
    pub check_again: Element,
}

/// The class (or `class tag`) of the node the skeleton lacks.
#[derive(Debug, PartialEq, Eq)]
pub struct MissingNode(pub &'static str);

impl Nodes {
    pub fn find(root: &Element) -> Result<Nodes, MissingNode> {
        let by_class = |name: &'static str| root.get_elements_by_class_name(name).item(0).ok_or(MissingNode(name));
        let first = |parent: &Element, tag: &str, what: &'static str| parent.get_elements_by_tag_name(tag).item(0).ok_or(MissingNode(what));
        let total = by_class(class::TOTAL)?;
        let amount_field = by_class(class::AMOUNT_FIELD)?;
        let problem = by_class(class::PROBLEM)?;
        let pay = by_class(class::PAY)?;
        let save = by_class(class::SAVE)?;
        Ok(Nodes {
            form: by_class(class::FORM)?,
            sandbox: by_class(class::SANDBOX)?,
            what: by_class(class::WHAT)?,
            total_amount: first(&total, "strong", "epay-total strong")?,
            total_label: first(&total, "span", "epay-total span")?,
            total,
            amount_input: first(&amount_field, "input", "epay-amount input")?.unchecked_into(),
            amount_field,
            comment_field: by_class(class::COMMENT_FIELD)?,
            save_input: first(&save, "input", "epay-save input")?.unchecked_into(),
            save,
            act: pay.get_elements_by_tag_name("span").item(1).ok_or(MissingNode("epay-pay span"))?,
            pay,
            pay_amount: by_class(class::PAY_AMOUNT)?,
            status: by_class(class::STATUS)?,
            problem_text: first(&problem, "p", "epay-problem p")?,
            retry: by_class(class::RETRY)?,
            problem,
            outcome: by_class(class::OUTCOME)?,
            message: by_class(class::MESSAGE)?,
            card: by_class(class::CARD)?,
            receipt: by_class(class::RECEIPT)?,
            again: by_class(class::AGAIN)?,
            check_again: by_class(class::CHECK_AGAIN)?,
        })
    }
}
