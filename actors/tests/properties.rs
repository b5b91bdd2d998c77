//! Properties of any conversation: whatever a customer sends, in any order (up to 20 messages
//! drawn from the corpus, the repair words and slot answers), the engine never panics, never
//! writes a record (a prospect, an incident, a plan change or a cancellation) in a turn that
//! did not answer a confirmation question, and never quotes a price that is not in config.
//! (A call for a person or a billing question is passed to staff at once: it is a message, not
//! a record of the customer's account.)

use proptest::prelude::*;
use redsol_actors::brain::OfflineBrain;
use redsol_actors::engine::{ConversationState, Engine};
use redsol_actors::model::{Channel, ConversationKey, Inbound};
use redsol_actors::nlu::corpus;
use redsol_actors::store::MemoryStore;
use std::sync::{Arc, OnceLock};

/// What a customer may send: every corpus utterance.
fn corpus_pool() -> &'static Vec<String> {
    static POOL: OnceLock<Vec<String>> = OnceLock::new();
    POOL.get_or_init(|| {
        [corpus::TRAIN, corpus::DEV]
            .iter()
            .flat_map(|s| corpus::parse(s).unwrap_or_default())
            .map(|e| e.text)
            .collect()
    })
}

/// The short answers a flow asks for (drawn as often as the whole corpus, so flows finish).
const ANSWERS: &[&str] = &[
    "sí",
    "si",
    "ok",
    "dale",
    "va",
    "👍",
    "no",
    "ya no",
    "mejor no",
    "siempre sí",
    "cancelar",
    "luego",
    "Ana Ruiz",
    "la norte",
    "en la sur",
    "el de 50",
    "el de 100",
    "el mas barato",
    "ayer",
    "desde el lunes",
    "ya lo reinicie",
    "no lo he reiniciado",
    "vivo en irapuato",
    "me cobran $999 al mes?",
    "😡",
    "",
    "1",
    "quiero contratar",
    "no tengo internet",
    "quiero cancelar mi servicio",
    "quiero subirle a 100 megas",
];

/// Whether a reply asks the customer to confirm what will be written.
fn asks_to_confirm(reply: &str) -> bool {
    ["¿Confirmo", "¿Lo confirmo", "¿Confirmas"]
        .iter()
        .any(|q| reply.contains(q))
}

/// The amounts of money ("$450") a reply quotes, leaving out the customer's own words that it
/// shows between « and ».
fn amounts(reply: &str) -> Vec<u32> {
    let mut own = false;
    let bot: String = reply
        .chars()
        .filter(|c| {
            match c {
                '«' => own = true,
                '»' => own = false,
                _ => {}
            }
            !own
        })
        .collect();
    bot.split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == ',')
                .filter(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

fn records(store: &MemoryStore) -> usize {
    let account_changes = store
        .requests()
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "cancel_service" | "change_plan"))
        .count();
    store.prospects().len() + store.incidents().len() + account_changes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_panic_no_unconfirmed_record_no_invented_price(
        picks in prop::collection::vec((any::<bool>(), 0usize..100_000), 1..=20),
        whatsapp in any::<bool>(),
    ) {
        let rules = Arc::new(redsol_actors::testing::rules());
        let prices: Vec<u32> = rules.plans.iter().map(|p| p.price).collect();
        let store = Arc::new(MemoryStore::new(Vec::new()));
        let engine = Engine::new(
            rules.clone(),
            Arc::new(OfflineBrain::new(rules.clone())),
            store.clone(),
        );
        let channel = if whatsapp { Channel::WhatsApp } else { Channel::Telegram };
        let key = ConversationKey::new(channel, "5214641234567");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let corpus = corpus_pool();
        let mut state = ConversationState::default();
        let mut last_reply = String::new();
        for (answer, pick) in picks {
            let said = if answer {
                ANSWERS[pick % ANSWERS.len()].to_string()
            } else {
                corpus[pick % corpus.len()].clone()
            };
            let before = records(&store);
            let reply = runtime.block_on(engine.turn(&mut state, &Inbound::text(key.clone(), said.clone())));
            let after = records(&store);
            prop_assert!(
                after == before || asks_to_confirm(&last_reply),
                "a record was written without a confirmation turn: {said:?} after {last_reply:?}"
            );
            for amount in amounts(&reply.text) {
                prop_assert!(prices.contains(&amount), "price ${amount} not in config: {}", reply.text);
            }
            last_reply = reply.text;
        }
    }
}
