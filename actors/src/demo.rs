//! Deterministic demo clients: a plausible client base of a small ISP in Guanajuato, used to
//! seed an empty store on first start and by tests and benchmarks.
//!
//! The generator is a tiny SplitMix64 PRNG seeded with a constant, so the same arguments give
//! the same clients on every machine and every run; no external crate is involved.

pub mod payments;

use crate::model::Client;
use crate::store::civil_from_days;
use std::collections::HashSet;

/// Common Mexican first names (some compound, as they are used every day).
const FIRST_NAMES: [&str; 60] = [
    "José",
    "María",
    "Juan",
    "Guadalupe",
    "Francisco",
    "Ana",
    "Luis",
    "Rosa",
    "Carlos",
    "Carmen",
    "Jesús",
    "Patricia",
    "Miguel",
    "Laura",
    "Pedro",
    "Verónica",
    "Alejandro",
    "Gabriela",
    "Manuel",
    "Leticia",
    "Ricardo",
    "Alejandra",
    "Fernando",
    "Adriana",
    "Jorge",
    "Mónica",
    "Roberto",
    "Claudia",
    "Eduardo",
    "Elizabeth",
    "Antonio",
    "Silvia",
    "Javier",
    "Martha",
    "Sergio",
    "Sofía",
    "Raúl",
    "Fernanda",
    "Arturo",
    "Daniela",
    "Héctor",
    "Valeria",
    "Martín",
    "Ximena",
    "Andrés",
    "Lucía",
    "Óscar",
    "Araceli",
    "Rubén",
    "Beatriz",
    "Iván",
    "Itzel",
    "Ramón",
    "Yolanda",
    "Juan Carlos",
    "María José",
    "José Luis",
    "María Guadalupe",
    "Luis Ángel",
    "Ana Karen",
];

/// Common Mexican surnames, with their accents.
const SURNAMES: [&str; 60] = [
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Moreno",
    "Castillo",
    "Romero",
    "Álvarez",
    "Méndez",
    "Chávez",
    "Rivera",
    "Juárez",
    "Ramos",
    "Domínguez",
    "Herrera",
    "Medina",
    "Castro",
    "Vargas",
    "Guzmán",
    "Velázquez",
    "Muñoz",
    "Rojas",
    "Contreras",
    "Salazar",
    "Luna",
    "Ortega",
    "Guerrero",
    "Estrada",
    "Bautista",
    "Cortés",
    "Soto",
    "Núñez",
    "Ríos",
    "Navarro",
    "Rangel",
    "Zavala",
    "Ibarra",
    "Camacho",
    "Villanueva",
    "Saldaña",
    "Olvera",
];

/// Mail domains and their weights (most people use Gmail or Hotmail).
const DOMAINS: [(&str, u64); 4] = [
    ("gmail.com", 50),
    ("hotmail.com", 28),
    ("outlook.com", 12),
    ("yahoo.com.mx", 10),
];

/// Guanajuato area codes and their weights: Salamanca (the home zone), Celaya, Irapuato, León.
const AREA_CODES: [(&str, u64); 4] = [("464", 50), ("461", 20), ("462", 20), ("477", 10)];

/// 2019-01-01 and 2025-12-31, as days since 1970-01-01.
const FIRST_SIGNUP_DAY: i64 = 17_897;
const LAST_SIGNUP_DAY: i64 = 20_453;

/// The constant seed: the demo base is the same everywhere.
const SEED: u64 = 0x5245_4453_4F4C_2019; // "REDSOL" + 2019

/// SplitMix64: tiny, fast and good enough for demo data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is irrelevant for demo data.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index into `weights`, chosen with probability proportional to its weight.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut roll = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if roll < *w {
                return i;
            }
            roll -= w;
        }
        weights.len().saturating_sub(1)
    }
}

/// Zone weights: the first zones listed are the biggest (2n-1, 2n-3, ... 1), so the base looks
/// like a real one, concentrated where the network started.
fn zone_weights(n: usize) -> Vec<u64> {
    (0..n).map(|i| (2 * (n - i) - 1) as u64).collect()
}

/// Plan weights: the middle plan is the Estándar one and is the most sold (about half of the
/// clients with three plans); the others share the rest evenly.
fn plan_weights(n: usize) -> Vec<u64> {
    let standard = n / 2;
    (0..n)
        .map(|i| {
            if i == standard {
                2 * n.max(2) as u64
            } else {
                2
            }
        })
        .collect()
}

/// Lowercase ASCII for an email: accents dropped, `ñ` to `n`, spaces removed.
fn ascii_slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'á' | 'à' | 'ä' | 'Á' | 'À' | 'Ä' => 'a',
                'é' | 'è' | 'ë' | 'É' | 'È' | 'Ë' => 'e',
                'í' | 'ì' | 'ï' | 'Í' | 'Ì' | 'Ï' => 'i',
                'ó' | 'ò' | 'ö' | 'Ó' | 'Ò' | 'Ö' => 'o',
                'ú' | 'ù' | 'ü' | 'Ú' | 'Ù' | 'Ü' => 'u',
                'ñ' | 'Ñ' => 'n',
                c => c,
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

fn email_local_part(rng: &mut SplitMix64, first: &str, surname1: &str, surname2: &str) -> String {
    // Only the first word of a compound first name goes in the address.
    let first = ascii_slug(first.split_whitespace().next().unwrap_or(first));
    let s1 = ascii_slug(surname1);
    let s2 = ascii_slug(surname2);
    let initial = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    // A two-digit number (often a birth year) as people add when their name is taken.
    let year = 60 + rng.below(46); // 60..=105
    let nn = format!("{:02}", year % 100);
    match rng.below(6) {
        0 => format!("{first}.{s1}{nn}"),
        1 => format!("{first}{s1}{nn}"),
        2 => format!("{first}_{s1}"),
        3 => format!("{}{s1}{}", initial(&first), initial(&s2)),
        4 => format!("{first}.{s1}.{s2}"),
        _ => format!("{first}{}{nn}", initial(&s1)),
    }
}

fn phone(rng: &mut SplitMix64) -> String {
    let codes: Vec<u64> = AREA_CODES.iter().map(|(_, w)| *w).collect();
    let code = AREA_CODES[rng.weighted(&codes)].0;
    // Seven local digits; local numbers do not start with 0 or 1.
    let local = 2_000_000 + rng.below(8_000_000);
    format!("{code}{local:07}")
}

/// `count` deterministic demo clients (`CLI-0001`...) spread over `zones` and `plans`
/// (`(mbps, monthly price)`; the middle plan is taken as the Estándar one, the most sold).
///
/// Same arguments, same clients, always. Returns no client when `zones` or `plans` is empty,
/// since a client needs both.
pub fn demo_clients(count: usize, zones: &[String], plans: &[(u32, u32)]) -> Vec<Client> {
    if zones.is_empty() || plans.is_empty() {
        return Vec::new();
    }
    let mut rng = SplitMix64(SEED);
    let zone_w = zone_weights(zones.len());
    let plan_w = plan_weights(plans.len());
    let domain_w: Vec<u64> = DOMAINS.iter().map(|(_, w)| *w).collect();
    let mut emails = HashSet::with_capacity(count);
    let mut phones = HashSet::with_capacity(count);
    let mut clients = Vec::with_capacity(count);

    for i in 0..count {
        let first = *rng.pick(&FIRST_NAMES);
        let surname1 = *rng.pick(&SURNAMES);
        let mut surname2 = *rng.pick(&SURNAMES);
        if surname2 == surname1 {
            surname2 = *rng.pick(&SURNAMES);
        }
        let name = format!("{first} {surname1} {surname2}");

        let domain = DOMAINS[rng.weighted(&domain_w)].0;
        let mut email = format!(
            "{}@{domain}",
            email_local_part(&mut rng, first, surname1, surname2)
        );
        while emails.contains(&email) {
            // Taken: do what people do, add digits.
            let (local, dom) = email.split_once('@').unwrap_or((email.as_str(), domain));
            email = format!("{local}{}@{dom}", rng.below(10));
        }
        emails.insert(email.clone());

        let mut phone_number = phone(&mut rng);
        while phones.contains(&phone_number) {
            phone_number = phone(&mut rng);
        }
        phones.insert(phone_number.clone());

        let zone = zones[rng.weighted(&zone_w)].clone();
        let (plan_mbps, price) = plans[rng.weighted(&plan_w)];

        let status = match rng.below(100) {
            0..=84 => "Activo",
            85..=94 => "Suspendido",
            _ => "Cancelado",
        };

        let day =
            FIRST_SIGNUP_DAY + rng.below((LAST_SIGNUP_DAY - FIRST_SIGNUP_DAY + 1) as u64) as i64;
        let (y, m, d) = civil_from_days(day);

        clients.push(Client {
            id: format!("CLI-{:04}", i + 1),
            name,
            email,
            zone,
            phone: phone_number,
            plan_mbps,
            price,
            status: status.to_string(),
            signup_date: format!("{y:04}-{m:02}-{d:02}"),
        });
    }
    clients
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Vec<String> {
        [
            "Salamanca Centro",
            "Valtierrilla",
            "San José Temascatío",
            "Cerro Gordo",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    const PLANS: [(u32, u32); 3] = [(10, 300), (20, 400), (50, 600)];

    #[test]
    fn count_and_determinism() {
        let a = demo_clients(300, &zones(), &PLANS);
        let b = demo_clients(300, &zones(), &PLANS);
        assert_eq!(a.len(), 300);
        assert_eq!(a, b);
        // A shorter run is a prefix of a longer one: the sequence does not depend on count.
        assert_eq!(demo_clients(10, &zones(), &PLANS)[..], a[..10]);
        assert!(demo_clients(0, &zones(), &PLANS).is_empty());
    }

    #[test]
    fn empty_zones_or_plans_give_no_clients() {
        assert!(demo_clients(5, &[], &PLANS).is_empty());
        assert!(demo_clients(5, &zones(), &[]).is_empty());
    }

    #[test]
    fn zones_and_plans_are_valid_and_prices_match() {
        let zones = zones();
        for c in demo_clients(500, &zones, &PLANS) {
            assert!(zones.contains(&c.zone), "{}", c.zone);
            let plan = PLANS.iter().find(|(mbps, _)| *mbps == c.plan_mbps);
            assert_eq!(plan.map(|p| p.1), Some(c.price), "{c:?}");
            assert!(["Activo", "Suspendido", "Cancelado"].contains(&c.status.as_str()));
        }
    }

    #[test]
    fn distributions_are_weighted() {
        let zones = zones();
        let clients = demo_clients(2000, &zones, &PLANS);
        let in_zone = |z: &str| clients.iter().filter(|c| c.zone == z).count();
        assert!(in_zone(&zones[0]) > in_zone(&zones[3]) * 2);
        assert!(in_zone(&zones[3]) > 0);
        let on_plan = |mbps: u32| clients.iter().filter(|c| c.plan_mbps == mbps).count();
        assert!(on_plan(20) > on_plan(10) && on_plan(20) > on_plan(50));
        assert!(on_plan(10) > 0 && on_plan(50) > 0);
        let active = clients.iter().filter(|c| c.status == "Activo").count();
        assert!((1600..=1800).contains(&active), "{active}");
        assert!(clients.iter().any(|c| c.status == "Suspendido"));
        assert!(clients.iter().any(|c| c.status == "Cancelado"));
    }

    #[test]
    fn phones_are_ten_digits_with_guanajuato_codes() {
        for c in demo_clients(500, &zones(), &PLANS) {
            assert_eq!(c.phone.len(), 10, "{}", c.phone);
            assert!(c.phone.bytes().all(|b| b.is_ascii_digit()), "{}", c.phone);
            assert!(["464", "461", "462", "477"].contains(&&c.phone[..3]));
        }
    }

    #[test]
    fn ids_emails_and_phones_are_unique() {
        let clients = demo_clients(1000, &zones(), &PLANS);
        let ids: HashSet<_> = clients.iter().map(|c| &c.id).collect();
        let emails: HashSet<_> = clients.iter().map(|c| &c.email).collect();
        let phones: HashSet<_> = clients.iter().map(|c| &c.phone).collect();
        assert_eq!(ids.len(), 1000);
        assert_eq!(emails.len(), 1000);
        assert_eq!(phones.len(), 1000);
        assert_eq!(clients[0].id, "CLI-0001");
        assert_eq!(clients[999].id, "CLI-1000");
    }

    #[test]
    fn emails_are_lowercase_ascii_and_names_have_accents() {
        let clients = demo_clients(500, &zones(), &PLANS);
        for c in &clients {
            assert!(c.email.is_ascii(), "{}", c.email);
            assert_eq!(c.email, c.email.to_lowercase());
            let (local, domain) = c.email.split_once('@').expect("an @");
            assert!(!local.is_empty());
            assert!(DOMAINS.iter().any(|(d, _)| *d == domain), "{domain}");
            assert!(c.name.split_whitespace().count() >= 3, "{}", c.name);
        }
        assert!(clients.iter().any(|c| !c.name.is_ascii()));
    }

    #[test]
    fn signup_dates_are_in_range_and_well_formed() {
        let clients = demo_clients(500, &zones(), &PLANS);
        for c in &clients {
            let d = &c.signup_date;
            assert_eq!(d.len(), 10, "{d}");
            assert!(
                d.as_str() >= "2019-01-01" && d.as_str() <= "2025-12-31",
                "{d}"
            );
            assert_eq!(&d[4..5], "-");
            assert_eq!(&d[7..8], "-");
        }
        let years: HashSet<_> = clients.iter().map(|c| &c.signup_date[..4]).collect();
        assert_eq!(years.len(), 7);
    }

    #[test]
    fn slug_drops_accents() {
        assert_eq!(ascii_slug("Núñez"), "nunez");
        assert_eq!(ascii_slug("Álvarez"), "alvarez");
        assert_eq!(ascii_slug("José Luis"), "joseluis");
    }
}
