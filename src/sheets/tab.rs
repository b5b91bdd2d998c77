//! The tabs of the sheet: their names, columns and IDs, and a tab as read.

use super::table::{self, Columns};
use crate::settings::SheetsTuning;
use crate::store::sqlite::{INCIDENTS, PROSPECTS, SURVEYS};
use redsol_actors::model::Client;
use std::sync::Arc;

/// One of the tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tab {
    Clients,
    Incidents,
    Prospects,
    Surveys,
    Payments,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Clients,
        Tab::Incidents,
        Tab::Prospects,
        Tab::Surveys,
        Tab::Payments,
    ];

    pub(crate) fn headers(self) -> &'static [&'static str] {
        match self {
            Tab::Clients => table::CLIENT_HEADERS,
            Tab::Incidents => table::INCIDENT_HEADERS,
            Tab::Prospects => table::PROSPECT_HEADERS,
            Tab::Surveys => table::SURVEY_HEADERS,
            Tab::Payments => table::PAYMENT_HEADERS,
        }
    }

    /// The tab's name in the sheet (from config).
    pub fn name(self, tuning: &SheetsTuning) -> &str {
        match self {
            Tab::Clients => &tuning.clients_tab,
            Tab::Incidents => &tuning.incidents_tab,
            Tab::Prospects => &tuning.prospects_tab,
            Tab::Surveys => &tuning.surveys_tab,
            Tab::Payments => &tuning.payments_tab,
        }
    }

    /// The column that holds a row's own ID.
    pub(super) fn id_header(self) -> &'static str {
        match self {
            Tab::Clients => "ID Cliente",
            Tab::Payments => "ID Pago",
            Tab::Incidents | Tab::Prospects | Tab::Surveys => "ID",
        }
    }

    /// The column that holds when a row was created (with the ID, how redsol knows its rows).
    pub(super) fn date_header(self) -> &'static str {
        match self {
            Tab::Clients => "Fecha Alta",
            Tab::Payments => "Vence",
            Tab::Incidents => "Fecha Creación",
            Tab::Prospects | Tab::Surveys => "Fecha",
        }
    }

    pub(super) fn cache_key(self) -> &'static str {
        match self {
            Tab::Clients => "clients",
            Tab::Payments => "payments",
            Tab::Incidents => INCIDENTS,
            Tab::Prospects => PROSPECTS,
            Tab::Surveys => SURVEYS,
        }
    }

    pub(super) fn of_outbox(tab: &str) -> Option<Tab> {
        match tab {
            INCIDENTS => Some(Tab::Incidents),
            PROSPECTS => Some(Tab::Prospects),
            SURVEYS => Some(Tab::Surveys),
            _ => None,
        }
    }
}

/// A tab as read: its columns and its data rows (the header row left out).
#[derive(Debug)]
pub struct TabData {
    pub columns: Columns,
    pub rows: Vec<Vec<String>>,
    /// The clients, parsed once per read (the `Clientes` tab only).
    pub(super) clients: Arc<Vec<Client>>,
}

impl TabData {
    pub(super) fn parse(
        tab: Tab,
        name: &str,
        mut all: Vec<Vec<String>>,
    ) -> Result<TabData, String> {
        if all.is_empty() {
            return Err(format!(
                "the tab \"{name}\" is empty: its first row must hold the column names"
            ));
        }
        let rows = all.split_off(1);
        let columns = Columns::find(name, &all[0], tab.headers())?;
        let clients = if tab == Tab::Clients {
            rows.iter()
                .filter_map(|r| table::client(&columns, r))
                .collect()
        } else {
            Vec::new()
        };
        Ok(TabData {
            columns,
            rows,
            clients: Arc::new(clients),
        })
    }

    pub(super) fn ids(&self, tab: Tab) -> impl Iterator<Item = String> + '_ {
        self.rows
            .iter()
            .map(move |r| self.columns.get(r, tab.id_header()).to_string())
    }
}
