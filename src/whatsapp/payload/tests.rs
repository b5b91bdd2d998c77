use super::*;

fn parse(json: &str) -> Parsed {
    serde_json::from_str::<Delivery>(json)
        .expect("valid")
        .parse(None)
}

#[test]
fn walks_every_entry_change_message_and_status() {
    let p = parse(
        r#"{"object":"whatsapp_business_account","entry":[
          {"id":"1","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp",
            "contacts":[{"profile":{"name":"Ana"},"wa_id":"5214641111111"},{"profile":{"name":"Luis"},"wa_id":"5214642222222"}],
            "messages":[
              {"from":"5214641111111","id":"wamid.A1","timestamp":"1","type":"text","text":{"body":"hola"}},
              {"from":"5214642222222","id":"wamid.B1","timestamp":"1","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"plan:50","title":"50 Mbps"}}}
            ]}}]},
          {"id":"2","changes":[{"field":"messages","value":{
            "contacts":[{"profile":{"name":"Ana"},"wa_id":"5214641111111"}],
            "messages":[{"from":"5214641111111","id":"wamid.A2","type":"location","location":{"latitude":20.5,"longitude":-101.2,"name":"Salamanca centro"}}],
            "statuses":[{"id":"wamid.X","status":"failed","recipient_id":"521","errors":[{"code":131026,"title":"Message undeliverable"}]},
                        {"id":"wamid.Y","status":"sent","recipient_id":"521","biz_opaque_callback_data":"notice:F-1:declared:whatsapp:521"}]}}]}
        ]}"#,
    );
    assert_eq!(p.messages.len(), 3);
    assert_eq!(p.messages[0].key.user, "5214641111111");
    assert_eq!(p.messages[0].profile.name.as_deref(), Some("Ana"));
    assert_eq!(p.messages[0].content, Content::Text("hola".into()));
    assert_eq!(p.messages[1].profile.name.as_deref(), Some("Luis"));
    assert_eq!(p.messages[1].content, Content::Choice("plan:50".into()));
    assert!(matches!(p.messages[2].content, Content::Location { .. }));
    assert_eq!(p.statuses.len(), 2);
    assert_eq!(p.statuses[0].status, "failed");
    assert_eq!(p.statuses[0].errors[0].0, 131026);
    assert_eq!(p.statuses[0].callback, None);
    assert_eq!(
        p.statuses[1].callback.as_deref(),
        Some("notice:F-1:declared:whatsapp:521")
    );
}

#[test]
fn users_without_a_phone_are_keyed_by_user_id_and_odd_kinds_are_unsupported() {
    let p = parse(
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
            "contacts":[{"profile":{"name":"Zoe"},"user_id":"MX.123abc"}],
            "messages":[
              {"from_user_id":"MX.123abc","id":"wamid.U1","type":"sticker","sticker":{}},
              {"from_user_id":"MX.123abc","id":"wamid.U2","type":"brand_new_kind"},
              {"id":"wamid.NOFROM","type":"text","text":{"body":"?"}}
            ]}}]}]}"#,
    );
    assert_eq!(p.messages.len(), 2);
    assert_eq!(p.skipped, 1);
    assert_eq!(p.messages[0].key.user, "MX.123abc");
    assert_eq!(p.messages[0].profile.name.as_deref(), Some("Zoe"));
    assert_eq!(p.messages[0].profile.phone, None);
    assert_eq!(
        p.messages[0].content,
        Content::Unsupported("sticker".into())
    );
    assert_eq!(
        p.messages[1].content,
        Content::Unsupported("brand_new_kind".into())
    );
}

#[test]
fn photos_and_documents_keep_their_media_id_and_caption() {
    let p = parse(
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
            "contacts":[{"profile":{"name":"Ana"},"wa_id":"5214641234567"}],
            "messages":[
              {"from":"5214641234567","id":"wamid.M1","type":"image","image":{"id":"1234567890","mime_type":"image/jpeg","sha256":"x","caption":"mi recibo"}},
              {"from":"5214641234567","id":"wamid.M2","type":"document","document":{"id":"998877","filename":"pago.pdf","mime_type":"application/pdf"}}
            ]}}]}]}"#,
    );
    assert_eq!(
        p.messages[0].content,
        Content::Media {
            kind: "image".into(),
            id: "1234567890".into(),
            caption: Some("mi recibo".into())
        }
    );
    assert_eq!(
        p.messages[1].content,
        Content::Media {
            kind: "document".into(),
            id: "998877".into(),
            caption: None
        }
    );
}

#[test]
fn senders_and_ids_that_are_not_ids_are_skipped() {
    let long = "9".repeat(1_000_002);
    let json = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{{
          "messages":[
            {{"from":"{long}","id":"wamid.L","type":"text","text":{{"body":"hola"}}}},
            {{"from":"52 1 464","id":"wamid.S","type":"text","text":{{"body":"hola"}}}},
            {{"from":"5214641111111","id":"wamid with spaces","type":"text","text":{{"body":"hola"}}}},
            {{"from":"5214641111111","id":"wamid.OK","type":"text","text":{{"body":"hola"}}}}
          ]}}}}]}}]}}"#
    );
    let p = parse(&json);
    assert_eq!(p.skipped, 3);
    assert_eq!(p.messages.len(), 1);
    assert_eq!(p.messages[0].key.user, "5214641111111");
}

#[test]
fn a_change_for_another_business_number_is_dropped() {
    let json = r#"{"object":"whatsapp_business_account","entry":[{"changes":[
        {"field":"messages","value":{"metadata":{"phone_number_id":"111"},
          "messages":[{"from":"5214641111111","id":"wamid.1","type":"text","text":{"body":"hola"}}]}},
        {"field":"messages","value":{"metadata":{"phone_number_id":"222"},
          "messages":[{"from":"5214642222222","id":"wamid.2","type":"text","text":{"body":"hola"}}],
          "statuses":[{"id":"wamid.X","status":"read"}]}},
        {"field":"messages","value":{
          "messages":[{"from":"5214643333333","id":"wamid.3","type":"text","text":{"body":"hola"}}]}}
      ]}]}"#;
    let delivery = || serde_json::from_str::<Delivery>(json).expect("valid");
    let ours = delivery().parse(Some("111"));
    assert_eq!(ours.messages.len(), 1);
    assert_eq!(ours.messages[0].key.user, "5214641111111");
    assert_eq!(ours.foreign, 3, "two messages and a status not for us");
    assert_eq!(delivery().parse(None).messages.len(), 3);
}
