//! The dialogue layer shared by every flow: the repair patterns' triggers ([`signals`]).
//! The engine applies them before any flow sees a message: backing out, resuming, yes/no at a
//! confirmation, emoji-only messages.

pub mod signals;
