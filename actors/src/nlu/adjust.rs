//! Score corrections of the lexicon that need more than one pattern's view: somebody else's
//! service, a price asked against a plan bought, a customer's bill against the company's
//! revenue, a request wrapped in a greeting.

use super::fuzzy::{has_any, near};
use super::prepare::{Prepared, TICKET};
use crate::model::Intent;
use Intent::*;

/// Words that, after "cuánto cuesta el/un...", keep a price question about us ("¿cuánto cuesta
/// un plan?", "¿cuánto cuesta el más barato?").
const ISP_THINGS: &str = "plan paquete servicio internet instalacion conexion modem router \
    antena cambio reconexion mes mensualidad renta megas velocidad wifi mas que promocion equipo \
    contrato repetidor extensor cable traslado domicilio visita tecnico";
/// Companies whose service is not ours: carriers, the power company, other providers.
const OTHER_COMPANIES: &str = "telcel movistar unefon bait att cfe izzi totalplay telmex \
    infinitum megacable starlink axtel dish sky";
/// Score corrections that need more than one pattern's view.
pub(super) fn adjust(scores: &mut [f32; Intent::ALL.len()], prepared: &Prepared) {
    let idx = Intent::index;
    let tokens = &prepared.tokens;
    let any = |words: &str| has_any(tokens, words);
    let scale = |scores: &mut [f32; Intent::ALL.len()], intents: &[Intent], f: f32| {
        for i in intents {
            scores[idx(*i)] *= f;
        }
    };

    // Somebody else's service (a mobile carrier, the power company): not ours to answer.
    let at_t = tokens.windows(2).any(|w| w[0] == "at" && w[1] == "te");
    let theirs = at_t || any(OTHER_COMPANIES);
    // "me paso de izzi a ustedes", "me voy a telmex, cancelen lo mío": us beside them.
    let us = any(
        "ustedes uds usted ud mio mia suyo redsol soluciones baja cancel cancelar cancelen cancelo",
    );
    if theirs && !us {
        let ours = [
            Register,
            Plans,
            Coverage,
            ReportIncident,
            IncidentStatus,
            Billing,
        ];
        scale(scores, &ours, 0.4);
    }

    // "no hay internet" is an outage, "¿hay internet en la norte?" is coverage.
    let negated = any("no sin nada ni");
    if negated && scores[idx(ReportIncident)] >= 2.0 {
        scores[idx(Coverage)] *= 0.5;
    }
    // A named zone with a question about service and no complaint leans to coverage.
    if prepared.entities.zone.is_some() && !negated && scores[idx(Coverage)] >= 1.5 {
        scores[idx(ReportIncident)] *= 0.7;
    }

    // "quiero el de 50" buys a plan, "¿cuánto cuesta el de 50?" asks its price.
    let wish =
        any("quiero quisiera queremos interesa gustaria deseo quedo apuntan apuntas dame instalan")
            && !any("saber informacion info preguntar");
    let price = any("cuanto cuanta precio precios costo costos cuesta cuestan tarifa tarifas");
    // "¿cuánto cuesta un iPhone?" asks the price of something that is not ours.
    let article = |j: usize| {
        tokens
            .get(j)
            .is_some_and(|w| has_any(std::slice::from_ref(w), "un una el la los las de del"))
    };
    let product = (0..tokens.len()).any(|i| {
        if !has_any(&tokens[i..=i], "cuesta cuestan precio costo vale valen") || !article(i + 1) {
            return false;
        }
        let j = (i + 1..tokens.len())
            .find(|&j| !article(j))
            .unwrap_or(tokens.len());
        j < tokens.len()
            && prepared.marks[j] == 0
            && !ISP_THINGS.split(' ').any(|w| near(&tokens[j], w))
    });
    if product {
        scores[idx(Plans)] *= 0.3;
    }
    // "¿cuánto es de mi mensualidad?" asks about one's own bill, not the price list.
    let mine = any("mi mis");
    if mine && scores[idx(Billing)] > 0.0 {
        scores[idx(Plans)] *= 0.6;
    }
    if wish && scores[idx(Register)] >= 1.5 {
        scores[idx(Plans)] *= 0.6;
    } else if price && !wish {
        scores[idx(Register)] *= 0.5;
    }

    // A report already made: its status, not a new report ("ticket" is respelled "ticquet").
    let status_cue = prepared.marks.iter().any(|m| m & TICKET != 0)
        || any("ticquet folio queja tecnico")
        || tokens
            .windows(2)
            .any(|w| w[1] == "reporte" && has_any(&w[..1], "mi que lo ya su el"));
    if status_cue && scores[idx(IncidentStatus)] >= 2.5 {
        scores[idx(ReportIncident)] *= 0.6;
    }

    // A customer's own bill ("mi factura", "me cobraron") vs the company's revenue.
    let customer = any("mi mis me debo pague yo tengo");
    let company = any("nos tenemos llevamos ganamos facturamos cobramos vamos total clientes");
    if customer && !company {
        scores[idx(Finance)] *= 0.4;
    } else if company && !customer {
        scores[idx(Billing)] *= 0.4;
    }
    // Staff talk about the business, not about "mi" anything.
    if mine {
        scale(scores, &[Stats, ClientSearch, Finance], 0.5);
    }

    // Counting clients is stats, listing or finding them is a search.
    let count = any("cuantos cuantas total porcentaje cantidad promedio");
    let list =
        any("lista listado listar busca buscar buscame muestrame encuentra datos ficha quienes");
    if count && !list {
        scores[idx(ClientSearch)] *= 0.5;
    } else if list && !count {
        scores[idx(Stats)] *= 0.5;
    }
    // Money words outweigh a count of the same clients.
    if scores[idx(Finance)] >= 2.5 {
        scores[idx(Stats)] *= 0.6;
    }

    // "no entiendo cómo funciona el bot" is about the bot, not the internet.
    if any("bot chat esto menu asistente") && scores[idx(Help)] >= 2.0 {
        scores[idx(ReportIncident)] *= 0.5;
    }

    // Greetings, thanks and calls for help often wrap a real request: the request wins.
    let content = Intent::ALL
        .iter()
        .filter(|i| !matches!(i, Greeting | Goodbye | Help))
        .map(|i| scores[idx(*i)])
        .fold(0f32, f32::max);
    let others = content.max(scores[idx(Goodbye)]).max(scores[idx(Help)]);
    if others >= 1.0 {
        scores[idx(Greeting)] *= 0.3;
    }
    if content >= 2.0 && scores[idx(Help)] < 3.0 {
        scores[idx(Help)] *= 0.5;
    }
    if content >= 2.0 && scores[idx(Goodbye)] < 2.0 {
        scores[idx(Goodbye)] *= 0.5;
    }

    // Several strong ISP signals beat a stray out-of-scope word.
    let service = scores[idx(ReportIncident)]
        .max(scores[idx(Register)])
        .max(scores[idx(Coverage)]);
    if service >= 3.0 && scores[idx(OutOfScope)] < 2.5 {
        scores[idx(OutOfScope)] *= 0.5;
    }
}
