use crate::{assert_in_order, run_with_input};

#[test]
fn piped_chat_gives_the_expected_transcript() {
    let data = tempfile::tempdir().expect("tempdir");
    let input = "hola\n\
                 quiero contratar\n\
                 la nortee\n\
                 el de 100 megas\n\
                 sí\n\
                 mi internet no funciona desde ayer\n\
                 no lo he reiniciado\n\
                 sí\n\
                 como va mi reporte?\n\
                 \n\
                 😀\n\
                 1\n\
                 cancelar\n\
                 adios\n";
    let out = run_with_input(&["chat", "--name", "Juan Pérez"], data.path(), input);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_in_order(
        &stdout,
        &[
            "> hola",
            "¡Hola, Juan!",
            "> quiero contratar",
            "¿En qué zona vives?",
            "> la nortee",
            "¿Qué plan te interesa?",
            "> el de 100 megas",
            "¿Confirmo tu registro?",
            "> sí",
            "Registro exitoso",
            "Cliente: Juan Pérez",
            "Zona: Norte",
            "Precio: $600/mes",
            "técnico te contactará en 24 horas",
            "> mi internet no funciona desde ayer",
            "¿Ya reiniciaste el módem?",
            "> no lo he reiniciado",
            "¿Lo confirmo?",
            "> sí",
            "Incidente registrado: INC-000001",
            "Prioridad: Alta",
            "> como va mi reporte?",
            "INC-000001",
            "No recibí texto",
            "> 😀",
            "Escríbeme",
            "> 1",
            "Nuestros planes",
            "> cancelar",
            "lo dejamos",
            "> adios",
            "Gracias por escribir",
        ],
    );
    // The registration and the incident are in the embedded store: a second run sees the ticket.
    let again = run_with_input(
        &["chat", "--user", "otra"],
        data.path(),
        "estado de mi reporte\n",
    );
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        !stdout.contains("INC-000001"),
        "another console user does not see it:\n{stdout}"
    );
    let again = run_with_input(
        &["chat", "--user", "local"],
        data.path(),
        "estado de mi reporte\n",
    );
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains("INC-000001"),
        "the same user sees it after a restart:\n{stdout}"
    );
}

#[test]
fn the_console_admin_gets_statistics_and_a_customer_does_not() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = run_with_input(&["chat", "--user", "admin"], data.path(), "estadisticas\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Clientes: 536"), "{stdout}");
    let out = run_with_input(&["chat"], data.path(), "estadisticas\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("solo para el personal"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("staff_refused"),
        "security log line: {stderr}"
    );
}
