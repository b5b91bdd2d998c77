//! The hand-written lexicon of the offline NLU: weighted phrase patterns per intent. The
//! classifier reads each intent's lexicon score as an extra feature ([`super::matcher`]);
//! the intent itself comes from the trained model.

use crate::model::Intent;

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
    p(OutOfScope, "telcel|movistar|unefon|=bait|=att|=cfe|izzi|totalplay|telmex|infinitum|megacable|starlink|axtel|=dish|=sky, =at =te", 2.2),
    p(OutOfScope, "hbo|disney|paramount|crunchyroll|=vix|amazon|mercadolibre, =prime video, hbo =max", 2.2),
    p(OutOfScope, "plomero|electricista|carpintero|cerrajero|albanil|jardinero|mecanico|doctor|dentista|medico|veterinario|abogado|contador", 2.2),
    p(OutOfScope, "lavadora|secadora|refri|refrigerador|estufa|microondas|licuadora|boiler|calentador|=cargador|audifonos|bocina|bocinas|television|pantalla", 2.2),
    p(OutOfScope, "=gym|gimnasio|predial|tenencia|=gas, agua potable, seguro de|del =auto|=carro|=vida|=gastos", 2.2),
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
