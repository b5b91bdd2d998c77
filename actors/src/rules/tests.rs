use crate::model::{Channel, ConversationKey};

#[test]
fn a_whatsapp_staff_entry_matches_by_its_digits_and_only_with_some() {
    let mut rules = crate::testing::rules();
    rules.staff.whatsapp_numbers = vec!["+52 1 464 123 4567".into(), "pendiente".into()];
    let wa = |u: &str| ConversationKey::new(Channel::WhatsApp, u);
    assert!(rules.is_staff(&wa("5214641234567")));
    assert!(!rules.is_staff(&wa("5214640000000")));
    // An entry without digits matches no id without digits.
    assert!(!rules.is_staff(&wa("bsuid.abc")));
    assert!(!rules.is_staff(&wa("")));
    assert!(
        rules.is_staff(&wa("pendiente")),
        "an exact entry still matches"
    );
}
