//! A ticket's follow-up. Staff close it (the sheet's Estado, `/cerrar INC-000123 nota`, or
//! `POST /admin/incidents/{id}/close`); the customer is told on their channel, with the note,
//! and asked "¿Se resolvió? Califica del 1 al 5". A rating is recorded; "no se arregló" or a
//! rating of 2 or less reopens the ticket and alerts the staff chat.

use crate::engine::{ConversationState, Engine};
use crate::flows::handoff::Addressed;
use crate::model::{Content, Inbound, Incident, QuickReply, Reply};
use crate::store::tickets::Survey;
use crate::store::StoreResult;
use crate::text;

/// The quick-reply ids of the rating buttons: `rate:INC-000123:4`.
const RATE: &str = "rate:";
/// The staff command that closes a ticket.
const CLOSE: &str = "/cerrar";
/// How long after a ticket is closed its rating is awaited: later, "no funciona" is a new fault.
const SURVEY_DAYS: u64 = 7;
/// Ratings at or below this reopen the ticket.
const REOPEN_AT_MOST: u8 = 2;
/// What a customer says when the fix did not hold ("no se arregló", "sigue igual").
const NOT_FIXED: &[&str] = &[
    "no se arreglo",
    "no se resolvio",
    "no quedo",
    "sigue igual",
    "sigue sin",
    "sigue fallando",
    "no funciona",
    "sigo sin",
    "sigue lento",
    "no sirve",
    "sigue la falla",
];

/// A rating typed as a number ("4", "le doy un 5", "5 estrellas", "⭐⭐⭐"), if that is all
/// the message is about.
fn typed_rating(t: &str) -> Option<u8> {
    let stars = t.chars().filter(|c| *c == '⭐').count();
    if stars > 0 && t.chars().all(|c| c == '⭐' || c.is_whitespace()) {
        return u8::try_from(stars).ok().filter(|n| (1..=5).contains(n));
    }
    let folded = text::fold(t);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() > 5 {
        return None;
    }
    let mut numbers = words.iter().filter_map(|w| w.parse::<u8>().ok());
    let n = numbers.next()?;
    (numbers.next().is_none() && (1..=5).contains(&n)).then_some(n)
}

fn not_fixed(t: &str) -> bool {
    let folded = text::fold(t);
    NOT_FIXED.iter().any(|p| folded.contains(p))
}

impl Engine {
    /// A ticket staff closed: the customer's notice, with the note and the rating buttons.
    /// `Ok(None)` when the ticket is unknown or was already closed (told twice, acted on once).
    pub async fn close_ticket(
        &self,
        id: &str,
        status: &str,
        note: &str,
        source: Option<String>,
    ) -> StoreResult<Option<(Incident, Vec<Addressed>)>> {
        let id = id.trim().to_uppercase();
        let Some(incident) = self
            .store
            .tickets()
            .close_incident(&id, status, self.now(), source)
            .await?
        else {
            return Ok(None);
        };
        let note = text::truncate_chars(note.trim(), 300);
        let note = if note.is_empty() {
            String::new()
        } else {
            self.rules.render("ticket_note", &[("note", note)])
        };
        let mut notice = self.say(
            "ticket_closed",
            &[
                ("id", incident.id.clone()),
                ("status", incident.status.to_lowercase()),
                ("note", note),
            ],
        );
        notice.quick_replies = (1..=5)
            .map(|n| QuickReply::new(format!("{RATE}{}:{n}", incident.id), n.to_string()))
            .collect();
        tracing::info!(event = "ticket_closed", ticket = %incident.id, status, "customer told and asked to rate");
        let to = vec![Addressed {
            key: incident.data.key.clone(),
            reply: notice,
            edit: None,
        }];
        Ok(Some((incident, to)))
    }

    /// `/cerrar INC-000123 nota`, from staff.
    pub(crate) async fn staff_close(&self, state: &mut ConversationState, typed: &str) -> Reply {
        let rest = typed.trim_start_matches(CLOSE).trim();
        let (id, note) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if !id.to_uppercase().starts_with("INC-") {
            return self.say("ticket_close_usage", &[]);
        }
        match self
            .close_ticket(id, "Resuelto", note, state.turn_source.clone())
            .await
        {
            Ok(Some((incident, notices))) => {
                state.outgoing.extend(notices);
                self.say("ticket_closed_staff", &[("id", incident.id)])
            }
            Ok(None) => self.say("ticket_close_unknown", &[("id", id.to_uppercase())]),
            Err(e) => {
                tracing::error!(error = %e, "could not close a ticket");
                self.say("store_error", &[])
            }
        }
    }

    /// A staff command of the follow-up, if the message is one.
    pub(crate) async fn followup_command(
        &self,
        state: &mut ConversationState,
        typed: &str,
    ) -> Option<Reply> {
        let command = typed.split_whitespace().next()?;
        (command == CLOSE).then_some(())?;
        Some(self.staff_close(state, typed).await)
    }

    /// A customer's answer to "¿Se resolvió?": a tapped or typed rating, or "no se arregló".
    /// `None` when the message is something else, or no ticket waits for a rating.
    pub(crate) async fn survey_turn(
        &self,
        state: &mut ConversationState,
        inbound: &Inbound,
    ) -> Option<Reply> {
        let (rating, comment, tapped) = match &inbound.content {
            Content::Choice(id) => {
                let (ticket, n) = id.strip_prefix(RATE)?.rsplit_once(':')?;
                (
                    n.parse::<u8>().ok()?,
                    String::new(),
                    Some(ticket.to_string()),
                )
            }
            Content::Text(t) => match typed_rating(t) {
                Some(n) => (n, String::new(), None),
                None if t.split_whitespace().count() <= 12 && not_fixed(t) => {
                    (1, text::truncate_chars(t, 300), None)
                }
                None => return None,
            },
            _ => return None,
        };
        let key = &inbound.key;
        let since = self.now().saturating_sub(SURVEY_DAYS * 86_400);
        let pending = match self.store.tickets().survey_pending(key, since).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not read a pending survey");
                return None;
            }
        };
        // Only the customer's own ticket, and only one waiting for its rating.
        let incident = match (pending, tapped) {
            (Some(i), Some(t)) if i.id == t => i,
            (Some(i), None) => i,
            (_, Some(_)) => return Some(self.say("survey_already", &[])),
            (None, None) => return None,
        };
        let survey = Survey {
            ticket: incident.id.clone(),
            client: incident
                .data
                .client_id
                .clone()
                .unwrap_or_else(|| incident.data.client_name.clone()),
            rating: rating.clamp(1, 5),
            comment: comment.clone(),
            at: self.now(),
            source: state.turn_source.clone(),
        };
        match self.store.tickets().answer_survey(survey.clone()).await {
            Ok(true) => {}
            Ok(false) => return Some(self.say("survey_already", &[])),
            Err(e) => {
                tracing::error!(error = %e, "could not record a rating");
                return Some(self.say("store_error", &[]));
            }
        }
        metrics::histogram!("redsol_csat").record(f64::from(survey.rating));
        if survey.rating > REOPEN_AT_MOST {
            return Some(
                self.with_menu(self.say("survey_thanks", &[("rating", survey.rating.to_string())])),
            );
        }
        if let Err(e) = self
            .store
            .tickets()
            .reopen_incident(&incident.id, self.now())
            .await
        {
            tracing::error!(error = %e, ticket = %incident.id, "could not reopen a ticket");
        }
        tracing::warn!(event = "ticket_reopened", ticket = %incident.id, rating = survey.rating, "a customer said the fix did not hold");
        let alert = self.say(
            "survey_alert",
            &[
                ("id", incident.id.clone()),
                ("name", incident.data.client_name.clone()),
                ("rating", survey.rating.to_string()),
                ("comment", comment),
            ],
        );
        for target in self.staff_targets() {
            self.send_to(state, &target, alert.clone());
        }
        Some(self.say("survey_reopened", &[("id", incident.id)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_read_from_short_messages_only() {
        for (t, n) in [
            ("5", Some(5)),
            ("le doy un 4", Some(4)),
            ("3 estrellas", Some(3)),
            ("⭐⭐", Some(2)),
            ("9", None),
            ("mi numero es 4641234567", None),
            ("entre 2 y 3", None),
            ("hola", None),
        ] {
            assert_eq!(typed_rating(t), n, "{t}");
        }
        assert!(not_fixed("No se arregló nada"));
        assert!(not_fixed("sigue sin internet"));
        assert!(!not_fixed("ya quedó, gracias"));
    }
}
