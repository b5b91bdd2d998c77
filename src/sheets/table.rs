//! The tabs of the sheet staff use, read and written by header name: staff reorder
//! columns and add their own, so positions come from the header row, never from an index.
//!
//! Cells redsol writes are plain text: a value that a spreadsheet would take for a formula
//! (`=`, `+`, `-`, `@` first) is prefixed with `'`, and every cell is capped in length.

use crate::store::sqlite::SurveyRecord;
use redsol_actors::model::{Client, Incident, Priority, Prospect};
use redsol_actors::text;
use std::collections::HashMap;

/// `Clientes` columns.
pub const CLIENT_HEADERS: &[&str] = &[
    "ID Cliente",
    "Nombre",
    "Email",
    "Zona",
    "Teléfono",
    "Plan",
    "Precio",
    "Estado",
    "Fecha Alta",
];

/// `Pagos` columns: clients' payments by period.
pub const PAYMENT_HEADERS: &[&str] = &[
    "ID Pago",
    "ID Cliente",
    "Periodo",
    "Monto",
    "Vence",
    "Estado",
    "Referencia",
    "Fecha Pago",
    "Comprobante",
];

/// `Encuestas` columns: customers' ratings of their closed tickets.
pub const SURVEY_HEADERS: &[&str] = &[
    "ID",
    "Ticket",
    "Cliente",
    "Calificación",
    "Comentario",
    "Fecha",
];

/// `Incidentes` columns.
pub const INCIDENT_HEADERS: &[&str] = &[
    "ID",
    "ID Cliente",
    "Cliente",
    "Tipo",
    "Descripción",
    "Prioridad",
    "Zona",
    "Teléfono",
    "Estado",
    "Fecha Creación",
    "Técnico Asignado",
];

/// `Prospectos` columns.
pub const PROSPECT_HEADERS: &[&str] = &[
    "ID",
    "Nombre",
    "Teléfono",
    "Zona",
    "Plan",
    "Precio",
    "Canal",
    "Estado",
    "Fecha",
];

/// Where each known header is in a tab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    index: HashMap<&'static str, usize>,
}

impl Columns {
    /// Finds `required` in the header row (accents, case and spacing ignored). The error names
    /// the tab and every missing header.
    pub fn find(
        tab: &str,
        header_row: &[String],
        required: &[&'static str],
    ) -> Result<Columns, String> {
        let folded: Vec<String> = header_row.iter().map(|h| text::fold(h)).collect();
        let mut index = HashMap::new();
        let mut missing = Vec::new();
        for &name in required {
            let want = text::fold(name);
            match folded.iter().position(|h| *h == want) {
                Some(i) => {
                    index.insert(name, i);
                }
                None => missing.push(format!("\"{name}\"")),
            }
        }
        if missing.is_empty() {
            Ok(Columns { index })
        } else {
            Err(format!(
                "the tab \"{tab}\" has no column {} in its first row",
                missing.join(", ")
            ))
        }
    }

    /// The position of a column, from 0.
    pub fn position(&self, header: &str) -> Option<usize> {
        self.index.get(header).copied()
    }

    /// The cell under `header` in a row (empty when the row is shorter).
    pub fn get<'a>(&self, row: &'a [String], header: &str) -> &'a str {
        self.index
            .get(header)
            .and_then(|&i| row.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// A row with `values` under their headers, empty cells elsewhere, every cell made safe.
    pub fn row(&self, values: &[(&'static str, String)], max_chars: usize) -> Vec<String> {
        let width = self.index.values().max().map_or(0, |m| m + 1);
        let mut row = vec![String::new(); width];
        for (header, value) in values {
            if let Some(&i) = self.index.get(header) {
                row[i] = safe_cell(value, max_chars);
            }
        }
        row
    }
}

/// Plain text for a cell: capped at `max_chars`, and prefixed with `'` when a spreadsheet
/// would read it as a formula.
pub fn safe_cell(value: &str, max_chars: usize) -> String {
    let capped: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect();
    if capped.starts_with(['=', '+', '-', '@']) {
        format!("'{capped}")
    } else {
        capped
    }
}

/// What redsol wrote, read back: a leading `'` it added is not part of the value.
pub fn plain(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => cell,
    }
}

/// The whole number at the start of a cell's digits: "$450.00" → 450, "50 Mbps" → 50.
pub fn number(cell: &str) -> Option<u32> {
    let digits: String = cell
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A `Clientes` row, or `None` for a row without an ID (a blank or note row).
pub fn client(cols: &Columns, row: &[String]) -> Option<Client> {
    let id = plain(cols.get(row, "ID Cliente"));
    if id.is_empty() {
        return None;
    }
    Some(Client {
        id: id.to_string(),
        name: plain(cols.get(row, "Nombre")).to_string(),
        email: plain(cols.get(row, "Email")).to_string(),
        zone: plain(cols.get(row, "Zona")).to_string(),
        phone: plain(cols.get(row, "Teléfono")).to_string(),
        plan_mbps: number(cols.get(row, "Plan")).unwrap_or(0),
        price: number(cols.get(row, "Precio")).unwrap_or(0),
        status: plain(cols.get(row, "Estado")).to_string(),
        signup_date: plain(cols.get(row, "Fecha Alta")).to_string(),
    })
}

/// What staff may have changed on an incident in the sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: String,
    pub status: String,
    pub technician: String,
    pub priority: Option<Priority>,
}

impl IncidentRow {
    pub fn is_open(&self) -> bool {
        !matches!(self.status.as_str(), "Resuelto" | "Cerrado" | "Cancelado")
    }
}

/// An `Incidentes` row, or `None` for a row without an ID.
pub fn incident_row(cols: &Columns, row: &[String]) -> Option<IncidentRow> {
    let id = plain(cols.get(row, "ID"));
    if id.is_empty() {
        return None;
    }
    Some(IncidentRow {
        id: id.to_string(),
        status: plain(cols.get(row, "Estado")).to_string(),
        technician: plain(cols.get(row, "Técnico Asignado")).to_string(),
        priority: Priority::parse(plain(cols.get(row, "Prioridad"))),
    })
}

/// The cells of a new `Prospectos` row.
pub fn prospect_cells(p: &Prospect) -> Vec<(&'static str, String)> {
    vec![
        ("ID", p.id.clone()),
        ("Nombre", p.data.name.clone()),
        ("Teléfono", p.data.phone.clone().unwrap_or_default()),
        ("Zona", p.data.zone.clone()),
        ("Plan", format!("{} Mbps", p.data.plan_mbps)),
        ("Precio", p.data.price.to_string()),
        ("Canal", p.data.key.channel.as_str().to_string()),
        ("Estado", p.status.clone()),
        ("Fecha", p.created_at.clone()),
    ]
}

/// The cells of a new `Encuestas` row.
pub fn survey_cells(s: &SurveyRecord) -> Vec<(&'static str, String)> {
    vec![
        ("ID", s.id.clone()),
        ("Ticket", s.ticket.clone()),
        ("Cliente", s.client.clone()),
        ("Calificación", s.rating.to_string()),
        ("Comentario", s.comment.clone()),
        ("Fecha", s.created_at.clone()),
    ]
}

/// A1 notation of the cell at a column (from 0) and a sheet row (from 1) of `tab`.
pub fn a1_cell(tab: &str, column: usize, row: usize) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!(
        "{}!{}{row}",
        super::api::whole(tab),
        String::from_utf8_lossy(&letters)
    )
}

/// The cells of a new `Incidentes` row.
pub fn incident_cells(i: &Incident) -> Vec<(&'static str, String)> {
    vec![
        ("ID", i.id.clone()),
        ("ID Cliente", i.data.client_id.clone().unwrap_or_default()),
        ("Cliente", i.data.client_name.clone()),
        ("Tipo", i.data.kind.label_es().to_string()),
        ("Descripción", i.data.description.clone()),
        ("Prioridad", i.data.priority.as_str().to_string()),
        ("Zona", i.data.zone.clone().unwrap_or_default()),
        ("Teléfono", i.data.phone.clone().unwrap_or_default()),
        ("Estado", i.status.clone()),
        ("Fecha Creación", i.created_at.clone()),
        ("Técnico Asignado", i.technician.clone()),
    ]
}

/// The largest number among IDs like `INC-000123` in a column (0 when none).
pub fn largest_id(ids: impl IntoIterator<Item = String>, prefix: &str) -> u64 {
    ids.into_iter()
        .filter_map(|id| {
            id.trim()
                .strip_prefix(prefix)
                .and_then(|n| n.parse::<u64>().ok())
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_and_missing_ones_named() {
        let headers = strings(&[
            "notas",
            "PLAN",
            "telefono ",
            "ID Cliente",
            "Nombre",
            "Email",
            "Zona",
            "Precio",
            "Estado",
            "Fecha alta",
        ]);
        let cols = Columns::find("Clientes", &headers, CLIENT_HEADERS).expect("all there");
        let row = strings(&[
            "vip",
            "Premium 100 Mbps",
            "4421234567",
            "CLI-0001",
            "Ana",
            "a@x.mx",
            "Norte",
            "$600.00",
            "Activo",
            "2024-01-02",
        ]);
        let c = client(&cols, &row).expect("a client");
        assert_eq!(
            (c.id.as_str(), c.plan_mbps, c.price, c.phone.as_str()),
            ("CLI-0001", 100, 600, "4421234567")
        );

        let e = Columns::find(
            "Clientes",
            &strings(&["ID Cliente", "Nombre"]),
            CLIENT_HEADERS,
        )
        .expect_err("missing columns");
        assert!(
            e.contains("\"Clientes\"")
                && e.contains("\"Teléfono\"")
                && e.contains("\"Fecha Alta\""),
            "{e}"
        );
    }

    #[test]
    fn rows_put_values_under_their_headers_and_leave_other_columns_empty() {
        let headers = strings(&[
            "Fecha",
            "extra",
            "ID",
            "Nombre",
            "Teléfono",
            "Zona",
            "Plan",
            "Precio",
            "Canal",
            "Estado",
        ]);
        let cols = Columns::find("Prospectos", &headers, PROSPECT_HEADERS).expect("all there");
        let row = cols.row(
            &[("ID", "PRO-000001".into()), ("Fecha", "2026-11-25".into())],
            100,
        );
        assert_eq!(row.len(), 10);
        assert_eq!(
            (row[0].as_str(), row[1].as_str(), row[2].as_str()),
            ("2026-11-25", "", "PRO-000001")
        );
    }

    #[test]
    fn formula_looking_cells_become_plain_text_and_long_ones_are_capped() {
        assert_eq!(
            safe_cell("=IMPORTXML(\"http://x\")", 100),
            "'=IMPORTXML(\"http://x\")"
        );
        assert_eq!(safe_cell("+52 442", 100), "'+52 442");
        assert_eq!(safe_cell("-1", 100), "'-1");
        assert_eq!(safe_cell("@SUM", 100), "'@SUM");
        assert_eq!(safe_cell("Ana = Beto", 100), "Ana = Beto");
        assert_eq!(safe_cell("línea\nnueva", 100), "línea nueva");
        assert_eq!(safe_cell(&"ñ".repeat(50), 10).chars().count(), 10);
        assert_eq!(plain("'=1+1"), "=1+1");
        assert_eq!(plain("'hola"), "'hola");
    }

    #[test]
    fn the_largest_id_ignores_other_shapes() {
        let ids = strings(&["INC-000041", "INC-7", "manual", "INC-0000x", " INC-000120 "]);
        assert_eq!(largest_id(ids, "INC-"), 120);
        assert_eq!(largest_id(Vec::new(), "PRO-"), 0);
    }
}
