//! Staff reports computed from the clients: statistics, finance, and client search.

use crate::model::Client;
use crate::rules::Rules;
use crate::text;

/// Aggregates of the client base.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub active: usize,
    pub suspended: usize,
    pub cancelled: usize,
    /// Active clients by zone, in config order.
    pub by_zone: Vec<(String, usize)>,
    /// Active clients and their monthly revenue by plan speed, in config order.
    pub by_plan: Vec<(u32, usize, u64)>,
    /// Monthly recurring revenue of active clients.
    pub mrr: u64,
    /// Monthly revenue of suspended clients.
    pub at_risk: u64,
}

impl Summary {
    pub fn of(clients: &[Client], rules: &Rules) -> Summary {
        let active: Vec<&Client> = clients.iter().filter(|c| c.status == "Activo").collect();
        let by_zone = rules
            .zones
            .iter()
            .map(|z| {
                (
                    z.name.clone(),
                    active.iter().filter(|c| c.zone == z.name).count(),
                )
            })
            .collect();
        let by_plan = rules
            .plans
            .iter()
            .map(|p| {
                let on: Vec<_> = active.iter().filter(|c| c.plan_mbps == p.mbps).collect();
                (
                    p.mbps,
                    on.len(),
                    on.iter().map(|c| u64::from(c.price)).sum(),
                )
            })
            .collect();
        Summary {
            total: clients.len(),
            active: active.len(),
            suspended: clients.iter().filter(|c| c.status == "Suspendido").count(),
            cancelled: clients.iter().filter(|c| c.status == "Cancelado").count(),
            by_zone,
            by_plan,
            mrr: active.iter().map(|c| u64::from(c.price)).sum(),
            at_risk: clients
                .iter()
                .filter(|c| c.status == "Suspendido")
                .map(|c| u64::from(c.price))
                .sum(),
        }
    }

    /// Average monthly revenue per active client.
    pub fn arpu(&self) -> u64 {
        if self.active == 0 {
            0
        } else {
            self.mrr / self.active as u64
        }
    }

    pub fn by_zone_line(&self) -> String {
        self.by_zone
            .iter()
            .map(|(z, n)| format!("{z} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn by_plan_line(&self) -> String {
        self.by_plan
            .iter()
            .map(|(mbps, n, _)| format!("{mbps} Mbps {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn revenue_by_plan_line(&self) -> String {
        self.by_plan
            .iter()
            .map(|(mbps, n, rev)| format!("{mbps} Mbps: {n} × = ${}", money(*rev)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// 161450 → "161,450".
pub fn money(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The words of a search request that name whom to find ("busca al cliente Juan Pérez" →
/// "Juan Pérez").
pub fn search_query(t: &str) -> String {
    const COMMAND: &[&str] = &[
        "busca",
        "buscar",
        "buscame",
        "busqueda",
        "encuentra",
        "encontrar",
        "localiza",
        "consulta",
        "consultar",
        "cliente",
        "clientes",
        "clienta",
        "usuario",
        "usuarios",
        "al",
        "a",
        "la",
        "el",
        "los",
        "las",
        "de",
        "del",
        "en",
        "con",
        "zona",
        "datos",
        "info",
        "informacion",
        "ficha",
        "lista",
        "listado",
        "dame",
        "muestrame",
        "quiero",
        "ver",
        "por",
        "favor",
        "porfa",
        "que",
        "se",
        "llame",
        "llamado",
        "telefono",
        "numero",
        "tel",
        "hay",
        "algun",
        "q",
        "senor",
        "senora",
        "sr",
        "sra",
        "un",
        "una",
        "me",
        "todos",
        "tiene",
        "plan",
        // Asking what a client owes: the account comes with a single result.
        "saldo",
        "cuanto",
        "debe",
        "adeudo",
        "pago",
        "pagos",
        "cuenta",
    ];
    t.split(|c: char| !(c.is_alphanumeric()))
        .filter(|w| !w.is_empty() && !COMMAND.contains(&text::fold(w).as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Clients matching a query: a zone (every client there), a phone (digits), or a name (every
/// word must match a word of the name, typos tolerated). At most `limit`, best first.
pub fn search<'a>(
    clients: &'a [Client],
    query: &str,
    rules: &Rules,
    limit: usize,
) -> Vec<&'a Client> {
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 4 {
        return clients
            .iter()
            .filter(|c| c.phone.contains(&digits) || c.id.ends_with(&digits))
            .take(limit)
            .collect();
    }
    let words: Vec<String> = text::fold(query)
        .split(' ')
        .filter(|w| w.len() >= 2)
        .map(String::from)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, &Client)> = clients
        .iter()
        .filter_map(|c| {
            let name: Vec<String> = text::fold(&c.name).split(' ').map(String::from).collect();
            let mut errors = 0;
            for w in &words {
                if name.iter().any(|n| n == w) {
                    continue;
                }
                if name.iter().any(|n| text::fuzzy_eq(w, n)) {
                    errors += 1;
                    continue;
                }
                return None;
            }
            Some((errors, c))
        })
        .collect();
    if scored.is_empty() {
        if let Some(zone) = rules.find_zone(query) {
            return clients
                .iter()
                .filter(|c| c.zone == zone.name)
                .take(limit)
                .collect();
        }
    }
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    scored.into_iter().take(limit).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str, name: &str, zone: &str, status: &str, mbps: u32, price: u32) -> Client {
        Client {
            id: id.into(),
            name: name.into(),
            email: String::new(),
            zone: zone.into(),
            phone: format!("464{:07}", id.len() * 1234),
            plan_mbps: mbps,
            price,
            status: status.into(),
            signup_date: "2024-01-01".into(),
        }
    }

    #[test]
    fn summary_counts_active_revenue() {
        let rules = crate::testing::rules();
        let cs = vec![
            client("C1", "Ana Ruiz", "Norte", "Activo", 100, 600),
            client("C2", "Luis Pérez", "Norte", "Activo", 50, 450),
            client("C3", "José Díaz", "Sur", "Suspendido", 20, 350),
        ];
        let s = Summary::of(&cs, &rules);
        assert_eq!((s.total, s.active, s.suspended), (3, 2, 1));
        assert_eq!(s.mrr, 1050);
        assert_eq!(s.at_risk, 350);
        assert_eq!(s.arpu(), 525);
        assert_eq!(money(161_450), "161,450");
    }

    #[test]
    fn search_by_name_with_typos_zone_and_phone() {
        let rules = crate::testing::rules();
        let cs = vec![
            client("C1", "María Hernández López", "Norte", "Activo", 100, 600),
            client("C2", "Mario Hernández", "Sur", "Activo", 50, 450),
        ];
        assert_eq!(
            search_query("busca al cliente Maria Hernandez"),
            "Maria Hernandez"
        );
        let found = search(&cs, "maria hernandes", &rules, 10);
        assert_eq!(found.first().map(|c| c.id.as_str()), Some("C1"));
        let found = search(&cs, "sur", &rules, 10);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "C2");
        assert!(search(&cs, "zzzz", &rules, 10).is_empty());
    }
}
