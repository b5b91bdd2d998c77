//! A fake Google with the tabs seeded (three clients, two incidents, three payments, empty
//! prospects and surveys), and its rows read back by header: shared by the Sheets tests and the fault run.

use crate::fake::FakeGoogle;
use redsol::sheets::table::SURVEY_HEADERS;
use std::collections::HashMap;

/// Headers in an order of staff's choosing, with a column of their own.
pub const PROSPECT_HEADERS: &[&str] = &[
    "Fecha",
    "Notas",
    "Canal",
    "ID",
    "Teléfono",
    "Nombre",
    "Plan",
    "Zona",
    "Precio",
    "Estado",
];

pub const INCIDENT_HEADERS: &[&str] = &[
    "Prioridad",
    "ID",
    "Técnico Asignado",
    "Cliente",
    "Descripción",
    "Tipo",
    "Zona",
    "Teléfono",
    "Estado",
    "Fecha Creación",
    "ID Cliente",
    "Seguimiento",
];

/// `Pagos` in staff's order, with a column of their own.
pub const PAYMENT_HEADERS: &[&str] = &[
    "ID Pago",
    "Notas",
    "ID Cliente",
    "Periodo",
    "Vence",
    "Monto",
    "Estado",
    "Comprobante",
    "Referencia",
    "Fecha Pago",
];

/// Three clients; two incidents; Ana (CLI-0001) paid October and owes November, Beto
/// (CLI-0002) has December pending.
pub fn seed(fake: &FakeGoogle) {
    fake.set_tab(
        "Clientes",
        vec![
            vec![
                "Teléfono",
                "ID Cliente",
                "Nombre",
                "Email",
                "Zona",
                "Plan",
                "Precio",
                "Estado",
                "Fecha Alta",
            ],
            vec![
                "4421110001",
                "CLI-0001",
                "Ana Ruiz",
                "ana@x.mx",
                "Norte",
                "50 Mbps",
                "$450",
                "Activo",
                "2024-01-05",
            ],
            vec![
                "4421110002",
                "CLI-0002",
                "Beto Paz",
                "beto@x.mx",
                "Sur",
                "100 Mbps",
                "$600",
                "Activo",
                "2024-02-11",
            ],
            vec![
                "4421110003",
                "CLI-0003",
                "Carla Gil",
                "carla@x.mx",
                "Centro",
                "20 Mbps",
                "$350",
                "Suspendido",
                "2024-03-20",
            ],
        ],
    );
    let mut incidents = vec![INCIDENT_HEADERS.to_vec()];
    incidents.push(vec![
        "Alta",
        "INC-000041",
        "Juan",
        "Chuy",
        "sin señal",
        "Sin servicio",
        "Norte",
        "",
        "En proceso",
        "2025-01-01",
        "",
        "llamar",
    ]);
    fake.set_tab("Incidentes", incidents);
    fake.set_tab("Prospectos", vec![PROSPECT_HEADERS.to_vec()]);
    fake.set_tab("Encuestas", vec![SURVEY_HEADERS.to_vec()]);
    let mut payments = vec![PAYMENT_HEADERS.to_vec()];
    payments.extend([
        vec![
            "PAG-000101",
            "",
            "CLI-0001",
            "2026-10",
            "2026-10-10",
            "$450",
            "Pagado",
            "",
            "",
            "08/10/2026",
        ],
        vec![
            "PAG-000102",
            "llamar",
            "CLI-0001",
            "2026-11",
            "10/11/2026",
            "$450.00",
            "Vencido",
            "",
            "",
            "",
        ],
        vec![
            "PAG-000103",
            "",
            "CLI-0002",
            "",
            "2026-12-10",
            "600",
            "Pendiente",
            "",
            "RS-EXT-77",
            "",
        ],
    ]);
    fake.set_tab("Pagos", payments);
}

/// A tab's data rows as header → value maps.
pub fn records(fake: &FakeGoogle, tab: &str) -> Vec<HashMap<String, String>> {
    let rows = fake.tab(tab).expect("the tab exists");
    let headers = rows[0].clone();
    rows[1..]
        .iter()
        .map(|r| {
            headers
                .iter()
                .enumerate()
                .map(|(i, h)| (h.clone(), r.get(i).cloned().unwrap_or_default()))
                .collect()
        })
        .collect()
}

/// A seeded fake on a runtime of its own, which outlives the redsol runs (and processes) of a
/// test; keep the runtime while the fake is used.
pub fn seeded_fake_in_own_runtime() -> (tokio::runtime::Runtime, FakeGoogle) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime.block_on(async {
        let fake = FakeGoogle::start().await;
        seed(&fake);
        fake
    });
    (runtime, fake)
}
