//! The console channel: a conversation with the bot in a terminal (`redsol chat`, and
//! `redsol run` when no platform is configured). Also works with piped stdin: one line in,
//! the reply out, with each input line echoed so the output reads as a transcript.
//!
//! Typing the number of a quick reply taps it, as a button would on Telegram or WhatsApp.

use redsol_actors::model::{
    Channel, Content, ConversationKey, Inbound, Outbound, Profile, QuickReply, ReplySink,
};
use redsol_actors::supervisor::Router;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Where conversations hand the console's replies.
pub struct ConsoleSink {
    tx: mpsc::UnboundedSender<Outbound>,
}

impl ConsoleSink {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Outbound>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }
}

impl ReplySink for ConsoleSink {
    fn deliver(&self, out: Outbound) {
        if self.tx.send(out).is_err() {
            metrics::counter!("redsol_messages_sent_total", "channel" => "console", "outcome" => "dropped")
                .increment(1);
        }
    }
}

/// Who is talking on the console, and how.
#[derive(Clone, Debug)]
pub struct ConsoleOptions {
    /// The console user id (staff if listed in `rules.staff.console_users`).
    pub user: String,
    /// The name the bot knows the user by, as a platform profile would give it.
    pub name: Option<String>,
    /// Echo each input line (when stdin is not a terminal), so the output is a transcript.
    pub echo: bool,
    /// Show a prompt and the banner (when stdin is a terminal).
    pub interactive: bool,
    /// How long to wait for a reply before reading the next line.
    pub reply_timeout: Duration,
}

/// Renders a reply with its quick replies numbered.
pub fn render(out: &Outbound) -> String {
    let body: Vec<String> = out
        .reply
        .text
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("   {l}")
            }
        })
        .collect();
    let mut s = format!("🤖 {}\n", body.join("\n").trim_start());
    if !out.reply.quick_replies.is_empty() {
        let buttons: Vec<String> = out
            .reply
            .quick_replies
            .iter()
            .enumerate()
            .map(|(i, q)| format!("[{}] {}", i + 1, q.title))
            .collect();
        s.push_str(&format!("   {}\n", buttons.join("  ")));
    }
    s
}

/// Runs the console conversation until the input ends.
pub async fn run<R, W>(
    router: Router,
    mut replies: mpsc::UnboundedReceiver<Outbound>,
    input: R,
    mut output: W,
    opts: ConsoleOptions,
) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let key = ConversationKey::new(Channel::Console, opts.user.clone());
    let profile = Profile {
        name: opts.name.clone(),
        phone: None,
    };
    if opts.interactive {
        output
            .write_all(
                "redsol: conversación local con el bot (escribe «menú», «cancelar», o el número de una opción; Ctrl-D para salir)\n"
                    .as_bytes(),
            )
            .await?;
        output.flush().await?;
    }
    let mut last_buttons: Vec<QuickReply> = Vec::new();
    let mut lines = input.lines();
    loop {
        if opts.interactive {
            output.write_all("tú> ".as_bytes()).await?;
            output.flush().await?;
        }
        // While waiting for input, a message nobody typed for (a ticket closed by staff, a
        // person's answer) is shown as it comes.
        let line = loop {
            tokio::select! {
                biased;
                line = lines.next_line() => break line?,
                out = replies.recv() => match out {
                    Some(out) => {
                        last_buttons = out.reply.quick_replies.clone();
                        write_reply(&mut output, &out).await?;
                    }
                    None => return Ok(()),
                },
            }
        };
        let Some(line) = line else {
            break;
        };
        if opts.echo {
            output.write_all(format!("> {line}\n").as_bytes()).await?;
        }
        let content = match line.trim().parse::<usize>() {
            Ok(n) if n >= 1 && n <= last_buttons.len() => {
                Content::Choice(last_buttons[n - 1].id.clone())
            }
            _ => Content::Text(line),
        };
        let inbound = Inbound {
            key: key.clone(),
            message_id: None,
            content,
            profile: profile.clone(),
            accepted_at: tokio::time::Instant::now(),
            reply_to: None,
            tapped: None,
        };
        if router.route(inbound).is_err() {
            tracing::error!("the conversation tree is not running; the console stops");
            break;
        }
        match tokio::time::timeout(opts.reply_timeout, replies.recv()).await {
            Ok(Some(out)) => {
                last_buttons = out.reply.quick_replies.clone();
                write_reply(&mut output, &out).await?;
                // A turn may produce more than one message (e.g. an apology after a crash).
                while let Ok(more) = replies.try_recv() {
                    last_buttons = more.reply.quick_replies.clone();
                    write_reply(&mut output, &more).await?;
                }
            }
            Ok(None) => break,
            Err(_) => {
                tracing::warn!(
                    timeout_secs = opts.reply_timeout.as_secs(),
                    "no reply in time on the console"
                );
                output.write_all("🤖 (sin respuesta)\n".as_bytes()).await?;
            }
        }
        output.flush().await?;
    }
    output.flush().await?;
    Ok(())
}

async fn write_reply<W: AsyncWrite + Unpin>(output: &mut W, out: &Outbound) -> std::io::Result<()> {
    // Counted before it is written, so whoever reads the reply also sees it counted.
    metrics::counter!("redsol_messages_sent_total", "channel" => "console", "outcome" => "ok")
        .increment(1);
    metrics::histogram!("redsol_response_seconds", "channel" => "console")
        .record(out.accepted_at.elapsed().as_secs_f64());
    output.write_all(render(out).as_bytes()).await
}
