//! The dashboard (placeholder): engine host, version and object counts, refreshed every 2 s.
//! Quits on q / Esc / Ctrl-C; a connection failure is shown, not fatal. `ratatui::init` installs
//! a panic hook that restores the terminal; `restore` is called on every normal exit path.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;

use crate::client::{autostart, Client};

const REFRESH: Duration = Duration::from_secs(2);

/// What the screen shows: either engine facts or why we could not get them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub containers: Option<(u64, u64)>,
    pub images: Option<u64>,
    pub error: Option<String>,
}

async fn fetch(client: &mut Option<Client>, socket: &std::path::Path, autostart: bool) -> Snapshot {
    let result: Result<Snapshot> = async {
        if client.is_none() {
            *client = Some(autostart::connect(socket, autostart).await?);
        }
        let c = client.as_ref().expect("set above");
        let version: Value = c.get("/version").await?;
        let info: Value = c.get("/info").await?;
        Ok(Snapshot {
            version: version["Version"].as_str().map(str::to_string),
            api_version: Some(c.api_version().to_string()),
            containers: Some((
                info["Containers"].as_u64().unwrap_or(0),
                info["ContainersRunning"].as_u64().unwrap_or(0),
            )),
            images: info["Images"].as_u64(),
            error: None,
        })
    }
    .await;
    result.unwrap_or_else(|e| {
        // Reconnect (and re-negotiate) next time; the engine may have restarted.
        *client = None;
        Snapshot {
            error: Some(format!("{e:#}")),
            ..Default::default()
        }
    })
}

pub fn draw(frame: &mut Frame, host: &str, snap: &Snapshot) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let title = Paragraph::new(Line::from(vec![
        Span::styled("berth", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw("  "),
        Span::styled(host.to_string(), Style::default().fg(Color::Cyan)),
    ]))
    .block(Block::default().borders(Borders::ALL));
    frame.render_widget(title, header);

    let lines: Vec<Line> = match &snap.error {
        Some(e) => vec![
            Line::styled("Cannot reach the engine", Style::default().fg(Color::Red)),
            Line::raw(e.clone()),
        ],
        None => {
            let (all, running) = snap.containers.unwrap_or((0, 0));
            vec![
                Line::raw(format!(
                    "Engine version: {}",
                    snap.version.as_deref().unwrap_or("?")
                )),
                Line::raw(format!(
                    "API version:    {}",
                    snap.api_version.as_deref().unwrap_or("?")
                )),
                Line::raw(format!("Containers:     {all} ({running} running)")),
                Line::raw(format!("Images:         {}", snap.images.unwrap_or(0))),
            ]
        }
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" Engine ")),
        body,
    );
    frame.render_widget(Paragraph::new("q/Esc: quit   refreshes every 2s"), footer);
}

pub fn run(socket: PathBuf, autostart: bool) -> Result<i32> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let host = format!("unix://{}", socket.display());
    let mut client = None;
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> Result<()> {
        let mut snap = Snapshot {
            error: Some("connecting…".into()),
            ..Default::default()
        };
        terminal.draw(|f| draw(f, &host, &snap))?;
        snap = rt.block_on(fetch(&mut client, &socket, autostart));
        let mut last = Instant::now();
        loop {
            terminal.draw(|f| draw(f, &host, &snap))?;
            let timeout = REFRESH.saturating_sub(last.elapsed());
            if event::poll(timeout)? {
                if let Event::Key(k) = event::read()? {
                    let ctrl_c =
                        k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                    if k.kind == KeyEventKind::Press
                        && (ctrl_c || matches!(k.code, KeyCode::Char('q') | KeyCode::Esc))
                    {
                        return Ok(());
                    }
                }
            }
            if last.elapsed() >= REFRESH {
                snap = rt.block_on(fetch(&mut client, &socket, autostart));
                last = Instant::now();
            }
        }
    })();
    ratatui::restore();
    result.map(|()| 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn render(snap: &Snapshot) -> String {
        let mut t = Terminal::new(TestBackend::new(60, 10)).unwrap();
        t.draw(|f| draw(f, "unix:///run/berth/berth.sock", snap))
            .unwrap();
        let buf = t.backend().buffer().clone();
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn shows_counts_or_error() {
        let s = render(&Snapshot {
            version: Some("0.1.0".into()),
            api_version: Some("1.44".into()),
            containers: Some((3, 1)),
            images: Some(2),
            error: None,
        });
        assert!(s.contains("Engine version: 0.1.0"));
        assert!(s.contains("Containers:     3 (1 running)"));
        assert!(s.contains("unix:///run/berth/berth.sock"));
        let s = render(&Snapshot {
            error: Some("connection refused".into()),
            ..Default::default()
        });
        assert!(s.contains("Cannot reach the engine"));
        assert!(s.contains("connection refused"));
    }
}
