//! Text a stranger sends that the proxy keeps and shows again (a payment's description, a
//! merchant's reference, a receipt's line): what must not be in it.

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the
/// direction marks (U+200E, U+200F, U+061C): invisible, they reorder how the text around them
/// shows, so that a page or a receipt reads otherwise than what was paid for.
pub fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}
