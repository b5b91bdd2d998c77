//! `[billing]` in the config: where and how clients pay, and when an unpaid service is
//! suspended.

use serde::Deserialize;

/// `[billing]` in the config.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Billing {
    /// Days after a period's due date before the service is suspended.
    pub suspend_after_days: u32,
    /// The day of the month a period is due (1 to 28).
    pub due_day: u32,
    /// A client's payment reference: this prefix, the digits of the client id and a check
    /// digit (Luhn): `RS00427`.
    pub reference_prefix: String,
    /// SPEI transfers: the CLABE (18 digits) and the bank.
    pub spei_clabe: String,
    pub bank_name: String,
    /// Deposits at the bank's branches or OXXO: the account (card) number.
    pub bank_account: String,
    /// The office, where clients pay in cash.
    pub office_address: String,
    pub office_hours: String,
    /// Reminders of a pending period this many days before its due date, and on it.
    pub remind_days_before: u32,
    /// The WhatsApp template of a reminder outside the 24-hour window (body: {{1}} name,
    /// {{2}} period, {{3}} amount, {{4}} due date); empty: no reminder outside the window.
    pub reminder_template: String,
}

impl Default for Billing {
    fn default() -> Self {
        Self {
            suspend_after_days: 10,
            due_day: 10,
            reference_prefix: "RS".into(),
            spei_clabe: "012180001234567897".into(),
            bank_name: "BBVA".into(),
            bank_account: "4152 3138 0000 0000".into(),
            office_address: "Av. Hidalgo 123, Centro, Salamanca, Gto.".into(),
            office_hours: "lunes a sábado de 9:00 a 18:00".into(),
            remind_days_before: 3,
            reminder_template: "recordatorio_pago".into(),
        }
    }
}

/// The Luhn check digit of a string of digits.
fn luhn(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let d = d * 2;
                if d > 9 {
                    d - 9
                } else {
                    d
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

impl Billing {
    /// The payment reference of a client: prefix, the id's digits, a check digit.
    pub fn reference(&self, client_id: &str) -> String {
        let digits: String = client_id.chars().filter(char::is_ascii_digit).collect();
        format!("{}{digits}{}", self.reference_prefix.trim(), luhn(&digits))
    }

    /// Whether a reference is well formed (its check digit matches).
    pub fn reference_ok(&self, reference: &str) -> bool {
        let Some(rest) = reference.trim().strip_prefix(self.reference_prefix.trim()) else {
            return false;
        };
        let (digits, check) = rest.split_at(rest.len().saturating_sub(1));
        !digits.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit())
            && check.parse::<u32>().ok() == Some(luhn(digits))
    }

    /// The first problem with these settings: the key and what is wrong.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !(1..=28).contains(&self.due_day) {
            return Some(("billing.due_day", "must be between 1 and 28".into()));
        }
        if self.suspend_after_days > 90 {
            return Some(("billing.suspend_after_days", "must be 90 or less".into()));
        }
        let clabe = self.spei_clabe.trim();
        if !clabe.is_empty() && (clabe.len() != 18 || !clabe.bytes().all(|b| b.is_ascii_digit())) {
            return Some(("billing.spei_clabe", "must be 18 digits".into()));
        }
        if self.remind_days_before > 28 {
            return Some(("billing.remind_days_before", "must be 28 or less".into()));
        }
        if self.reference_prefix.trim().is_empty() {
            return Some(("billing.reference_prefix", "must not be empty".into()));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_carry_a_check_digit_that_catches_a_typo() {
        let b = Billing::default();
        let r = b.reference("CLI-0042");
        assert!(r.starts_with("RS0042") && r.len() == 7, "{r}");
        assert!(b.reference_ok(&r));
        let typo = r.replace("0042", "0024");
        assert!(!b.reference_ok(&typo), "{typo}");
        assert!(!b.reference_ok("XX00420"));
        // Luhn's own example: 7992739871 has check digit 3.
        assert_eq!(luhn("7992739871"), 3);
    }
}
