//! The session: wires terminal input, the feed and the app together on one thread, draws when
//! something changed, and carries out effects (file reads on the blocking pool). Key presses draw at once; data-only changes
//! (stats arrive every second per container) are coalesced to a few frames per second, so an
//! idle dashboard costs next to nothing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::EventStream;
use futures_util::StreamExt;
use tokio::sync::mpsc::{channel, unbounded_channel, Receiver, UnboundedReceiver};

use super::app::App;
use super::config::Config;
use super::feed;
use super::files;
use super::msg::{Effect, Msg, Purpose};
use super::terminal::Term;
use crate::cli::{AttachArgs, ExecArgs};
use crate::commands::Ctx;

/// The shortest gap between two frames caused only by engine data. Stats come once a second
/// per container, spread over the second: two frames a second show every change soon enough
/// and cost a fraction of one per message.
const DATA_FRAME: Duration = Duration::from_millis(500);
/// The shortest gap between two batches of engine messages (an action's answer waits at most
/// this long; data waits for the next frame anyway).
const MSG_BATCH_GAP: Duration = Duration::from_millis(100);
/// Messages handled before drawing, so a burst cannot starve the screen.
const BATCH: usize = 512;

pub async fn run(
    socket: PathBuf,
    autostart: bool,
    config: Config,
    compose_files: Vec<String>,
) -> Result<()> {
    let (tx, mut rx) = unbounded_channel();
    let (items_tx, mut items) = channel(feed::ITEM_QUEUE);
    // File answers (completion, a file's kind) answer a key press: they get their own channel
    // and draw at once, not at the next data frame.
    let (files_tx, mut files_rx) = unbounded_channel();
    let feed = feed::spawn(socket.clone(), autostart, tx, items_tx);
    let mut term = Term::enter(config.mouse)?;
    let mut app = App::new(config);
    // Which compose file `o` offers: a look at this directory, once (the app does no I/O).
    if let Ok(dir) = std::env::current_dir() {
        app.update(Msg::ComposeDefault(feed::compose::default_file(&dir)));
    }
    app.open_compose_files(compose_files);
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_draw = Instant::now() - DATA_FRAME;
    let mut urgent = true;
    let mut last_msgs = Instant::now() - MSG_BATCH_GAP;
    let mut backlog = false;

    loop {
        if app.is_dirty() && (urgent || last_draw.elapsed() >= DATA_FRAME) {
            term.terminal.draw(|f| app.draw(f))?;
            last_draw = Instant::now();
            urgent = false;
        }
        for effect in app.take_effects() {
            match effect {
                Effect::Feed(r) => feed.send(r.0),
                Effect::Files(req) => {
                    let tx = files_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(files::run(req));
                    });
                }
                Effect::Quit => {}
                Effect::SetMouse(on) => term.set_mouse(on)?,
                Effect::Clipboard(text) => term.copy(&text)?,
                Effect::OpenUrl(url) => {
                    let result = open_url(&url);
                    app.update(Msg::CallDone {
                        purpose: Purpose::Action {
                            label: format!("open {url}"),
                        },
                        result: result.map(|()| None),
                    });
                }
                Effect::WriteFile { path, contents } => {
                    let result = write_file(&path, &contents);
                    app.update(Msg::CallDone {
                        purpose: Purpose::Action {
                            label: format!("save to {path}"),
                        },
                        result: result.map(|()| None),
                    });
                }
                Effect::Exec { container, command } => {
                    // The event reader would steal the shell's input: stop it first.
                    drop(input);
                    let name = display_name(&app, &container);
                    term.suspend()?;
                    println!("berth: shell in {name}; exit it to return to the dashboard");
                    let ctx = Ctx {
                        socket: socket.clone(),
                        autostart: false,
                    };
                    let args = ExecArgs {
                        detach: false,
                        interactive: true,
                        tty: true,
                        env: Vec::new(),
                        user: None,
                        workdir: None,
                        privileged: false,
                        detach_keys: None,
                        container,
                        command,
                    };
                    let result = crate::commands::exec::exec(&ctx, args).await;
                    term.resume()?;
                    input = EventStream::new();
                    app.update(Msg::CallDone {
                        purpose: Purpose::Action {
                            label: format!("shell in {name}"),
                        },
                        result: match result {
                            Ok(0) => Ok(None),
                            Ok(code) => Err(format!("exited with status {code}")),
                            Err(e) => Err(feed::error_text(&e)),
                        },
                    });
                    urgent = true;
                }
                Effect::Attach { container } => {
                    drop(input);
                    let name = display_name(&app, &container);
                    term.suspend()?;
                    println!("berth: attached to {name}; detach with ctrl-p ctrl-q");
                    let ctx = Ctx {
                        socket: socket.clone(),
                        autostart: false,
                    };
                    let args = AttachArgs {
                        no_stdin: false,
                        sig_proxy: true,
                        detach_keys: None,
                        container,
                    };
                    let result = crate::commands::attach::attach(&ctx, args).await;
                    term.resume()?;
                    input = EventStream::new();
                    app.update(Msg::CallDone {
                        purpose: Purpose::Action {
                            label: format!("attach to {name}"),
                        },
                        result: result.map(|_| None).map_err(|e| feed::error_text(&e)),
                    });
                    urgent = true;
                }
            }
        }
        if app.should_quit() {
            return Ok(());
        }
        let wait = if app.is_dirty() {
            DATA_FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        // Engine messages are taken in batches at most every MSG_BATCH_GAP: fifty stats streams
        // then wake this loop a few times a second instead of fifty. A batch that stopped at
        // its limit (a flood of log lines) opens the next one at once. Keys are never held back.
        let msgs_open = backlog || last_msgs.elapsed() >= MSG_BATCH_GAP;
        let msgs_wait = MSG_BATCH_GAP.saturating_sub(last_msgs.elapsed());
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(ev)) => {
                    app.update(Msg::Input(ev));
                    urgent = true;
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            msg = rx.recv(), if msgs_open => {
                let Some(msg) = msg else { return Ok(()) };
                last_msgs = Instant::now();
                app.update(msg);
                backlog = drain(&mut app, &mut rx, &mut items);
            }
            item = items.recv(), if msgs_open => {
                let Some(item) = item else { return Ok(()) };
                last_msgs = Instant::now();
                app.update(item);
                backlog = drain(&mut app, &mut rx, &mut items);
            }
            Some(answer) = files_rx.recv() => {
                app.update(Msg::Files(answer));
                urgent = true;
            }
            _ = tick.tick() => app.update(Msg::Tick),
            _ = tokio::time::sleep(wait) => {}
            _ = tokio::time::sleep(msgs_wait), if !msgs_open => {}
        }
    }
}

/// Hands the app what is waiting, up to `BATCH` messages (control first); `true` when more
/// were left waiting.
fn drain(app: &mut App, rx: &mut UnboundedReceiver<Msg>, items: &mut Receiver<Msg>) -> bool {
    for _ in 0..BATCH {
        match rx.try_recv() {
            Ok(m) => app.update(m),
            Err(_) => match items.try_recv() {
                Ok(m) => app.update(m),
                Err(_) => return false,
            },
        }
    }
    true
}

fn display_name(app: &App, id: &str) -> String {
    app.store
        .container(id)
        .map_or_else(|| id.chars().take(12).collect(), |c| c.name().to_string())
}

/// Hands a URL to the desktop's opener; the dashboard never waits for the browser.
fn open_url(url: &str) -> Result<(), String> {
    use std::process::{Command, Stdio};
    let mut candidates: Vec<String> = Vec::new();
    if let Ok(b) = std::env::var("BROWSER") {
        candidates.extend(b.split(':').filter(|s| !s.is_empty()).map(str::to_string));
    }
    candidates.extend(["xdg-open", "open", "wslview"].map(String::from));
    for c in candidates {
        let spawned = Command::new(&c)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = spawned {
            // Reap it in the background so it does not linger as a zombie.
            std::thread::spawn(move || child.wait());
            return Ok(());
        }
    }
    Err(format!(
        "no browser opener found (set $BROWSER); the address is {url}"
    ))
}

fn write_file(path: &str, contents: &str) -> Result<(), String> {
    let path = std::path::Path::new(path);
    if path.exists() {
        return Err(format!("{} already exists", path.display()));
    }
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}
