//! Conversations through Telegram: commands, buttons, registration, incidents, staff, and
//! what is not text.

use crate::fake::{update, FakeTelegram};
use crate::harness::{demo_store, rules, Bot, User, STAFF_ID, TOKEN};
use redsol_actors::store::Store;
use serde_json::json;

#[tokio::test]
async fn start_registration_by_buttons_and_an_incident() {
    let fake = FakeTelegram::start(TOKEN).await;
    let store = demo_store(&rules());
    let bot = Bot::start(&fake, store.clone()).await;

    let commands: Vec<String> = fake.commands().into_iter().map(|(c, _)| c).collect();
    assert_eq!(commands, ["start", "menu", "ayuda", "cancelar"]);
    assert_eq!(
        fake.calls("deletewebhook").len(),
        1,
        "polling mode deletes any webhook first"
    );

    let mut ana = User::new(&fake, 4242, "Ana", Some("López"));
    let hello = ana.say("/start").await;
    assert!(hello.text.contains("Hola, Ana"), "{}", hello.text);
    assert!(
        hello.buttons.contains(&"intent:register".to_string()),
        "{:?}",
        hello.buttons
    );

    let zone_q = ana.say("quiero contratar internet").await;
    assert!(zone_q.text.contains("zona"), "{}", zone_q.text);
    assert!(
        zone_q.buttons.contains(&"zone:Norte".to_string()),
        "{:?}",
        zone_q.buttons
    );

    // The phone is offered in a message of its own, with a reply keyboard.
    fake.wait_until("the share-my-phone prompt", |f| {
        f.sent()
            .iter()
            .any(|s| s.chat_id == 4242 && s.contact_button)
    })
    .await;

    let plan_q = ana.tap("zone:Norte").await;
    assert!(plan_q.text.contains("plan"), "{}", plan_q.text);
    assert!(
        plan_q.buttons.contains(&"plan:50".to_string()),
        "{:?}",
        plan_q.buttons
    );

    let summary = ana.tap("plan:50").await;
    assert!(summary.text.contains("¿Confirmo"), "{}", summary.text);
    assert!(store.prospects().is_empty(), "nothing saved before the yes");
    let done = ana.tap("yes").await;
    let price = bot
        .rules
        .plan(50)
        .map(|p| p.price)
        .expect("the 50 Mbps plan");
    assert!(done.text.contains("Registro exitoso"), "{}", done.text);
    assert!(
        done.text.contains(&format!("${price}/mes")),
        "{}",
        done.text
    );
    assert!(done.text.contains("Ana López"), "{}", done.text);
    let prospects = store.prospects();
    assert_eq!(prospects.len(), 1);
    assert_eq!(prospects[0].data.zone, "Norte");
    assert_eq!(prospects[0].data.key.user, "4242");

    let what = ana.say("no tengo internet desde ayer, urgente").await;
    let mut last = what;
    for _ in 0..4 {
        if last.text.contains("INC-") {
            break;
        }
        last = if last.buttons.contains(&"yes".to_string()) {
            ana.tap("yes").await
        } else if last.buttons.contains(&"modem:yes".to_string()) {
            ana.tap("modem:yes").await
        } else if last.buttons.iter().any(|b| b.starts_with("since:")) {
            ana.say("desde ayer").await
        } else {
            ana.say("no tengo internet, no funciona nada").await
        };
    }
    assert!(last.text.contains("INC-000001"), "{}", last.text);
    assert!(last.text.contains("Prioridad: Alta"), "{}", last.text);
    assert_eq!(store.incidents().len(), 1);
    assert!(fake.sent().iter().all(|s| s.chat_id == 4242));
    // No user id, name or text in a metric label.
    let labels = crate::metrics::label_values();
    assert!(!labels.is_empty());
    for v in labels {
        assert!(
            !v.contains("4242") && !v.contains("Ana") && !v.contains("internet"),
            "a label carries user data: {v}"
        );
    }
    bot.stop().await;
}

#[tokio::test]
async fn staff_commands_are_answered_only_to_staff() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;

    let stranger = User::new(&fake, 901, "Luis", None);
    let refused = stranger.say("estadisticas").await;
    assert!(
        refused.text.contains("solo para el personal"),
        "{}",
        refused.text
    );
    assert!(!refused.text.contains("Clientes:"), "{}", refused.text);

    let staff = User::new(&fake, STAFF_ID, "Marta", None);
    let stats = staff.say("estadisticas").await;
    assert!(stats.text.contains("Estadísticas"), "{}", stats.text);
    assert!(stats.text.contains("Clientes: 536"), "{}", stats.text);
    bot.stop().await;
}

#[tokio::test]
async fn stickers_photos_edits_and_contacts_are_answered_and_service_messages_skipped() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;
    let user = User::new(&fake, 555, "Rosa", None);

    let sticker = user
        .send(
            json!({"sticker": {"file_id": "CAAC", "file_unique_id": "AgAD", "type": "regular",
            "width": 512, "height": 512, "is_animated": false, "is_video": false}}),
        )
        .await;
    assert!(
        sticker.text.contains("no puedo escuchar audios"),
        "{}",
        sticker.text
    );

    let photo = user
        .send(
            json!({"photo": [{"file_id": "P1", "file_unique_id": "U1", "width": 90, "height": 90}],
            "caption": "mi modem"}),
        )
        .await;
    // The bot cannot see the photo, but it reads its caption.
    assert!(photo.text.contains("qué problema tienes"), "{}", photo.text);

    let voice = user
        .send(
            json!({"voice": {"file_id": "V1", "file_unique_id": "UV", "duration": 3,
            "mime_type": "audio/ogg", "file_size": 4321}}),
        )
        .await;
    assert!(
        voice.text.contains("no puedo escuchar audios"),
        "{}",
        voice.text
    );

    let mut edited = update::text(&user.profile, "hola otra vez");
    edited["edit_date"] = json!(1_700_000_100);
    let edit = user.push("edited_message", edited).await;
    assert!(
        edit.text.contains("no puedo escuchar audios"),
        "{}",
        edit.text
    );

    let own = user
        .send(json!({"contact": {"phone_number": "+524641112233", "first_name": "Rosa", "user_id": 555}}))
        .await;
    assert!(own.text.contains("guardé tu teléfono"), "{}", own.text);
    let foreign = user
        .send(json!({"contact": {"phone_number": "+525550001111", "first_name": "Otro", "user_id": 777}}))
        .await;
    assert!(
        foreign.text.contains("no puedo escuchar audios"),
        "{}",
        foreign.text
    );

    // Skipped, yet confirmed: a service message, a bot's message, an update kind not asked for,
    // and one teloxide does not know. The next text is answered, and nothing else was.
    let before = fake.sent().len();
    fake.push(
        "message",
        update::message(
            &user.profile,
            json!({"new_chat_members": [{"id": 5, "is_bot": false, "first_name": "X"}]}),
        ),
    );
    let robot = update::user(8, "Robot", None);
    let mut robot = robot;
    robot["is_bot"] = json!(true);
    fake.push("message", update::text(&robot, "hola"));
    fake.push("poll", json!({"id": "p", "question": "?", "options": [], "total_voter_count": 0,
        "is_closed": false, "is_anonymous": true, "type": "regular", "allows_multiple_answers": false}));
    fake.push("something_new", json!({"x": 1}));
    let menu = user.say("/menu").await;
    assert!(menu.text.contains("Puedo ayudarte"), "{}", menu.text);
    assert_eq!(fake.sent().len(), before + 1);
    bot.stop().await;
}

#[tokio::test]
async fn groups_answer_only_commands_addressed_to_the_bot_in_the_group() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;
    let user = User::new(&fake, 321, "Pepe", None);
    let group = -100_555;

    fake.push(
        "message",
        update::group_text(&user.profile, group, "hola a todos"),
    );
    fake.push(
        "message",
        update::group_text(&user.profile, group, "/menu@otro_bot"),
    );
    fake.push("message", update::group_text(&user.profile, group, "/menu"));
    fake.push(
        "message",
        update::group_text(
            &user.profile,
            group,
            &format!("/menu@{}", crate::fake::BOT_USERNAME),
        ),
    );
    let sent = fake.wait_for(1).await;
    assert_eq!(sent[0].chat_id, group, "the reply goes to the group");
    assert!(sent[0].text.contains("Puedo ayudarte"), "{}", sent[0].text);

    // The user's private chat is answered privately again.
    let private = user.say("/ayuda").await;
    assert_eq!(private.chat_id, 321);
    assert_eq!(
        fake.sent().len(),
        2,
        "nothing else was answered: {:#?}",
        fake.sent()
    );
    bot.stop().await;
}

#[tokio::test]
async fn staff_data_asked_in_a_group_goes_to_the_private_chat_and_the_group_is_told() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;
    let staff = User::new(&fake, STAFF_ID, "Marta", None);
    let group = -100_777;
    fake.push(
        "message",
        update::group_text(
            &staff.profile,
            group,
            &format!("/estadisticas@{}", crate::fake::BOT_USERNAME),
        ),
    );
    let sent = fake.wait_for(2).await;
    let in_group: Vec<_> = sent.iter().filter(|m| m.chat_id == group).collect();
    assert_eq!(in_group.len(), 1, "{sent:#?}");
    assert!(
        in_group[0].text.contains("Te respondo en privado"),
        "{}",
        in_group[0].text
    );
    assert!(
        !in_group[0].text.contains("Clientes"),
        "no data in the group"
    );
    let private = sent
        .iter()
        .find(|m| m.chat_id == STAFF_ID)
        .expect("an answer in the private chat");
    assert!(private.text.contains("Clientes: 536"), "{}", private.text);

    // A customer's answer to a group command stays in that group, even after the customer
    // writes privately: the chat is fixed with each message, not looked up when sending.
    let user = User::new(&fake, 321, "Pepe", None);
    fake.push(
        "message",
        update::group_text(
            &user.profile,
            group,
            &format!("/menu@{}", crate::fake::BOT_USERNAME),
        ),
    );
    let private = user.say("/ayuda").await;
    assert_eq!(private.chat_id, 321);
    // Both answers sent (each chat has its own lane, so in either order).
    let to_group = fake
        .wait_for(4)
        .await
        .into_iter()
        .filter(|m| m.chat_id == group)
        .count();
    assert_eq!(
        to_group,
        2,
        "the group got its own answer: {:#?}",
        fake.sent()
    );
    bot.stop().await;
}

#[tokio::test]
async fn an_account_is_shown_only_to_the_telegram_user_who_shared_its_phone() {
    let fake = FakeTelegram::start(TOKEN).await;
    let rules = rules();
    let store = demo_store(&rules);
    let clients = store.clients().await.expect("clients");
    let today =
        redsol_actors::store::civil_from_days((redsol_actors::store::unix_now() / 86_400) as i64);
    store.seed_payments(redsol_actors::demo::payments::demo_payments(
        &clients,
        &rules.billing,
        today,
    ));
    let client = &clients[0];
    let reference = rules.billing.reference(&client.id);
    let bot = Bot::start(&fake, store.clone()).await;

    // Someone shares the client's phone as another user's contact: it is not taken, and the
    // account stays closed to them.
    let stranger = User::new(&fake, 556, "Nadie", None);
    stranger
        .send(
            json!({"contact": {"phone_number": format!("+52{}", client.phone),
            "first_name": "Otra", "user_id": 999}}),
        )
        .await;
    let asked = stranger.say("cuanto debo?").await;
    assert!(asked.text.contains("número de cliente"), "{}", asked.text);
    assert!(!asked.text.contains(&reference), "{}", asked.text);

    // The client shares their own: their account, with their reference.
    let owner = User::new(&fake, 557, "Titular", None);
    let saved = owner
        .send(
            json!({"contact": {"phone_number": format!("+52{}", client.phone),
            "first_name": "Titular", "user_id": 557}}),
        )
        .await;
    assert!(saved.text.contains("guardé tu teléfono"), "{}", saved.text);
    let account = owner.say("cuanto debo?").await;
    assert!(account.text.contains(&reference), "{}", account.text);
    bot.stop().await;
}
