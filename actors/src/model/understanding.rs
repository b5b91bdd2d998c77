//! What the bot understood of a message: the intent, its confidence and the entities.

use super::*;

/// The intents of the contract (`architecture.md` §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Greeting,
    Register,
    Plans,
    Coverage,
    ReportIncident,
    IncidentStatus,
    Billing,
    HumanAgent,
    Goodbye,
    Help,
    Stats,
    ClientSearch,
    Finance,
    CancelService,
    ChangePlan,
    OutOfScope,
}

impl Intent {
    pub const ALL: [Intent; 16] = [
        Intent::Greeting,
        Intent::Register,
        Intent::Plans,
        Intent::Coverage,
        Intent::ReportIncident,
        Intent::IncidentStatus,
        Intent::Billing,
        Intent::HumanAgent,
        Intent::Goodbye,
        Intent::Help,
        Intent::Stats,
        Intent::ClientSearch,
        Intent::Finance,
        Intent::CancelService,
        Intent::ChangePlan,
        Intent::OutOfScope,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::Register => "register",
            Intent::Plans => "plans",
            Intent::Coverage => "coverage",
            Intent::ReportIncident => "report_incident",
            Intent::IncidentStatus => "incident_status",
            Intent::Billing => "billing",
            Intent::HumanAgent => "human_agent",
            Intent::Goodbye => "goodbye",
            Intent::Help => "help",
            Intent::Stats => "stats",
            Intent::ClientSearch => "client_search",
            Intent::Finance => "finance",
            Intent::CancelService => "cancel_service",
            Intent::ChangePlan => "change_plan",
            Intent::OutOfScope => "out_of_scope",
        }
    }

    pub fn parse(s: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// The intent's position in [`Intent::ALL`] (the order of score and probability arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Intents answered only to staff.
    pub fn staff_only(self) -> bool {
        matches!(self, Intent::Stats | Intent::ClientSearch | Intent::Finance)
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of trouble an incident report describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    NoService,
    Slow,
    Intermittent,
    Other,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::NoService => "no_service",
            IncidentKind::Slow => "slow",
            IncidentKind::Intermittent => "intermittent",
            IncidentKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<IncidentKind> {
        [
            IncidentKind::NoService,
            IncidentKind::Slow,
            IncidentKind::Intermittent,
            IncidentKind::Other,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The Spanish label written to the store's `Tipo` column.
    pub fn label_es(self) -> &'static str {
        match self {
            IncidentKind::NoService => "Sin servicio",
            IncidentKind::Slow => "Lentitud",
            IncidentKind::Intermittent => "Intermitencia",
            IncidentKind::Other => "Otro",
        }
    }
}

/// Incident priority, as the business rules name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Priority {
    Alta,
    Media,
    Baja,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Alta, Priority::Media, Priority::Baja];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Alta => "Alta",
            Priority::Media => "Media",
            Priority::Baja => "Baja",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The entities of the contract that the NLU extracts from one utterance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_mbps: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_kind: Option<IncidentKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modem_restarted: Option<bool>,
    /// A place named that is not one of our zones ("Irapuato", "Col. Las Flores").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// A phone number said in passing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A ticket id typed by the user, as stored (`INC-000123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// Where an understanding came from (the `source` label of `redsol_intents_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Rules,
    Llm,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Rules => "rules",
            Source::Llm => "llm",
        }
    }
}

/// The result of understanding one utterance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    pub intent: Intent,
    pub confidence: f32,
    pub entities: Entities,
    pub source: Source,
    /// The next most probable intent and its probability, when the offline model gives one:
    /// two close candidates get a question, not a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<(Intent, f32)>,
}

#[cfg(test)]
mod tests {
    use super::Intent;

    #[test]
    fn an_intents_index_is_its_place_in_all() {
        for (i, intent) in Intent::ALL.iter().enumerate() {
            assert_eq!(intent.index(), i, "{intent}");
        }
    }
}
