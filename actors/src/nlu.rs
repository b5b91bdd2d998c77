//! The offline language understanding: intents and entities of the contract from Spanish as
//! Mexicans type it on a phone, with no network and no model files.
//!
//! How it works: the text is folded (case, accents, punctuation), respelled ("kiero" →
//! "quiero", "ay" → "hay", "x" → "por"), and tokenized; entities are found first (zone, plan,
//! ticket, phone), and marked with pseudo-tokens (`@zone`, `@plan`...). Then every intent's
//! weighted patterns are matched against the tokens with typo tolerance (a pattern is a short
//! phrase whose words may stand a little apart), and the intent with the highest score wins.
//! Nothing matched means `out_of_scope`. The lexicon is in [`LEXICON`]; to add an intent or
//! teach a new way of saying something, add patterns there and examples to the labelled set.

use crate::model::{Entities, IncidentKind, Intent, Source, Understanding};
use crate::rules::Rules;
use crate::text;

/// One weighted pattern of an intent. Syntax of `pattern`, word by word:
/// `word` matches with typo tolerance, `stem*` matches a word starting with the stem,
/// `=word` matches exactly, `a|b` either, `@zone`/`@plan`/`@num`/`@ticket`/`@phone`/`@name`
/// the entities found. Words of a pattern must appear in order, at most two words apart.
pub struct Pattern {
    pub intent: Intent,
    pub pattern: &'static str,
    pub weight: f32,
}

const fn p(intent: Intent, pattern: &'static str, weight: f32) -> Pattern {
    Pattern {
        intent,
        pattern,
        weight,
    }
}

use Intent::*;

/// The lexicon of the offline NLU.
pub const LEXICON: &[Pattern] = &[
    // greeting
    p(Greeting, "hola|holi|saludos|hey|ey|buenas|buenos|buen", 1.2),
    p(Greeting, "que onda|tal|hubo", 1.0),
    p(Greeting, "buenas|buenos|buen dias|tardes|noches|dia", 0.6),
    // register
    p(Register, "contrat*|suscrib*|afiliar*|registr*|inscrib*", 2.2),
    p(Register, "dar|darme|das|den|doy alta", 2.2),
    p(Register, "=alta de|del servicio|internet", 1.5),
    p(Register, "quiero|quisiera|necesito|ocupo|interesa|gustaria internet|servicio|plan|paquete", 1.4),
    p(Register, "quiero|quisiera|interesa|queda|quedo|deseo =el|=la|plan @plan", 1.8),
    p(Register, "quiero|quisiera|interesa =el|=la @plan", 1.6),
    p(Register, "instal*|pon*|poner|conectar internet|servicio", 1.0),
    p(Register, "pueden|puedes|vengan|vienen|cuando instal*", 1.6),
    p(Register, "me|cambio|cambiar|paso con ustedes", 1.4),
    p(Register, "como le hago|hago para|me registro|contrato|lo contrato", 0.8),
    p(Register, "@zone @plan", 1.2),
    p(Register, "zona @zone plan", 1.5),
    p(Register, "soy|vivo de|en @zone quiero|interesa", 0.8),
    p(Register, "nuevo cliente", 1.5),
    // plans
    p(Plans, "plan*|paquet*|tarif*|promo*|promocion*", 1.2),
    p(Plans, "precio*|costo*|cuesta|cuestan|cobran|cobra|sale|salen|vale|valen|mensualidad", 1.8),
    p(Plans, "cuanto es|sale|cuesta|seria|cobran", 1.2),
    p(Plans, "que|cuales planes|paquetes|velocidades|opciones tienen|manejan|hay|ofrecen", 1.0),
    p(Plans, "velocidad*|megas", 0.8),
    p(Plans, "diferencia*|barato|economico|caro|rapido", 0.8),
    p(Plans, "info|informacion de planes|precios|paquetes", 1.0),
    // coverage
    p(Coverage, "cobertura|cubren|cubre|llegan|llega|alcanzan|abarcan", 2.3),
    p(Coverage, "hay|tienen|dan|da servicio|internet|red|cobertura en|por|para|@zone", 1.6),
    p(Coverage, "dan|tienen|ofrecen servicio en|por|aqui", 1.2),
    p(Coverage, "mi|por|en colonia|zona|rancho|comunidad|calle", 0.7),
    p(Coverage, "@zone", 0.6),
    p(Coverage, "zonas donde|que", 1.2),
    p(Coverage, "si llegan|llega|hay", 0.6),
    // report_incident
    p(ReportIncident, "no|sin|nada tengo|hay|tiene|funciona|sirve|jala|conecta|agarra|carga|abre internet|servicio|senal|red|conexion|wifi", 2.2),
    p(ReportIncident, "sin internet|servicio|senal|red|conexion|luz", 2.2),
    p(ReportIncident, "no funciona|sirve|jala|conecta|carga|abre|prende|enciende|responde", 2.0),
    p(ReportIncident, "lento|lenta|lentisimo|lentisima|lentitud|lag*|ping|tarda|traba|congela", 2.2),
    p(ReportIncident, "se cae|cayo|corta|corto|va|fue|desconecta|interrump*|intermitent*|inestable", 2.0),
    p(ReportIncident, "cortes|caidas|fallas|falla|falla*|problema*|intermitencia", 1.3),
    p(ReportIncident, "modem|router|antena|cable|wifi|foco|luz|luces|foquito|contrasena", 1.2),
    p(ReportIncident, "rompi*|rompio|roto|quemad*|cortad*|colgand*|parpade*|roja|naranja|apagad*|movio|ruido", 1.5),
    p(ReportIncident, "desde ayer|hace|manana|tarde|noche|horas|dias|semana", 0.6),
    p(ReportIncident, "reinici*|desconecte|apague", 1.0),
    p(ReportIncident, "=reporte|=reportar|reporto falla|problema", 1.4),
    p(ReportIncident, "=ayuda|urgente", 0.3),
    p(ReportIncident, "no puedo|se ven|se escucha|cargan|carga", 0.7),
    p(ReportIncident, "olvide contrasena|clave", 1.5),
    // incident_status
    p(IncidentStatus, "@ticket", 3.0),
    p(IncidentStatus, "mi|el|lo reporte|ticket|queja|folio|caso|solicitud|reclamo", 1.8),
    p(IncidentStatus, "que reporte|reportamos|levante|reporte", 1.2),
    p(IncidentStatus, "como va|vamos|quedo|sigue", 1.4),
    p(IncidentStatus, "estado|estatus|status|seguimiento|avance*", 1.6),
    p(IncidentStatus, "tecnico|tecnicos viene|vienen|va|llega|llegan|vino|venir|mandan", 1.6),
    p(IncidentStatus, "ya vienen|viene|vino|quedo|resolvieron|arreglaron|cerraron|atendieron|revisaron", 1.5),
    p(IncidentStatus, "cuanto falta|tardan|tarda", 1.0),
    p(IncidentStatus, "esperando|espera", 1.0),
    p(IncidentStatus, "siempre si|hoy vienen", 1.0),
    p(IncidentStatus, "que paso con", 1.4),
    // billing
    p(Billing, "pago|pagar|pague|pagu*|pagos|abono|deposit*|transferencia|tarjeta|oxxo", 2.0),
    p(Billing, "factura*|recibo|cobro|cobraron|cargo|adeudo|saldo|debo|recargo|estado de cuenta", 2.2),
    p(Billing, "cuanto debo|pago|tengo que pagar", 1.0),
    p(Billing, "vence|vencimiento|fecha de|limite pago", 1.5),
    p(Billing, "cortaron|reconect*|suspend*", 1.0),
    p(Billing, "referencia|cuenta clabe|datos para", 1.0),
    // human_agent
    p(HumanAgent, "persona|humano|humana|asesor*|agente|operador*|ejecutivo|encargad*|gerente|dueno|alguien|representante", 2.2),
    p(HumanAgent, "hablar|comunic*|pasame|pasas|pasen|atienda|contacte|llamen|marquen", 1.0),
    p(HumanAgent, "robot|bot|maquina", 0.8),
    p(HumanAgent, "=real|=de verdad|=vivo", 0.6),
    p(HumanAgent, "llamada|llamar|llamenme|marcar", 0.6),
    // goodbye
    p(Goodbye, "adios|bye|chao|chau|nos vemos|hasta luego|pronto|manana|despues", 2.0),
    p(Goodbye, "gracias|graciass|agradezco|amable", 1.4),
    p(Goodbye, "eso es todo|seria todo|ya no ocupo|necesito|quedo|listo|ok", 0.8),
    p(Goodbye, "me voy|retiro|cuidate|saludos", 1.0),
    p(Goodbye, "buenas noches|dia|tarde", 0.2),
    // help
    p(Help, "ayuda|ayudame|ayudas|ayudar|help|auxilio", 1.6),
    p(Help, "menu|opciones|opcion|comandos|instrucciones", 2.2),
    p(Help, "que puedes|sabes|haces hacer|ofreces", 2.0),
    p(Help, "como funciona|funcionas|te uso|uso|usar|utiliza", 2.0),
    p(Help, "no se|entiendo como|que|nada", 1.0),
    p(Help, "perdid*|confundid*", 1.5),
    p(Help, "inicio|empezar|start|=ver", 1.0),
    // stats (staff)
    p(Stats, "estadistica*|metricas|indicadores|kpi*|reporte general|resumen|dashboard|numeros", 2.4),
    p(Stats, "cuantos|cuantas|numero|total clientes|usuarios|incidentes|reportes|fallas|tickets|prospectos|altas|bajas|suscriptores", 2.6),
    p(Stats, "clientes por zona|plan|estado", 1.5),
    p(Stats, "tenemos|hay|tuvimos|llevamos", 0.6),
    p(Stats, "activos|suspendidos|cancelados|abiertos|cerraron|pendientes", 0.8),
    // client_search (staff)
    p(ClientSearch, "busca*|buscar|encuentra|encontrar|localiza|consulta*", 2.2),
    p(ClientSearch, "cliente|clientes|usuario|suscriptor @name", 1.2),
    p(ClientSearch, "datos|ficha|info|informacion|expediente|perfil del|de cliente|clienta|usuario|senor|senora", 1.8),
    p(ClientSearch, "lista|listado|quienes clientes|son", 1.8),
    p(ClientSearch, "clientes de|del|en @zone", 1.2),
    p(ClientSearch, "@phone", 1.6),
    p(ClientSearch, "se llame|llamado|apellido|telefono", 1.4),
    p(ClientSearch, "que plan tiene", 2.0),
    p(ClientSearch, "los|las|a =los @name", 0.5),
    // finance (staff)
    p(Finance, "ingreso*|ganancia*|utilidad*|finanza*|financier*|facturacion|facturamos|facturado|mrr|arpu|dinero|caja|cobranza|cobrado|recaud*|ventas|revenue|flujo", 2.6),
    p(Finance, "cuanto facturamos|ganamos|cobramos|vendimos|entro|entra|llevamos", 1.5),
    p(Finance, "promedio por cliente", 1.5),
    p(Finance, "morosos|morosidad|deuda|cartera|vencida", 1.5),
    // out_of_scope: things people ask a chatbot that are not ours
    p(OutOfScope, "cancion*|musica|pon|canta|spotify|netflix|serie|pelicula*|video|youtube|juego|futbol|partido|liga|mundial|gano|juega|america|chivas", 1.6),
    p(OutOfScope, "clima|lluvia|llover|llovera|temperatura|calor|frio", 1.8),
    p(OutOfScope, "tarea|examen|escuela|clases|resumen de|ensayo|poema|cuento|chiste|historia|capital*|traduce|traducir|dibuja*|dibujo|receta|cocinar|frase|horoscopo|signo", 2.0),
    p(OutOfScope, "novia|novio|chava|chavo|amor|politica|presidente|dolar|bitcoin|cripto|gasolina|iphone|celular|telcel|movistar|at&t|cfe|walmart|oxxo abre|calorias|taco|pizza", 1.8),
    p(OutOfScope, "quien es|fue|gano|invento", 1.2),
    p(OutOfScope, "cuanto es|mide|pesa|habitantes|calorias", 1.0),
    p(OutOfScope, "internet de las cosas|en internet|por internet la|el", 1.4),
    p(OutOfScope, "como se dice|que es|que significa|recomiendame|recomiendas|opinas|cuentame|escribeme|hazme|dime una", 1.3),
    p(OutOfScope, "descarga*|bajar|bajo gratis|pelicula*|video", 1.2),
];

/// The offline NLU: stateless, cheap, shared.
pub struct Nlu {
    compiled: Vec<CompiledPattern>,
}

struct CompiledPattern {
    intent: Intent,
    terms: Vec<Vec<Term>>,
    weight: f32,
}

enum Term {
    Fuzzy(String),
    Prefix(String),
    Exact(String),
    Entity(&'static str),
}

impl Term {
    fn matches(&self, token: &str) -> bool {
        match self {
            Term::Exact(w) => token == w,
            Term::Fuzzy(w) => text::fuzzy_eq(token, w),
            Term::Prefix(stem) => text::fuzzy_prefix(token, stem),
            Term::Entity(e) => token == *e,
        }
    }
}

fn compile_term(word: &str) -> Term {
    const ENTITIES: [&str; 6] = ["@zone", "@plan", "@num", "@ticket", "@phone", "@name"];
    if let Some(e) = ENTITIES.iter().find(|e| **e == word) {
        Term::Entity(e)
    } else if let Some(w) = word.strip_prefix('=') {
        Term::Exact(w.to_string())
    } else if let Some(stem) = word.strip_suffix('*') {
        Term::Prefix(stem.to_string())
    } else {
        Term::Fuzzy(word.to_string())
    }
}

/// The text of an utterance ready for matching: tokens plus entity pseudo-tokens.
struct Prepared {
    tokens: Vec<String>,
    entities: Entities,
}

impl Default for Nlu {
    fn default() -> Self {
        Self::new()
    }
}

impl Nlu {
    pub fn new() -> Self {
        let compiled = LEXICON
            .iter()
            .map(|pat| CompiledPattern {
                intent: pat.intent,
                weight: pat.weight,
                terms: pat
                    .pattern
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(|alt| alt.split('|').map(compile_term).collect())
                    .collect(),
            })
            .collect();
        Self { compiled }
    }

    /// Understands one utterance.
    pub fn understand(&self, utterance: &str, rules: &Rules) -> Understanding {
        let prepared = prepare(utterance, rules);
        if prepared.tokens.is_empty() {
            return Understanding {
                intent: Intent::Help,
                confidence: 0.3,
                entities: prepared.entities,
                source: Source::Rules,
            };
        }
        let mut scores = [0f32; Intent::ALL.len()];
        for pat in &self.compiled {
            if phrase_matches(&pat.terms, &prepared.tokens) {
                scores[intent_index(pat.intent)] += pat.weight;
            }
        }
        adjust(&mut scores, &prepared);
        let (best, top) = scores
            .iter()
            .enumerate()
            .fold((Intent::OutOfScope, 0f32), |acc, (i, &s)| {
                if s > acc.1 {
                    (Intent::ALL[i], s)
                } else {
                    acc
                }
            });
        let second = scores
            .iter()
            .enumerate()
            .filter(|(i, _)| Intent::ALL[*i] != best)
            .map(|(_, &s)| s)
            .fold(0f32, f32::max);
        let (intent, confidence) = if top < 1.0 {
            (Intent::OutOfScope, 0.4 + 0.2 * (1.0 - top))
        } else {
            let strength = (top / 3.0).min(1.0);
            let margin = ((top - second) / top).clamp(0.0, 1.0);
            (best, (0.3 + 0.35 * strength + 0.34 * margin).min(0.99))
        };
        let mut entities = prepared.entities;
        if intent == Intent::ReportIncident && entities.incident_kind.is_none() {
            entities.incident_kind = Some(IncidentKind::Other);
        }
        if intent != Intent::ReportIncident {
            entities.incident_kind = None;
        }
        Understanding {
            intent,
            confidence: (confidence * 100.0).round() / 100.0,
            entities,
            source: Source::Rules,
        }
    }
}

/// Score corrections that need more than one pattern's view.
fn adjust(scores: &mut [f32; Intent::ALL.len()], prepared: &Prepared) {
    let idx = intent_index;
    let has = |t: &str| prepared.tokens.iter().any(|x| x == t);
    // "no hay internet" is an outage, "¿hay internet en la norte?" is coverage.
    let negated = has("no") || has("sin") || has("nada");
    if negated && scores[idx(ReportIncident)] > 0.0 {
        scores[idx(Coverage)] *= 0.5;
    }
    // A named zone with a question about service and no complaint leans to coverage.
    if prepared.entities.zone.is_some() && !negated && scores[idx(Coverage)] > 0.0 {
        scores[idx(ReportIncident)] *= 0.7;
    }
    // Wanting a plan outweighs asking its price only when a wish is expressed.
    let wish = ["quiero", "quisiera", "interesa", "contratar", "contrato"]
        .iter()
        .any(|w| has(w));
    if wish && scores[idx(Register)] > 0.0 {
        scores[idx(Plans)] *= 0.6;
    }
    // Several strong ISP signals beat a stray out-of-scope word.
    let service = scores[idx(ReportIncident)]
        .max(scores[idx(Register)])
        .max(scores[idx(Coverage)]);
    if service >= 3.0 && scores[idx(OutOfScope)] < 2.5 {
        scores[idx(OutOfScope)] *= 0.5;
    }
}

fn intent_index(intent: Intent) -> usize {
    Intent::ALL.iter().position(|i| *i == intent).unwrap_or(0)
}

/// Whether the terms appear in order in the tokens, each within two tokens of the previous.
fn phrase_matches(terms: &[Vec<Term>], tokens: &[String]) -> bool {
    fn from(terms: &[Vec<Term>], tokens: &[String], start: usize, first: bool) -> bool {
        let Some((alts, rest)) = terms.split_first() else {
            return true;
        };
        let end = if first {
            tokens.len()
        } else {
            (start + 3).min(tokens.len())
        };
        (start..end).any(|i| {
            alts.iter().any(|t| t.matches(&tokens[i])) && from(rest, tokens, i + 1, false)
        })
    }
    from(terms, tokens, 0, true)
}

fn prepare(utterance: &str, rules: &Rules) -> Prepared {
    let raw_folded = text::fold(utterance);
    let mut tokens = text::tokens(utterance);
    let mut entities = Entities::default();

    if let Some(zone) = rules.find_zone(utterance) {
        entities.zone = Some(zone.name.clone());
        tokens.push("@zone".into());
    }
    if let Some(mbps) = find_plan(&tokens, rules) {
        entities.plan_mbps = Some(mbps);
        tokens.push("@plan".into());
    }
    if tokens.iter().any(|t| is_ticket(t)) || raw_folded.contains("inc ") {
        tokens.push("@ticket".into());
    }
    if tokens
        .iter()
        .any(|t| t.len() >= 10 && t.chars().all(|c| c.is_ascii_digit()))
    {
        tokens.push("@phone".into());
    } else if tokens.iter().any(|t| t.chars().all(|c| c.is_ascii_digit())) {
        tokens.push("@num".into());
    }
    entities.name = find_name(utterance);
    if entities.name.is_some() {
        tokens.push("@name".into());
    }
    entities.incident_kind = incident_kind(&tokens);
    entities.since = find_since(&raw_folded);
    entities.modem_restarted = modem_restarted(&tokens);
    Prepared { tokens, entities }
}

fn is_ticket(t: &str) -> bool {
    t.strip_prefix("inc")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
}

/// A plan named by speed ("50 megas", "el de 100", "plan 20") or by name ("premium").
pub fn find_plan(tokens: &[String], rules: &Rules) -> Option<u32> {
    for (i, t) in tokens.iter().enumerate() {
        let num = t
            .strip_suffix("mb")
            .or_else(|| t.strip_suffix("megas"))
            .or_else(|| t.strip_suffix("mbps"))
            .or_else(|| t.strip_suffix("m"))
            .unwrap_or(t);
        if let Ok(n) = num.parse::<u32>() {
            if rules.plan(n).is_some() {
                let prev = i.checked_sub(1).map(|j| tokens[j].as_str());
                let next = tokens.get(i + 1).map(String::as_str);
                let unit = next.is_some_and(|n| n == "megas" || n == "mega") || num != t;
                let context = matches!(prev, Some("de" | "plan" | "el" | "los" | "paquete"));
                let after_count = matches!(next, Some("minutos" | "min" | "dias" | "horas" | "pesos"));
                if (unit || context) && !after_count {
                    return Some(n);
                }
            }
        }
        if let Some(plan) = rules.plan_by_name(t) {
            if t.len() >= 5 {
                return Some(plan.mbps);
            }
        }
    }
    None
}

/// A name the user gives for themselves: "me llamo Ana Ruiz", "soy Juan Pérez", "mi nombre es...".
pub fn find_name(utterance: &str) -> Option<String> {
    let folded = text::fold(utterance);
    let words: Vec<&str> = utterance
        .split(|c: char| !(c.is_alphabetic() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let fwords: Vec<String> = words.iter().map(|w| text::fold(w)).collect();
    let starts = [
        &["me", "llamo"][..],
        &["mi", "nombre", "es"][..],
        &["mi", "nombre"][..],
        &["nombre"][..],
        &["soy"][..],
    ];
    for start in starts {
        if let Some(pos) = fwords
            .windows(start.len())
            .position(|w| w.iter().zip(start).all(|(a, b)| a == b))
        {
            let after = &words[pos + start.len()..];
            let fafter = &fwords[pos + start.len()..];
            let stop = [
                "y", "de", "del", "vivo", "en", "quiero", "estoy", "soy", "tengo", "la", "el",
                "mi", "me", "con", "para", "por", "cliente", "nuevo", "nueva", "a",
            ];
            let name: Vec<&str> = after
                .iter()
                .zip(fafter)
                .take_while(|(_, f)| !stop.contains(&f.as_str()))
                .map(|(w, _)| *w)
                .take(4)
                .collect();
            if name.is_empty() || (start == ["soy"] && !folded.starts_with("soy") && name.len() < 2) {
                continue;
            }
            return Some(title_case(&name.join(" ")));
        }
    }
    None
}

/// "juan pérez" → "Juan Pérez".
pub fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

fn incident_kind(tokens: &[String]) -> Option<IncidentKind> {
    let has = |words: &[&str]| tokens.iter().any(|t| words.iter().any(|w| text::fuzzy_eq(t, w)));
    let pos = |w: &str| tokens.iter().position(|t| t == w);
    let intermittent = has(&[
        "intermitente", "intermitencia", "corta", "cortes", "desconecta", "inestable", "ratos",
        "caidas", "regresa", "vuelve",
    ]) || (has(&["cae", "va"]) && pos("se").is_some());
    if intermittent {
        return Some(IncidentKind::Intermittent);
    }
    let slow = has(&[
        "lento", "lenta", "lentisimo", "lentisima", "lentitud", "tarda", "traba", "lag", "lagueado",
        "ping", "congela", "velocidad",
    ]);
    if slow {
        return Some(IncidentKind::Slow);
    }
    let neg = tokens
        .iter()
        .any(|t| t == "no" || t == "sin" || t == "nada" || t == "ni");
    let service = has(&["internet", "servicio", "senal", "conexion", "red", "wifi", "jala", "funciona", "sirve"]);
    let down = has(&["cayo", "caido", "fue", "murio"]);
    if (neg && service) || down {
        return Some(IncidentKind::NoService);
    }
    None
}

fn find_since(folded: &str) -> Option<String> {
    let words: Vec<&str> = folded.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        if matches!(*w, "desde" | "hace") {
            let phrase: Vec<&str> = words[i..].iter().take(4).copied().collect();
            let stop = phrase
                .iter()
                .skip(1)
                .position(|w| matches!(*w, "y" | "ya" | "no" | "pero" | "q" | "que"))
                .map(|p| p + 1)
                .unwrap_or(phrase.len());
            if stop > 1 {
                return Some(phrase[..stop].join(" "));
            }
        }
    }
    for w in ["ayer", "hoy", "anoche", "antier", "ahorita"] {
        if words.contains(&w) {
            return Some(w.to_string());
        }
    }
    None
}

fn modem_restarted(tokens: &[String]) -> Option<bool> {
    let pos = tokens.iter().position(|t| {
        text::fuzzy_prefix(t, "reinici") || text::fuzzy_prefix(t, "resete") || t == "desconecte" || t == "apague"
    })?;
    let before = &tokens[pos.saturating_sub(3)..pos];
    let negated = before.iter().any(|t| t == "no" || t == "nunca" || t == "todavia" || t == "aun");
    Some(!negated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        crate::testing::rules()
    }

    fn intent(text: &str) -> Intent {
        Nlu::new().understand(text, &rules()).intent
    }

    #[test]
    fn understands_the_examples_of_the_contract() {
        assert_eq!(intent("ola kiero contratar el de 50 megas en la norte"), Intent::Register);
        assert_eq!(intent("no ay internet desde ayer"), Intent::ReportIncident);
        assert_eq!(intent("¿llegan a Salamanca?"), Intent::Coverage);
        assert_eq!(intent("pon una canción de bad bunny"), Intent::OutOfScope);
    }

    #[test]
    fn extracts_entities() {
        let nlu = Nlu::new();
        let r = rules();
        let u = nlu.understand("soy de la norte y quiero el de 100", &r);
        assert_eq!(u.entities.zone.as_deref(), Some("Norte"));
        assert_eq!(u.entities.plan_mbps, Some(100));
        let u = nlu.understand("Zona: Norte, Plan: 100 Mbps", &r);
        assert_eq!(u.entities.zone.as_deref(), Some("Norte"));
        assert_eq!(u.entities.plan_mbps, Some(100));
        let u = nlu.understand("Sin internet desde ayer, ya reinicié", &r);
        assert_eq!(u.entities.incident_kind, Some(IncidentKind::NoService));
        assert_eq!(u.entities.since.as_deref(), Some("desde ayer"));
        assert_eq!(u.entities.modem_restarted, Some(true));
        let u = nlu.understand("no he reiniciado el modem", &r);
        assert_eq!(u.entities.modem_restarted, Some(false));
        assert_eq!(find_name("hola me llamo juan pérez y vivo en el centro").as_deref(), Some("Juan Pérez"));
        let u = nlu.understand("quiero el premium en santa ana", &r);
        assert_eq!(u.entities.zone.as_deref(), Some("Tambor/Santa Ana"));
        assert_eq!(u.entities.plan_mbps, Some(100));
    }

    #[test]
    fn empty_and_symbol_only_input_is_not_a_crash() {
        let nlu = Nlu::new();
        let r = rules();
        for t in ["", "   ", "😀😀😀", "\u{0}\u{1}", &"a".repeat(10_000)] {
            let u = nlu.understand(t, &r);
            assert!((0.0..=1.0).contains(&u.confidence));
        }
    }
}
