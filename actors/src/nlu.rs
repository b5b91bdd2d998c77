//! The offline language understanding: intents and entities of the contract from Spanish as
//! Mexicans type it on a phone, with no network and no model files.
//!
//! How it works: the text is folded (case, accents, punctuation), respelled ("kiero" →
//! "quiero", "ay" → "hay", "x" → "por"), and tokenized; entities are found first (zone, plan,
//! ticket, phone, name, numbers) and marked on the tokens where they stand, so a pattern can
//! name them as pseudo-tokens (`@zone`, `@plan`...). Then every intent's weighted patterns are
//! matched against the tokens with typo tolerance (a pattern is a list of short phrases whose
//! words may stand a little apart), scores are corrected where one intent's words read
//! differently next to another's (see `adjust`), and the intent with the highest score wins.
//! Nothing matched means `out_of_scope`. The lexicon is in [`LEXICON`]; to add an intent or
//! teach a new way of saying something, add patterns there and examples to the labelled set.

use crate::model::{Entities, IncidentKind, Intent, Source, Understanding};
use crate::rules::{Rules, Zone};
use crate::text;

/// One weighted pattern of an intent: it adds `weight` to the intent's score when any of its
/// phrases is found in the utterance (once, however many phrases match).
///
/// Syntax of `pattern`:
/// - phrases are separated by commas: `"adios, nos vemos, hasta luego|pronto"` is three
///   phrases;
/// - the words of a phrase are separated by spaces and must appear in that order; between two
///   of them the utterance may hold up to two other words, plus short function words
///   ("el", "de", "mi"...), at most four in all;
/// - a word may list alternatives with `|`: `hasta luego|pronto` matches "hasta luego" and
///   "hasta pronto";
/// - each alternative is `word`, `stem*`, `=word`, or an entity found in the utterance:
///   `@zone`, `@plan`, `@num`, `@ticket`, `@phone`, `@name` (marked where it stands);
/// - `word` matches the word spelled as it sounds ("servisio", "yegan") or with typos: none up
///   to five letters, one up to nine (in words shorter than seven, a letter missing, extra or
///   swapped, not changed: "cuenta" is not "cuesta"), two beyond; the first letter must agree,
///   and another form of the word is not a typo ("facturado" and "facturo" are not
///   "factura"), though a plural is;
/// - `stem*` matches a word that starts with the stem (with typos in stems of six letters or
///   more, as long as the stem's last letter stands in place);
/// - `=word` matches that word only (or its sound): for the short or inflected words that
///   would otherwise stand for others ("=cobro" is not "cobra", "=tarda" is not "tarde").
///
/// Lexicon words go through the same respelling as the typed text ("ticket" is "ticquet" on
/// both sides).
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
    p(Greeting, "hola|holis|saludos|hey|=ey|buenas|wenas|quiubo|quihubo|hello|=hi", 1.2),
    p(Greeting, "que onda|tal|hubo|pedo|rollo, =onda, buen|buenos|buenas dia|dias|tarde|tardes|noche|noches", 1.0),
    p(Greeting, "como =estas|=estan|=esta|=andas|=andan|=amaneciste|=amanecio", 0.8),
    // register
    p(Register, "contrat*|suscrib*|afili*|registr*|inscrib*", 2.2),
    p(Register, "de =alta, =alta de|del|en, dar|darme|darnos|dame|das|den|doy|dan =alta", 2.2),
    p(Register, "quiero|quisiera|queremos|necesito|necesitamos|ocupo|ocupamos|interesa|gustaria|deseo internet|servicio|plan|paquete|conexion|wifi", 1.6),
    p(Register, "quiero|quisiera|queremos|interesa|gustaria|quedo|deseo|dame|das|den|pones|pongan|instalas|instalan|apunta*|apunten @plan", 1.8),
    p(Register, "quiero|quisiera|queremos|dame|interesa el|la|uno mas barato|economico|rapido|completo", 1.6),
    p(Register, "instal*", 1.2),
    p(Register, "poner|pongan|ponga|pusieran|pusieras|tener|conectar|conecten internet|servicio|red|wifi", 1.2),
    p(Register, "cambio|cambiamos|cambiar|paso|pasamos|pasar|cambiarme|cambiarnos|pasarme|cambiaria|irme con|a =ustedes|compania|empresa", 1.6),
    p(Register, "ser|hacerme|volverme|hacernos =cliente|=clientes|socio, nuevo|nueva =cliente", 1.8),
    p(Register, "@zone @plan, @plan @zone", 1.2),
    p(Register, "@plan", 0.6),
    // plans
    p(Plans, "precio|precios|costo|costos|=cuesta|=cuestan|=questa|=cuestas, =cuanto|=cuanta =sale|=salen|=vale|=valen|=cobran|=cobra|=seria|=es|=son, de =cuanto es|son, a =como =esta|=estan|=sale|=salen|=lo|=los|=dan|=das", 2.0),
    p(Plans, "=cuanto|=cuanta", 0.6),
    p(Plans, "=planes|=paquetes|promociones|=promos|tarifa|=velocidades", 1.4),
    p(Plans, "plan|paquete|promo|promocion|megas|instalacion|@plan", 0.8),
    p(Plans, "mensualidad|mensualidades, al|por|cada|el =mes", 0.8),
    p(Plans, "@num megas", 1.0),
    p(Plans, "que|cuales planes|paquetes|velocidades|opciones|promociones tienen|manejan|hay|ofrecen|venden, tienen|manejan|hay planes|paquetes|promociones", 1.0),
    p(Plans, "barato|baratos|economico|economicos|caro|caros|rapido", 0.8),
    p(Plans, "diferencia|diferencias|incluye|incluyen|=comparar|beneficios", 1.0),
    p(Plans, "info|informacion|lista|catalogo|detalles|informar de|sobre planes|precios|paquetes|tarifas|costos", 1.0),
    p(Plans, "=cuantos megas|velocidad, que velocidad|megas", 1.2),
    p(Plans, "=plazo|forzoso, permanencia", 1.0),
    // coverage
    p(Coverage, "cobertura|cubren|cubre|cubrir|cubriran|abarcan|alcanzan", 2.3),
    p(Coverage, "llegan|llega|llegaron|llegara|llegaran a|hasta @zone|alla|aca|aqui|ahi|mi|donde, donde|hasta donde llegan|llega|cubren|dan, si|ya llegan|llega|llegaron, llega|llegan su|el internet|servicio|senal|red, ahi|alla|aca|aqui llegan|llega|cubren", 2.0),
    p(Coverage, "hay|tienen|dan|ofrecen|manejan servicio|internet|red|senal|cobertura en|por|para|hasta @zone|alla|aqui|aca|mi|donde, en|por|hasta @zone|ahi|alla|aca|aqui hay|tienen|dan|llega|llegan servicio|internet|red|senal|cobertura", 1.0),
    p(Coverage, "hay|tienen|dan|ofrecen|manejan servicio|internet|red|senal|cobertura", 0.8),
    p(Coverage, "trabajan|operan|llegan|cubren|estan en|por|hasta @zone", 1.2),
    p(Coverage, "@zone", 0.6),
    p(Coverage, "que|cuales zonas|colonias|lugares|areas|municipios|comunidades|pueblos", 1.2),
    p(Coverage, "mi|su colonia|zona|rancho|comunidad|pueblo|fraccionamiento|calle|localidad|rumbo, donde vivo, fuera|afuera de ciudad|pueblo", 0.6),
    // report_incident
    p(ReportIncident, "no|sin|nada|ni|cero internet|servicio|senal|red|conexion|wifi|inter", 2.2),
    p(ReportIncident, "no|ni funciona|funcionan|sirve|sirven|jala|jalan|conecta|conectan|carga|cargan|abre|abren|prende|prenden|enciende|responde|agarra|navega|entra|entran|pasa", 2.0),
    p(ReportIncident, "lento|lenta|lentos|lentas|lentisimo|lentisima|lentitud|=lag|lagueado|lagea|laguea|trabado|trabada|=traba|=trabando|congela|congelado|ping", 2.2),
    p(ReportIncident, "=tarda|=tardan|tardado|demora mucho|bastante|demasiado|horas|siglos|horrores, =tarda|=tardan|demora en cargar|abrir|descargar|bajar", 1.8),
    p(ReportIncident, "se =cae|=cayo|=caia|=corta|=cortan|=corto|cortando|=va|=iba|=fue|=pierde|=quita|=quito|desconecta|desconectando|interrumpe", 2.0),
    p(ReportIncident, "intermitente|intermitencia|inestable|microcortes|=cortes|caidas, va y viene, a =ratos|ratitos, =cada =rato|=ratito", 2.0),
    p(ReportIncident, "modem|router|ruter|antena|antenita|cable|cableado|foco|foquito|luz|luces|equipo|poste|fibra", 1.0),
    p(ReportIncident, "rompio|rompi|roto|rota|quemado|quemo|cortado|colgando|colgado|pelado|mordio|parpadea|parpadeando|roja|rojo|naranja|apagado|apagada|movio|chueca|chueco|ruido|huele|humo|chispas|mojo|mojado|tumbo", 1.6),
    p(ReportIncident, "olvide|cambiar|recuperar|saber|cual contrasena|clave|password, contrasena|clave del|de wifi|modem|internet|red", 2.0),
    p(ReportIncident, "senal|internet|servicio|conexion|wifi|red debil|=mal|mala|malo|pesimo|pesima|horrible|fatal|intermitente|fallando", 1.8),
    p(ReportIncident, "wifi|red|senal|modem|router no|ni =aparece|=sale|detecta|reconoce, no|ninguna|nada pagina|paginas|aplicaciones|apps, no|ni deja|puedo entrar|navegar|conectarme|conectar|abrir|=ver|jugar|descargar", 1.6),
    p(ReportIncident, "falla|fallas|fallando|problema|problemas|averia", 1.2),
    p(ReportIncident, "=reportar|=reporto|=levantar|hacer|poner reporte|queja|falla|problema, =reportar", 1.6),
    p(ReportIncident, "no pasa de, llegan|llega como|solo|apenas @num|megas", 1.4),
    p(ReportIncident, "desde|hace|llevo ayer|anoche|manana|tarde|noche|horas|dias|semana|rato|@num", 0.6),
    p(ReportIncident, "=reinicie|reiniciado|=resetee|=desconecte|=apague|=conecte", 0.8),
    // incident_status
    p(IncidentStatus, "@ticket", 3.0),
    p(IncidentStatus, "mi|mis|tu|su|este|ese|numero|el|del|al =reporte|=reportes|ticket|queja|folio|caso|solicitud|reclamo|incidencia|orden", 1.8),
    p(IncidentStatus, "ticket|folio|tickets|incidencia", 1.0),
    p(IncidentStatus, "lo|la|que|ya =reporte|=reportamos|=reportaron|=levante|=levantamos|=reportado, ya =levante|=levantamos", 1.8),
    p(IncidentStatus, "como|que =va|=vamos|=sigue|=anda|=quedo, que paso|hubo con, hay noticias|novedades|avances", 1.4),
    p(IncidentStatus, "estado|estatus|=status|seguimiento|avance|avances|novedades|noticias|actualizacion", 1.6),
    p(IncidentStatus, "tecnico|tecnicos|cuadrilla|instalador|ingeniero", 1.0),
    p(IncidentStatus, "tecnico|tecnicos|cuadrilla viene|vienen|vendra|venir|vino|llega|llegan|llego|salio|visita|esperando, viene|vienen|vendra|llega|llegan|llego|vino|salio|asignaron|asignan|mandan|mandaron|esperando|visita tecnico|tecnicos|cuadrilla", 1.6),
    p(IncidentStatus, "nadie ha|han venido|llegado|venir|resuelto, nadie viene|vino|llega, no han|ha venido|resuelto|arreglado|solucionado|atendido|hecho, no|nunca viene|vienen|vino|llega|llegan|llego nadie|tecnico, sigo|seguimos esperando", 1.4),
    p(IncidentStatus, "=reporte|=reportamos ayer|anoche|antier|hoy|desde|hace", 1.2),
    p(IncidentStatus, "ya =resolvieron|=arreglaron|=solucionaron|=cerraron|=atendieron|=revisaron|=asignaron|=checaron|=quedo|=vienen|=viene|=vino, siguen|sigue trabajando|revisando|checando|abierto|pendiente, cuando vienen|viene|vendran|llegan|llega|arreglan|resuelven|queda", 1.5),
    p(IncidentStatus, "=resolvieron|=arreglaron|=solucionaron|=atendieron|=revisaron|=asignaron", 0.8),
    p(IncidentStatus, "=cuanto falta|tardan|tardaran|tarda, pa|para =cuando", 1.2),
    p(IncidentStatus, "siempre si, dijeron que venian|vendrian|vienen|iban, =venian|=vendrian|=quedaron", 1.0),
    // billing
    p(Billing, "pago|pagar|pague|pagos|pagado|pagando|abono|abonar|deposito|depositar|deposite|transferencia|transferir|transferi|transfiero|transferimos|comprobante|efectivo|tarjeta", 2.0),
    p(Billing, "factura|recibo|=cobros|=cargo|=cargos|adeudo|saldo|=debo|=debemos|=deuda|recargo|recargos|=rfc|cfdi, estado de cuenta", 2.2),
    p(Billing, "un|el|ese|este|doble =cobro, me|nos =cobraron|=cobro|=cargaron|=cobraran, =cobraron|=cobrado|=cobrando|=cobran|=cargaron|=cargando doble|=demas|extra|dos, =cobraron|=cobrado|=cobrando|=cobran|=cargaron|=cargando de =mas", 1.8),
    p(Billing, "pague|pagamos|deposite|transferi|abone sigue|siguen|sigo|sin|cortado|suspendido", 1.4),
    p(Billing, "me|nos =facturar|=facturan|=facturen|=factures", 1.8),
    p(Billing, "=cuanto|=cuanta =debo|=debemos|=adeudo|pagar|pago", 1.0),
    p(Billing, "vence|vencimiento, fecha|dia de pago|corte|vencimiento|limite, se paso la fecha", 1.6),
    p(Billing, "me|nos =cortaron|suspendieron|=cortaran, quieren|van cortar|suspender, reconecten|reconectan|reactiven|reconexion|reconectar|reactivar|suspendido|suspension, falta de pago, sigue|sigo cortado|suspendido", 1.6),
    p(Billing, "referencia|clabe|cuenta bancaria, numero de cuenta, datos bancarios, a que =cuenta, datos para|de pago|pagar|depositar|transferir", 1.4),
    p(Billing, "oxxo|banco|spei|=mensualidad", 0.8),
    p(Billing, "mi|mis =mensualidad|=mensualidades|=renta, llego|vino|viene|salio muy|bien|mas|super caro|alto|elevado, recibo|cobro|cuenta|mensualidad caro|alto|elevado", 1.6),
    p(Billing, "no se =refleja|=reflejo|=aparece, me =aparece", 0.8),
    // human_agent
    p(HumanAgent, "persona|humano|humana|asesor|asesora|agente|operador|operadora|ejecutivo|ejecutiva|encargado|encargada|gerente|supervisor|dueno|duena|representante|alguien|personal|senorita|muchacha|licenciado|licenciada", 2.2),
    p(HumanAgent, "hablar|platicar|comunicar|comunicarme|comunica|comuniqueme|comunicame|transfiere|transfiereme|pasame|pasen|pasas|pase con|a, =hablar", 1.2),
    p(HumanAgent, "atienda|atiende|atender|atiendan|llame|llamen|llamenme|marquen|contacten|contacte|comunique|comunican", 0.8),
    p(HumanAgent, "robot|=bot|maquina|contestadora|automatico", 0.6),
    p(HumanAgent, "real|reales, de verdad, carne y hueso, de a de veras", 0.8),
    p(HumanAgent, "llamada|llamar|llamenme|marcar, telefono|numero para|de hablar|llamar|contacto|atencion, atencion|servicio a|al =clientes|=cliente", 1.0),
    // goodbye
    p(Goodbye, "adios|=bye|=byee|=bai|=chao|=chau|=bay|=ciao|despido|despedimos", 2.4),
    p(Goodbye, "nos vemos|vidrios|vidrio, hasta luego|pronto|manana|despues|lueguito, hasta la|mas proxima|tarde|vista", 2.2),
    p(Goodbye, "gracias por|x ayuda|atencion|todo|apoyo|tiempo, bonito|excelente|lindo =dia|=tarde|=noche|=fin", 1.0),
    p(Goodbye, "gracias|agradezco|agradecido|agradecida|amable|thanks|=thx", 1.4),
    p(Goodbye, "eso es|seria|fue|era todo, ya no ocupo|necesito|quiero nada, ya quedo|estuvo, es todo", 1.2),
    p(Goodbye, "ya|bueno|bien|pues|ok me voy|retiro, me despido|retiro, cuidate|cuidense|cuidese, que esten|este|estes|tengan|tenga|tengas bien|buen|bonito|excelente|lindo =dia|=tarde|=noche|=bien", 1.4),
    // help
    p(Help, "ayuda|ayudame|ayudas|ayudan|ayudar|ayudarme|help|auxilio|socorro", 1.6),
    p(Help, "menu|opciones|opcion|comandos|instrucciones|tutorial|guia", 2.2),
    p(Help, "que|como puedes|sabes hacer, que =haces|ofreces, puedes|pueden ofrecer|ofrecerme, que mas puedes|sabes, que me|te puedes|puedo ayudar|ayudarme, que cosas puedo|puedes|haces, que puedo hacer|consultar|preguntar|pedir", 2.0),
    p(Help, "como funciona|funcionas|usa|uso|usar|utilizo|utilizar, para que sirve|sirves|sirven", 2.0),
    p(Help, "no =entiendo|comprendo, no le|te entiendo, no se que|como poner|escribir|hacer|preguntar|decir|usar", 1.4),
    p(Help, "perdido|perdida|confundido|confundida|confundo|confusion", 1.6),
    p(Help, "inicio|empezar|comenzar|start|principal|regresar|=ver", 0.8),
    p(Help, "chat|=bot|asistente, =esto", 0.4),
    // stats (staff)
    p(Stats, "estadistica|estadisticas|metricas|metrica|indicadores|=kpi|=kpis|dashboard|=stats|tablero|numeralia", 2.4),
    p(Stats, "=cuantos|=cuantas|numero|total|porcentaje|cantidad|promedio|conteo|tasa =clientes|=cliente|usuarios|suscriptores|incidentes|=reportes|fallas|tickets|altas|bajas|prospectos|cancelaciones|instalaciones|quejas|contratos|activos|suspendidos", 2.6),
    p(Stats, "tiempo|tiempos de resolucion|respuesta|atencion|reparacion|solucion, tiempo promedio, promedio de tiempo", 2.2),
    p(Stats, "=clientes|usuarios|incidentes|=reportes|fallas|altas|bajas|tickets por zona|zonas|plan|planes|colonia|mes|semana|tecnico", 1.5),
    p(Stats, "resumen|=reporte|informe|desglose|balance general|mensual|semanal|=clientes|incidentes|=reportes|tickets|altas|red", 1.8),
    p(Stats, "que zona|plan|colonia tiene|tienen|con mas|menos, mas|menos =clientes|usuarios|fallas|=reportes|incidentes|altas|bajas", 1.8),
    p(Stats, "=clientes|usuarios activos|suspendidos|cancelados|nuevos|morosos", 1.8),
    p(Stats, "activos|suspendidos|cancelados|abiertos|cerrados|pendientes|nuevos", 0.8),
    // client_search (staff)
    p(ClientSearch, "=busca|=buscar|=buscame|=buscale|=busques|encuentra|encuentrame|encontrar|localiza|localizame|localizar", 2.0),
    p(ClientSearch, "=cliente|=clientes|=clienta|usuario|usuarios|suscriptor|abonado", 0.8),
    p(ClientSearch, "datos|ficha|expediente|perfil|info|informacion|telefono|numero|direccion|domicilio|historial del|de =cliente|=clienta|usuario|senor|senora|=sr|=sra|=don|=dona|@name", 2.0),
    p(ClientSearch, "dame|pasame|dime los|el|la datos|telefono|direccion|domicilio =de|=del", 1.6),
    p(ClientSearch, "lista|listado|listar|relacion =clientes|usuarios, =clientes|usuarios lista|listado", 2.2),
    p(ClientSearch, "que|cuales|quienes =clientes|usuarios tenemos|hay|tienen|son", 1.6),
    p(ClientSearch, "=clientes|usuarios|suscriptores @zone|@plan", 1.8),
    p(ClientSearch, "@phone", 1.8),
    p(ClientSearch, "quien|quienes tiene|tienen|contrato|contrataron el|la plan|paquete|@plan", 2.2),
    p(ClientSearch, "=se =llame|=apellide, =llamado|apellido|apellidos, de|por|con nombre", 1.6),
    p(ClientSearch, "que|cual plan|paquete|zona tiene|trae|contrato el|la|=don|=dona|senor|senora|=cliente|=sr|=sra, =cliente|=clienta|senor|senora|=don|=dona que|cual plan|paquete|zona|telefono", 2.0),
    p(ClientSearch, "como =cliente, tenemos =a, tenemos registrado|registrada", 1.2),
    p(ClientSearch, "consulta|consultar|revisa|checa|muestrame|muestra|ensename|dame|pasame los|el|la|a =cliente|=clientes|@phone", 1.4),
    p(ClientSearch, "pasame|dame|dime su telefono|numero|direccion|domicilio|correo", 1.2),
    p(ClientSearch, "en el =sistema|base", 0.6),
    // finance (staff)
    p(Finance, "ingreso|=ingresamos|=ingresaron|=ingreso|ganancia|ganancias|utilidad|utilidades|finanzas|financiero|financiera|facturacion|=facturamos|=facturado|mrr|arpu|revenue|cobranza|recaudacion|recaudado|ventas|flujo|rentabilidad", 2.6),
    p(Finance, "=cuanto|=cuanta dinero|lana|varo|feria, dinero|lana entra|entro|deja|dejan|generamos|genera|ingresa, =cuanto =ganamos|=cobramos|=vendimos|=llevamos|=facturamos|=generamos|=recaudamos|=entra|=entro|=deja|=deben|=facturar, se =cobro|=facturo|=vendio, llevamos|total =cobrado|=facturado", 2.2),
    p(Finance, "=facturar", 1.0),
    p(Finance, "nos =deben, morosos|morosidad|cartera|deudores, cuentas por cobrar", 2.6),
    p(Finance, "proyeccion|comparativo|balance, corte de caja, por cliente", 1.0),
    // out_of_scope: things people ask a chatbot that are not ours
    p(OutOfScope, "cancion|canciones|musica|canta|cantante|spotify|netflix|serie|series|pelicula|peliculas|youtube|tiktok|instagram|facebook|videojuego|videojuegos|futbol|partido|liga|mundial|ajedrez|beisbol|america|chivas|=juega|=juego|=juegos", 2.2),
    p(OutOfScope, "clima|lluvia|llover|llovera|temperatura|calor|frio|pronostico|temblor|sismo", 2.2),
    p(OutOfScope, "tarea|tareas|examen|ensayo|poema|cuento|chiste|chistes|historia|capital|capitales|traduce|traducir|traduceme|dibuja|dibujame|dibujo|receta|recetas|cocinar|frase|horoscopo|signo|ecuacion|resuelve|resuelveme|matematicas|independencia|biografia", 2.2),
    p(OutOfScope, "novia|novio|chava|chavo|amor|politica|presidente|gobierno|elecciones|dolar|bitcoin|ethereum|cripto|criptomonedas|gasolina|walmart|soriana|coppel|elektra", 2.2),
    p(OutOfScope, "iphone|celular|android|samsung|xiaomi|motorola|laptop|computadora|tablet", 2.2),
    p(OutOfScope, "boleto|boletos|avion|vuelo|vuelos|viaje|viajes|hotel|autobus|concierto|carro|coche|curp|ine|pasaporte|visa", 2.2),
    p(OutOfScope, "calorias|taco|tacos|pizza|pozole|chilaquiles|enchiladas|tamales|hamburguesa|pastel|comida|restaurante", 2.2),
    p(OutOfScope, "telcel|movistar|unefon|=bait|=att|=cfe, =at =te", 2.2),
    p(OutOfScope, "inteligencia artificial, chatgpt|=ia, cumpleanos|regalo|fiesta, dame ideas", 1.8),
    p(OutOfScope, "quien es|fue|gano|invento|descubrio|canta|escribio|pinto", 1.4),
    p(OutOfScope, "=cuanto|que mide|pesa, =cuantos habitantes|anos, habitantes", 1.6),
    p(OutOfScope, "@num por|mas|menos|entre|=x @num", 1.4),
    p(OutOfScope, "=cuanto|=cuantos|calcula|resuelve es|son @num por|mas|menos|entre|=x @num", 1.4),
    p(OutOfScope, "internet de =las =cosas, busca|buscar|buscame|investiga en internet|google, =gratis", 1.8),
    p(OutOfScope, "como se dice|escribe|pronuncia, que es|significa, quiere decir, recomiendame|recomiendas|recomienda|opinas|piensas|cuentame|escribeme|hazme, dime una|un", 1.4),
    p(OutOfScope, "ingles|japones|frances|espanol|aleman|idioma|idiomas", 2.0),
    p(OutOfScope, "descarga|descargar|descargame|bajar|bajo|bajarme peliculas|pelicula|videos|video|musica|juegos|canciones|series, video|videos|youtuber", 1.6),
    p(OutOfScope, "a que hora abre|abren|cierra|cierran", 1.4),
    p(OutOfScope, "que dia|fecha|hora es", 2.0),
    p(OutOfScope, "vale la pena, comprar|compro|invertir", 1.0),
    p(OutOfScope, "cual es el|la mejor, mejor|mejores equipo|pelicula|serie|restaurante", 1.2),
    p(OutOfScope, "telefono|celular|iphone al|en =agua|piso|excusado, como lo|la =seco", 2.4),
    p(OutOfScope, "bajar|subir de =peso, dieta|ejercicio|=gym", 2.0),
    p(OutOfScope, "me gusta una|un, como le =hablo, ligar|conquistar|enamorar, me =dejo", 1.4),
    p(OutOfScope, "=sep|escuela|universidad|prepa|secundaria|primaria, =clases", 1.4),
];

/// The offline NLU: stateless, cheap, shared.
pub struct Nlu {
    compiled: Vec<CompiledPattern>,
}

struct CompiledPattern {
    intent: Intent,
    /// Alternative phrases; each phrase is a list of words, each word a list of alternatives.
    phrases: Vec<Vec<Vec<Term>>>,
    weight: f32,
}

/// Entity marks on the tokens where an entity was found.
const ZONE: u8 = 1;
const PLAN: u8 = 2;
const NUM: u8 = 4;
const TICKET: u8 = 8;
const PHONE: u8 = 16;
const NAME: u8 = 32;
const ENTITIES: [(&str, u8); 6] = [
    ("@zone", ZONE),
    ("@plan", PLAN),
    ("@num", NUM),
    ("@ticket", TICKET),
    ("@phone", PHONE),
    ("@name", NAME),
];

/// A word of a pattern, with its [`sound`] where it has one.
enum Term {
    Fuzzy(String, String),
    Prefix(String, String),
    Exact(String, String),
    Entity(u8),
}

impl Term {
    fn matches(&self, prepared: &Prepared, i: usize) -> bool {
        let token = prepared.tokens[i].as_str();
        let sound = prepared.sounds[i].as_str();
        match self {
            Term::Exact(w, s) => token == w || sound == s,
            Term::Fuzzy(w, s) => sound == s || near(token, w),
            Term::Prefix(stem, s) => sound.starts_with(s.as_str()) || near_prefix(token, stem),
            Term::Entity(mark) => prepared.marks[i] & mark != 0,
        }
    }
}

fn compile_term(word: &str) -> Term {
    if word.starts_with('@') {
        match ENTITIES.iter().find(|(name, _)| *name == word) {
            Some((_, mark)) => Term::Entity(*mark),
            None => panic!("unknown entity {word} in the NLU lexicon"),
        }
    } else if let Some(w) = word.strip_prefix('=') {
        let w = nlu_token(w);
        Term::Exact(w.clone(), sound(&w))
    } else if let Some(stem) = word.strip_suffix('*') {
        let stem = nlu_token(stem);
        Term::Prefix(stem.clone(), sound(&stem))
    } else {
        let w = nlu_token(word);
        Term::Fuzzy(w.clone(), sound(&w))
    }
}

fn compile_pattern(pattern: &str) -> Vec<Vec<Vec<Term>>> {
    pattern
        .split(',')
        .map(|phrase| {
            phrase
                .split_whitespace()
                .map(|word| {
                    word.split('|')
                        .filter(|a| !a.is_empty())
                        .map(compile_term)
                        .collect()
                })
                .collect::<Vec<Vec<Term>>>()
        })
        .filter(|phrase| !phrase.is_empty())
        .collect()
}

/// Short words that may stand between the words of a phrase without counting as a gap.
const FUNCTION_WORDS: &[&str] = &[
    "a", "al", "con", "de", "del", "e", "el", "en", "la", "las", "lo", "los", "mi", "mis", "o",
    "pa", "para", "por", "su", "sus", "tu", "tus", "un", "una", "unas", "unos", "y",
];
/// Words that, after "cuánto cuesta el/un...", keep a price question about us ("¿cuánto cuesta
/// un plan?", "¿cuánto cuesta el más barato?").
const ISP_THINGS: &str = "plan paquete servicio internet instalacion conexion modem router \
    antena cambio reconexion mes mensualidad renta megas velocidad wifi mas que promocion equipo \
    contrato repetidor extensor cable traslado domicilio visita tecnico";
/// Between two words of a phrase: at most this many other words...
const MAX_GAP: usize = 4;
/// ...of which at most this many are not function words.
const MAX_CONTENT_GAP: usize = 2;

/// The text of an utterance ready for matching: tokens, their entity marks, and which of them
/// are function words.
struct Prepared {
    tokens: Vec<String>,
    /// The [`sound`] of each token.
    sounds: Vec<String>,
    marks: Vec<u8>,
    function: Vec<bool>,
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
                phrases: compile_pattern(pat.pattern),
            })
            .collect();
        Self { compiled }
    }

    /// The score of every intent (in the order of [`Intent::ALL`]) after the corrections.
    fn scores(&self, prepared: &Prepared) -> [f32; Intent::ALL.len()] {
        let mut scores = [0f32; Intent::ALL.len()];
        for pat in &self.compiled {
            if pat.phrases.iter().any(|ph| phrase_matches(ph, prepared)) {
                scores[intent_index(pat.intent)] += pat.weight;
            }
        }
        adjust(&mut scores, prepared);
        scores
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
        let scores = self.scores(&prepared);
        let (best, top) =
            scores
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
    let tokens = &prepared.tokens;
    let any = |words: &str| has_any(tokens, words);
    let scale = |scores: &mut [f32; Intent::ALL.len()], intents: &[Intent], f: f32| {
        for i in intents {
            scores[idx(*i)] *= f;
        }
    };

    // Somebody else's service (a mobile carrier, the power company): not ours to answer.
    let at_t = tokens.windows(2).any(|w| w[0] == "at" && w[1] == "te");
    if at_t || any("telcel movistar unefon bait att cfe") {
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
    let content = [
        Register,
        Plans,
        Coverage,
        ReportIncident,
        IncidentStatus,
        Billing,
        HumanAgent,
        Stats,
        ClientSearch,
        Finance,
        OutOfScope,
    ]
    .iter()
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

/// Whether any token is one of the space-separated `words`.
fn has_any(tokens: &[String], words: &str) -> bool {
    tokens.iter().any(|t| words.split(' ').any(|w| w == t))
}

/// Whether any token starts with one of the space-separated `stems`.
fn starts_any(tokens: &[String], stems: &str) -> bool {
    tokens
        .iter()
        .any(|t| stems.split(' ').any(|s| t.starts_with(s)))
}

fn intent_index(intent: Intent) -> usize {
    Intent::ALL.iter().position(|i| *i == intent).unwrap_or(0)
}

/// Whether the words of a phrase appear in order in the tokens, each close enough to the
/// previous one (see [`MAX_GAP`] and [`MAX_CONTENT_GAP`]).
fn phrase_matches(terms: &[Vec<Term>], prepared: &Prepared) -> bool {
    fn from(terms: &[Vec<Term>], p: &Prepared, start: usize, first: bool) -> bool {
        let Some((alts, rest)) = terms.split_first() else {
            return true;
        };
        let (mut gap, mut content_gap) = (0, 0);
        for i in start..p.tokens.len() {
            if alts.iter().any(|t| t.matches(p, i)) && from(rest, p, i + 1, false) {
                return true;
            }
            if !first {
                gap += 1;
                content_gap += usize::from(!p.function[i]);
                if gap > MAX_GAP || content_gap > MAX_CONTENT_GAP {
                    return false;
                }
            }
        }
        false
    }
    from(terms, prepared, 0, true)
}

/// How many typos a word of this length may carry: stricter than [`text::tolerance`], since
/// many short Spanish words are one letter apart ("cuesta", "cuenta").
fn typo_tolerance(len: usize) -> usize {
    match len {
        0..=5 => 0,
        6..=9 => 1,
        _ => 2,
    }
}

/// The first sound of a word, for the rule that a typo rarely changes it: a silent "h" is
/// skipped, and "b"/"v" and "s"/"c"/"z" are the same.
fn initial(w: &[u8]) -> u8 {
    let c = match w {
        [b'h', c, ..] => *c,
        [c, ..] => *c,
        [] => 0,
    };
    match c {
        b'v' => b'b',
        b'z' | b'c' => b's',
        c => c,
    }
}

/// Whether a typed token matches a lexicon word, allowing for typos but not for another
/// inflection ("facturado" is not "factura"; a plural is fine).
fn near(token: &str, word: &str) -> bool {
    if token == word {
        return true;
    }
    let (t, w) = (token.as_bytes(), word.as_bytes());
    let (long, short) = if t.len() > w.len() { (t, w) } else { (w, t) };
    if short.len() >= 3 && long.starts_with(short) {
        return matches!(&long[short.len()..], b"s" | b"es");
    }
    let tol = typo_tolerance(short.len());
    if tol == 0 || long.len() - short.len() > tol || initial(t) != initial(w) {
        return false;
    }
    // Only the last letter differs: "facturo" for "factura" is another form, not a typo.
    if t.len() == w.len() && t[..t.len() - 1] == w[..w.len() - 1] {
        return false;
    }
    distance(token, word, tol, short.len() >= 7) <= tol
}

/// Whether a typed token starts with a stem, allowing for typos in stems of six letters or
/// more, as long as the stem's last letter is where it should be ("regsitrarme" has
/// "registr*", "contrasena" has not "contrat*").
fn near_prefix(token: &str, stem: &str) -> bool {
    if token.starts_with(stem) {
        return true;
    }
    let (t, s) = (token.as_bytes(), stem.as_bytes());
    let n = s.len();
    if n < 6 || t.len() + 1 < n || initial(t) != initial(s) {
        return false;
    }
    let tol = typo_tolerance(n);
    (n - 1..=n + 1).any(|len| {
        len <= t.len()
            && t[len - 1] == s[n - 1]
            && token.is_char_boundary(len)
            && distance(&token[..len], stem, tol, n >= 7) <= tol
    })
}

/// Optimal-string-alignment distance, bounded by `max`, without allocating for the short
/// words of the lexicon (the tokens are ASCII after folding). Without `substitution`, a
/// changed letter costs two: short words one letter apart are more often
/// other words ("cuesta", "cuenta"; "tarda", "tarea") than typos, while a letter missing,
/// doubled or swapped is a typo.
fn distance(a: &str, b: &str, max: usize, substitution: bool) -> usize {
    const N: usize = 32;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let changed = if substitution { 1 } else { 2 };
    if !substitution && (a.len() >= N || b.len() >= N) {
        return max + 1;
    }
    if a.len() >= N || b.len() >= N {
        return text::edit_distance(
            &String::from_utf8_lossy(a),
            &String::from_utf8_lossy(b),
            max,
        );
    }
    let n = b.len();
    let mut prev2 = [0usize; N];
    let mut prev = [0usize; N];
    let mut cur = [0usize; N];
    for (j, v) in prev.iter_mut().enumerate().take(n + 1) {
        *v = j;
    }
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = i;
        for j in 1..=n {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { changed };
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
        prev2 = prev;
        prev = cur;
    }
    prev[n]
}

/// How a word sounds, for the spellings that Spanish sounds allow: a silent "h" is dropped,
/// "v" is "b", "z" and "c" before "e"/"i" are "s", "ll" is "y", and doubled letters but "rr"
/// are one ("servisio" sounds as "servicio", "yegan" as "llegan", "aser" as "hacer", "lentoo" as
/// "lento").
fn sound(word: &str) -> String {
    let b = word.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut last = 0u8;
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied();
        let mapped = match c {
            b'h' if last != b'c' => continue,
            b'v' => b'b',
            b'z' => b's',
            b'c' if matches!(next, Some(b'e' | b'i')) => b's',
            b'l' if last == b'l' => {
                out.pop();
                last = b'y';
                out.push('y');
                continue;
            }
            c => c,
        };
        if mapped != last || mapped == b'r' || !mapped.is_ascii_alphabetic() {
            out.push(char::from(mapped));
        }
        last = mapped;
    }
    out
}

/// A token as the lexicon expects it: the respelled word, except that the few words that
/// respelling turns into a yes or a phone ("va", "sale", "numero") keep their meaning here
/// ("se va el internet", "¿cuánto sale?", "número de reporte").
fn nlu_token(word: &str) -> String {
    let respelled = text::respell(word);
    if respelled == "ok" || respelled == "telefono" {
        let squeezed = text::squeeze(word);
        if matches!(squeezed.as_str(), "va" | "sale" | "numero") {
            return squeezed;
        }
    }
    respelled
}

fn prepare(utterance: &str, rules: &Rules) -> Prepared {
    let raw_folded = text::fold(utterance);
    let words: Vec<&str> = raw_folded.split(' ').filter(|t| !t.is_empty()).collect();
    let tokens: Vec<String> = words.iter().map(|w| nlu_token(w)).collect();
    let sounds = tokens.iter().map(|t| sound(t)).collect();
    let mut marks = vec![0u8; tokens.len()];
    let function = tokens
        .iter()
        .map(|t| FUNCTION_WORDS.contains(&t.as_str()))
        .collect();
    let mut entities = Entities::default();

    // The zone, if it is really there: the typo tolerance of the rules is loose enough to
    // read "mañana" as "santana" or "cliente" as "oriente".
    if let Some(zone) = rules.find_zone(utterance) {
        let span = zone_span(zone, &words)
            .filter(|&(start, len)| len > 1 || !demonstrative(&words, start));
        if let Some((start, len)) = span {
            entities.zone = Some(zone.name.clone());
            marks[start..start + len]
                .iter_mut()
                .for_each(|m| *m |= ZONE);
        }
    }
    if let Some((i, mbps)) = find_plan_at(&tokens, rules) {
        entities.plan_mbps = Some(mbps);
        marks[i] |= PLAN;
    }
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    for i in 0..tokens.len() {
        if is_ticket(&tokens[i]) {
            marks[i] |= TICKET;
        } else if tokens[i] == "inc" && tokens.get(i + 1).is_some_and(|t| digits(t)) {
            marks[i] |= TICKET;
            marks[i + 1] |= TICKET;
        }
    }
    // A phone: ten digits or more, typed together or in groups ("464 112 3344").
    let mut i = 0;
    while i < tokens.len() {
        let run = tokens[i..].iter().take_while(|t| digits(t)).count();
        if run > 0 {
            let total: usize = tokens[i..i + run].iter().map(String::len).sum();
            let mark = if total >= 10 { PHONE } else { NUM };
            marks[i..i + run].iter_mut().for_each(|m| *m |= mark);
            i += run;
        } else {
            i += 1;
        }
    }
    entities.name = find_name(utterance);
    if let Some(name) = &entities.name {
        let name_words: Vec<String> = text::fold(name).split(' ').map(String::from).collect();
        for (t, m) in words.iter().zip(marks.iter_mut()) {
            if name_words.iter().any(|n| n == t) {
                *m |= NAME;
            }
        }
    }
    entities.incident_kind = incident_kind(&tokens);
    entities.since = find_since(&raw_folded);
    entities.modem_restarted = modem_restarted(&tokens);
    Prepared {
        tokens,
        sounds,
        marks,
        function,
        entities,
    }
}

/// Whether the word at `i` is "este" used as "this" ("este mes"), not as the zone: the zone
/// follows "la", "zona", "colonia"..., or ends the sentence.
fn demonstrative(words: &[&str], i: usize) -> bool {
    let zone_before = i.checked_sub(1).is_some_and(|j| {
        matches!(
            words[j],
            "la" | "zona" | "colonia" | "col" | "rumbo" | "al" | "hacia"
        )
    });
    words[i] == "este" && !zone_before && i + 1 < words.len()
}

/// Whether a typed word is a zone's word: with the typo tolerance of the rules for letters
/// missing, extra or swapped ("Cerro Blaco"), but not for changed first letters or changed
/// letters in short words ("mañana" is not "santana", "cliente" is not "oriente").
fn zone_word_near(typed: &str, word: &str) -> bool {
    let tol = text::tolerance(typed.len().min(word.len()));
    near(typed, word)
        || sound(typed) == sound(word)
        || (initial(typed.as_bytes()) == initial(word.as_bytes())
            && distance(typed, word, tol, false) <= tol)
}

/// Where the zone found by [`Rules::find_zone`] stands among the folded words, with the
/// stricter typo tolerance of the lexicon.
fn zone_span(zone: &Zone, words: &[&str]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize, usize)> = None; // errors, start, len
    for alias in std::iter::once(&zone.name).chain(zone.aliases.iter()) {
        let folded = text::fold(alias);
        let alias_words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        if alias_words.is_empty() || alias_words.len() > words.len() {
            continue;
        }
        for (start, window) in words.windows(alias_words.len()).enumerate() {
            let mut errors = 0;
            let ok = window.iter().zip(&alias_words).all(|(t, w)| {
                if t == w {
                    true
                } else if w.len() >= 5 && zone_word_near(t, w) {
                    errors += 1;
                    true
                } else {
                    false
                }
            });
            let better = match best {
                None => true,
                Some((e, _, l)) => errors < e || (errors == e && alias_words.len() > l),
            };
            if ok && better {
                best = Some((errors, start, alias_words.len()));
            }
        }
    }
    best.map(|(_, start, len)| (start, len))
}

fn is_ticket(t: &str) -> bool {
    t.strip_prefix("inc")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
}

/// A plan named by speed ("50 megas", "el de 100", "plan 20") or by name ("premium").
pub fn find_plan(tokens: &[String], rules: &Rules) -> Option<u32> {
    find_plan_at(tokens, rules).map(|(_, mbps)| mbps)
}

/// [`find_plan`], with the position of the token that names the plan.
fn find_plan_at(tokens: &[String], rules: &Rules) -> Option<(usize, u32)> {
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
                let after_count =
                    matches!(next, Some("minutos" | "min" | "dias" | "horas" | "pesos"));
                if (unit || context) && !after_count {
                    return Some((i, n));
                }
            }
        }
        if let Some(plan) = rules.plan_by_name(t) {
            if t.len() >= 5 {
                return Some((i, plan.mbps));
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
            if name.is_empty() || (start == ["soy"] && !folded.starts_with("soy") && name.len() < 2)
            {
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
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// What kind of failure an utterance describes, from its words alone (the intent decides
/// whether it is a report at all).
fn incident_kind(tokens: &[String]) -> Option<IncidentKind> {
    let has = |words: &str| has_any(tokens, words);
    let starts = |stems: &str| starts_any(tokens, stems);
    let pair = |a: &str, b: &str| tokens.windows(2).any(|w| w[0] == a && w[1] == b);
    // "se cae", "se me va", "se está cortando".
    let after_se = |words: &str| {
        tokens
            .iter()
            .enumerate()
            .any(|(i, t)| t == "se" && has_any(&tokens[i + 1..(i + 3).min(tokens.len())], words))
    };
    let intermittent = starts("intermiten inestab microcort desconecta")
        || has("cortes caidas ratos ratito ratitos regresa vuelve")
        || after_se("cae caia va iba corta cortan corto cortando quita pierde")
        || pair("cada", "rato")
        || pair("va", "y");
    if intermittent {
        return Some(IncidentKind::Intermittent);
    }
    let hardware = starts("modem router ruter antena cable foco luz luces poste fibra");
    let damage = starts(
        "romp roto rota quem cortad colg pelad mord parpade roj naranja apagad movio ruido huele \
         humo chispa moj prende enciende",
    );
    if hardware && damage {
        return Some(IncidentKind::Other);
    }
    let slow = starts("lent lague lagea congel trabad")
        || has("lag ping traba trabando tarda tardan tardado demora velocidad")
        || (has("megas") && has("pasa llegan llega apenas"));
    if slow {
        return Some(IncidentKind::Slow);
    }
    let neg = has("no sin nada ni");
    let service = has("red inter")
        || tokens.iter().any(|t| {
            "internet servicio senal conexion wifi funciona sirve jala conecta"
                .split(' ')
                .any(|w| near(t, w))
        });
    let down = has("cayo caido fue murio");
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
        text::fuzzy_prefix(t, "reinici")
            || text::fuzzy_prefix(t, "resete")
            || t == "desconecte"
            || t == "apague"
    })?;
    let before = &tokens[pos.saturating_sub(3)..pos];
    let negated = before
        .iter()
        .any(|t| t == "no" || t == "nunca" || t == "todavia" || t == "aun");
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
        assert_eq!(
            intent("ola kiero contratar el de 50 megas en la norte"),
            Intent::Register
        );
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
        assert_eq!(
            find_name("hola me llamo juan pérez y vivo en el centro").as_deref(),
            Some("Juan Pérez")
        );
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

    fn understand(text: &str) -> Understanding {
        Nlu::new().understand(text, &rules())
    }

    #[test]
    fn patterns_list_alternative_phrases() {
        let phrases = compile_pattern("adios, nos vemos, hasta luego|pronto");
        let words: Vec<usize> = phrases.iter().map(Vec::len).collect();
        assert_eq!(words, [1, 2, 2]);
        assert_eq!(phrases[2][1].len(), 2);
        for farewell in ["hasta pronto", "nos vemos mañana", "bueno, hasta luego"] {
            assert_eq!(intent(farewell), Intent::Goodbye, "{farewell}");
        }
    }

    #[test]
    fn the_lexicon_is_well_formed() {
        for pat in LEXICON {
            let phrases = compile_pattern(pat.pattern);
            assert!(!phrases.is_empty(), "empty pattern: {:?}", pat.pattern);
            assert!(pat.weight > 0.0 && pat.weight <= 3.0, "{:?}", pat.pattern);
            for phrase in &phrases {
                assert!(
                    phrase.iter().all(|alts| !alts.is_empty()),
                    "{:?}",
                    pat.pattern
                );
            }
        }
    }

    #[test]
    fn typo_tolerance_is_not_inflection_or_another_word() {
        assert!(near("intenet", "internet"));
        assert!(near("facturas", "factura"));
        assert!(near("cobertrua", "cobertura"));
        assert!(!near("facturado", "factura"));
        assert!(!near("facturo", "factura"));
        assert!(!near("cuenta", "cuesta"));
        assert!(!near("tarde", "tarda"));
        assert!(!near("hago", "pago"));
        assert!(near_prefix("regsitrarme", "registr"));
        assert!(!near_prefix("contrasena", "contrat"));
    }

    #[test]
    fn words_match_as_they_sound() {
        assert_eq!(sound("servisio"), sound("servicio"));
        assert_eq!(sound("yegan"), sound("llegan"));
        assert_eq!(sound("aser"), sound("hacer"));
        assert_ne!(sound("carro"), sound("caro"));
        let u = understand("ay servisio en el sentro?");
        assert_eq!(u.intent, Intent::Coverage);
        assert_eq!(u.entities.zone.as_deref(), Some("Centro"));
        assert_eq!(intent("cuanto devo?"), Intent::Billing);
    }

    #[test]
    fn a_customers_bill_is_not_the_companys_revenue() {
        assert_eq!(
            intent("necesito la factura de mi internet de enero"),
            Intent::Billing
        );
        assert_eq!(intent("me pueden facturar este mes?"), Intent::Billing);
        assert_eq!(intent("me estan cobrando doble, por que?"), Intent::Billing);
        assert_eq!(
            intent("cuanto facturamos la semana pasada"),
            Intent::Finance
        );
        assert_eq!(intent("cuanto se facturo en enero"), Intent::Finance);
        assert_eq!(intent("cuanta lana nos dejo el centro"), Intent::Finance);
    }

    #[test]
    fn an_outage_is_not_a_coverage_question() {
        let u = understand("en mi colonia no hay internet desde temprano");
        assert_eq!(u.intent, Intent::ReportIncident);
        assert_eq!(u.entities.incident_kind, Some(IncidentKind::NoService));
        let u = understand("hay internet por el oriente?");
        assert_eq!(u.intent, Intent::Coverage);
        assert_eq!(u.entities.zone.as_deref(), Some("Este"));
        assert_eq!(
            intent("ya tienen red en el bajio o todavia no?"),
            Intent::Coverage
        );
    }

    #[test]
    fn asking_a_price_is_not_buying() {
        let u = understand("y cuanto sale el de 100 megas?");
        assert_eq!((u.intent, u.entities.plan_mbps), (Intent::Plans, Some(100)));
        let u = understand("me quedo con el de 20, cuando me lo ponen?");
        assert_eq!(
            (u.intent, u.entities.plan_mbps),
            (Intent::Register, Some(20))
        );
        assert_eq!(intent("a como esta el premium?"), Intent::Plans);
        assert_eq!(intent("cuanto cuesta un plan?"), Intent::Plans);
        assert_eq!(intent("cuanto cuesta una hamburguesa?"), Intent::OutOfScope);
    }

    #[test]
    fn counting_clients_is_not_listing_them() {
        assert_eq!(intent("cuantos clientes hay en el bajio"), Intent::Stats);
        assert_eq!(intent("cuantos usuarios activos tenemos"), Intent::Stats);
        assert_eq!(
            intent("pasame los clientes del bajio"),
            Intent::ClientSearch
        );
        assert_eq!(
            intent("busca a la señora carmen diaz"),
            Intent::ClientSearch
        );
        assert_eq!(intent("consulta el 464 555 1234"), Intent::ClientSearch);
    }

    #[test]
    fn a_report_already_made_asks_for_its_status() {
        assert_eq!(
            intent("ya reporte lo del internet lento, cuando vienen?"),
            Intent::IncidentStatus
        );
        assert_eq!(
            intent("como va el ticket INC-000042"),
            Intent::IncidentStatus
        );
        let u = understand("el internet esta lentisimo desde el lunes");
        assert_eq!(
            (u.intent, u.entities.incident_kind),
            (Intent::ReportIncident, Some(IncidentKind::Slow))
        );
        let u = understand("se me corta la conexion a cada ratito");
        assert_eq!(u.entities.incident_kind, Some(IncidentKind::Intermittent));
        let u = understand("se quebro la antena y el cable quedo colgando");
        assert_eq!(u.entities.incident_kind, Some(IncidentKind::Other));
    }

    #[test]
    fn greetings_and_thanks_give_way_to_the_request() {
        assert_eq!(intent("buenas noches"), Intent::Greeting);
        assert_eq!(
            intent("hola buenas tardes, quiero contratar internet"),
            Intent::Register
        );
        assert_eq!(intent("gracias, y cuanto cuesta el basico?"), Intent::Plans);
        assert_eq!(intent("no entiendo como se usa este chat"), Intent::Help);
        assert_eq!(intent("ayuda, se fue el internet"), Intent::ReportIncident);
    }

    #[test]
    fn other_companies_and_other_topics_are_out_of_scope() {
        assert_eq!(
            intent("mi recibo de telcel viene muy caro"),
            Intent::OutOfScope
        );
        assert_eq!(intent("como pago la luz de la cfe"), Intent::OutOfScope);
        assert_eq!(intent("cuanto es 15 por 4"), Intent::OutOfScope);
        assert_eq!(
            intent("recomiendame una serie de terror"),
            Intent::OutOfScope
        );
    }

    #[test]
    fn common_words_are_not_zones() {
        let nlu = Nlu::new();
        let r = rules();
        assert_eq!(
            nlu.understand("quiero pagar este mes", &r).entities.zone,
            None
        );
        assert_eq!(nlu.understand("hasta mañana", &r).entities.zone, None);
        assert_eq!(nlu.understand("datos del cliente", &r).entities.zone, None);
        let u = nlu.understand("Cerro Blaco", &r);
        assert_eq!(u.entities.zone.as_deref(), Some("Cerro Blanco"));
        let u = nlu.understand("estoy en la colonia este", &r);
        assert_eq!(u.entities.zone.as_deref(), Some("Este"));
    }

    #[test]
    fn clear_requests_are_confident_and_noise_is_not() {
        for text in [
            "no tengo internet",
            "quiero contratar el de 50",
            "cuanto debo",
            "adios",
        ] {
            let u = understand(text);
            assert!(u.confidence >= 0.6, "{text}: {}", u.confidence);
        }
        let u = understand("asdf qwer");
        assert_eq!(u.intent, Intent::OutOfScope);
        assert!(u.confidence < 0.9);
    }
}
