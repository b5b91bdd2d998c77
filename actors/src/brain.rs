//! The seam between the conversation engine and language understanding.
//!
//! [`OfflineBrain`] wraps the offline NLU; the Gemini-backed brain (a shared actor in the
//! binary) implements the same trait and falls back to it.

use crate::model::Understanding;
use crate::nlu::Nlu;
use crate::rules::Rules;
use crate::store::BoxFuture;
use std::sync::Arc;

/// What the engine knows of the conversation when it asks for understanding.
#[derive(Clone, Debug, Default)]
pub struct UnderstandContext {
    /// The last turns, oldest first: (user text, bot reply).
    pub history: Vec<(String, String)>,
}

/// Turns an utterance into an intent and entities.
pub trait Brain: Send + Sync + 'static {
    fn understand<'a>(
        &'a self,
        text: &'a str,
        context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Understanding>;
}

/// The offline brain: the rules-based NLU, answering at once.
pub struct OfflineBrain {
    nlu: Nlu,
    rules: Arc<Rules>,
}

impl OfflineBrain {
    pub fn new(rules: Arc<Rules>) -> Self {
        Self {
            nlu: Nlu::new(),
            rules,
        }
    }
}

impl Brain for OfflineBrain {
    fn understand<'a>(
        &'a self,
        text: &'a str,
        _context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Understanding> {
        Box::pin(std::future::ready(self.nlu.understand(text, &self.rules)))
    }
}
