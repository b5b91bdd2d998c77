//! The bodies of Gemini requests, built from the rules in config: the model is told the
//! contract's intents and entities, the plans, prices and zones, and nothing else it could
//! pass off as a fact.

use redsol_actors::brain::ModelRequest;
use redsol_actors::model::{IncidentKind, Intent};
use redsol_actors::rules::Rules;
use serde_json::{json, Value};

/// Room for thinking when the model thinks as it likes (`brain.thinking_budget` negative).
const DEFAULT_THINKING_ROOM: i64 = 8192;

/// A request body, and whether its answer is the classification JSON.
#[derive(Clone, Debug)]
pub struct Prompt {
    pub body: Value,
    pub json: bool,
}

/// Builds prompts from the rules and the `[brain]` facts.
pub struct Prompts {
    thinking_budget: i64,
    facts: String,
    intents: Vec<&'static str>,
    zones: Vec<String>,
    plans: Vec<u32>,
    company: String,
}

const INTENT_GUIDE: &str = "\
greeting: saludo. register: quiere contratar o darse de alta. plans: pregunta planes o precios. \
coverage: pregunta si hay servicio en una zona. report_incident: reporta una falla (sin internet, lento, intermitente). \
incident_status: pregunta cómo va un reporte ya hecho. billing: pagos, recibos, cobros de su cuenta. \
human_agent: quiere hablar con una persona. goodbye: despedida o agradecimiento final. help: pide el menú o ayuda. \
stats: personal pide estadísticas de clientes o incidencias. client_search: personal busca un cliente. \
finance: personal pregunta ingresos o cobranza. \
cancel_service: un cliente quiere cancelar o dar de baja su servicio (nunca es contratar). \
change_plan: un cliente actual quiere subir o bajar de plan. out_of_scope: cualquier otra cosa.";

impl Prompts {
    pub fn new(rules: &Rules, facts: &[String], thinking_budget: i64) -> Self {
        let zones = rules
            .zones
            .iter()
            .map(|z| {
                if z.aliases.is_empty() {
                    z.name.clone()
                } else {
                    format!("{} (también: {})", z.name, z.aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        let plans = rules
            .plans
            .iter()
            .map(|p| format!("{} {} Mbps: ${} al mes", p.name, p.mbps, p.price))
            .collect::<Vec<_>>()
            .join("; ");
        let mut all = vec![
            format!(
                "Empresa: {}, proveedor de internet en México.",
                rules.company
            ),
            format!("Planes (precios en pesos, los únicos que existen): {plans}."),
            format!("Zonas con cobertura: {zones}."),
        ];
        all.extend(facts.iter().cloned());
        Self {
            thinking_budget,
            facts: all.join("\n"),
            intents: Intent::ALL.iter().map(|i| i.as_str()).collect(),
            zones: rules.zones.iter().map(|z| z.name.clone()).collect(),
            plans: rules.plans.iter().map(|p| p.mbps).collect(),
            company: rules.company.clone(),
        }
    }

    /// Classification: `{intent, confidence, entities}` in a schema.
    pub fn classify(&self, request: &ModelRequest) -> Prompt {
        let instruction = format!(
            "Clasificas mensajes de clientes de {company} (español de México, informal, con faltas de ortografía).\n\
             Devuelve solo el JSON del esquema: el intent, tu confianza de 0 a 1 y las entidades que el mensaje dice \
             explícitamente (no inventes ninguna; omite las que no estén).\n\
             Intents: {INTENT_GUIDE}\n\
             Entidades: zone (una de las zonas), plan_mbps (velocidad de un plan), incident_kind (no_service, slow, \
             intermittent u other), name (nombre de la persona si lo da), since (desde cuándo falla), \
             modem_restarted (si ya reinició el módem).\n\
             Datos:\n{facts}",
            company = self.company,
            facts = self.facts,
        );
        let kinds = [
            IncidentKind::NoService,
            IncidentKind::Slow,
            IncidentKind::Intermittent,
            IncidentKind::Other,
        ]
        .map(IncidentKind::as_str);
        let schema = json!({
            "type": "OBJECT",
            "properties": {
                "intent": {"type": "STRING", "enum": self.intents},
                "confidence": {"type": "NUMBER"},
                "entities": {
                    "type": "OBJECT",
                    "properties": {
                        "zone": {"type": "STRING", "enum": self.zones},
                        "plan_mbps": {"type": "INTEGER", "description": format!("una de: {:?}", self.plans)},
                        "incident_kind": {"type": "STRING", "enum": kinds},
                        "name": {"type": "STRING"},
                        "since": {"type": "STRING"},
                        "modem_restarted": {"type": "BOOLEAN"}
                    }
                }
            },
            "required": ["intent", "confidence"],
            "propertyOrdering": ["intent", "confidence", "entities"]
        });
        self.prompt(
            instruction,
            request,
            json!({
                "temperature": 0,
                "maxOutputTokens": 256,
                "responseMimeType": "application/json",
                "responseSchema": schema,
            }),
        )
    }

    /// Wording: a short answer in Mexican Spanish grounded in the facts.
    pub fn word(&self, request: &ModelRequest, max_chars: usize) -> Prompt {
        let instruction = format!(
            "Eres el asistente de {company} en WhatsApp y Telegram. Responde en español de México, amable y breve \
             (máximo {max_chars} caracteres, sin Markdown), usando solo estos datos. Si la respuesta no está en los \
             datos, dilo y ofrece el menú (escribir \"menú\") o hablar con una persona. Nunca inventes precios, \
             descuentos, promociones, fechas ni números de reporte.\n\
             Datos:\n{facts}",
            company = self.company,
            facts = self.facts,
        );
        self.prompt(
            instruction,
            request,
            json!({
                "temperature": 0.3,
                // Tokens are shorter than words: room for max_chars, and no more.
                "maxOutputTokens": max_chars / 2 + 32,
            }),
        )
    }

    fn prompt(&self, instruction: String, request: &ModelRequest, mut config: Value) -> Prompt {
        // Thinking tokens count against maxOutputTokens: leave room for them.
        let answer_tokens = config["maxOutputTokens"].as_i64().unwrap_or(256);
        if self.thinking_budget >= 0 {
            config["thinkingConfig"] = json!({"thinkingBudget": self.thinking_budget});
            config["maxOutputTokens"] = json!(answer_tokens + self.thinking_budget);
        } else {
            config["maxOutputTokens"] = json!(answer_tokens + DEFAULT_THINKING_ROOM);
        }
        Prompt {
            json: config.get("responseSchema").is_some(),
            body: json!({
                "systemInstruction": {"parts": [{"text": instruction}]},
                "contents": contents(request),
                "generationConfig": config,
            }),
        }
    }
}

/// The last turns as alternating user/model contents, then the utterance.
fn contents(request: &ModelRequest) -> Value {
    let mut contents = Vec::new();
    for (user, bot) in &request.history {
        contents.push(json!({"role": "user", "parts": [{"text": user}]}));
        contents.push(json!({"role": "model", "parts": [{"text": bot}]}));
    }
    contents.push(json!({"role": "user", "parts": [{"text": request.text}]}));
    Value::Array(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redsol_actors::testing;
    use tokio::time::Instant;

    #[tokio::test]
    async fn thinking_is_off_or_left_to_the_model() {
        let rules = testing::rules();
        let request = ModelRequest {
            text: "hola".into(),
            history: vec![("hola".into(), "¡Hola!".into())],
            deadline: Instant::now(),
        };
        let off = Prompts::new(&rules, &[], 0).classify(&request);
        assert!(off.json);
        assert_eq!(
            off.body["generationConfig"]["thinkingConfig"]["thinkingBudget"],
            0
        );
        assert_eq!(off.body["contents"].as_array().map(Vec::len), Some(3));
        assert_eq!(off.body["generationConfig"]["maxOutputTokens"], 256);
        let some = Prompts::new(&rules, &[], 512).classify(&request);
        assert_eq!(some.body["generationConfig"]["maxOutputTokens"], 256 + 512);
        let default = Prompts::new(&rules, &[], -1).word(&request, 300);
        assert!(!default.json);
        assert!(default.body["generationConfig"]
            .get("thinkingConfig")
            .is_none());
        assert_eq!(
            default.body["generationConfig"]["maxOutputTokens"],
            300 / 2 + 32 + DEFAULT_THINKING_ROOM
        );
    }
}
