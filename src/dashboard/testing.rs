//! Test support for whole-app snapshot tests: an `App` fed the same messages the feed sends
//! (decoded from Docker API-shaped JSON), driven by key strings, rendered on a TestBackend with
//! a fixed clock.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use serde_json::{json, Value};

use super::app::App;
use super::config::Config;
use super::msg::{Effect, Msg, StreamItem, StreamKey};
use super::store::model::{EngineInfo, HostUsage};

/// The fixed "now" of every snapshot: 2026-11-23 12:00:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

pub fn rfc3339_ago(secs: i64) -> String {
    (now() - chrono::Duration::seconds(secs)).to_rfc3339()
}

/// A connected app with no objects yet.
pub fn app() -> App {
    let mut app = App::new(Config::default());
    app.clock = Some(now());
    app.update(Msg::Connected(EngineInfo {
        host: "unix:///run/berth/berth.sock".into(),
        name: "berth".into(),
        version: "0.1.0".into(),
        api_version: "1.44".into(),
        os: "Debian GNU/Linux 13".into(),
        cpus: 2,
        mem_total: 24 << 30,
    }));
    app.update(Msg::Host(HostUsage {
        cpu_percent: 12.5,
        mem_used: 6 << 30,
        mem_total: 24 << 30,
    }));
    app.take_effects();
    app
}

/// A container list row as `GET /containers/json?all=1` gives it.
pub fn container(name: &str, state: &str, project: Option<&str>) -> Value {
    let id = format!("{:0<64}", hex_of(name));
    let mut labels = serde_json::Map::new();
    if let Some(p) = project {
        labels.insert("com.docker.compose.project".into(), json!(p));
        labels.insert("com.docker.compose.service".into(), json!(name));
    }
    let status = match state {
        "running" => "Up 5 minutes".to_string(),
        "paused" => "Up 5 minutes (Paused)".to_string(),
        "created" => "Created".to_string(),
        _ => "Exited (0) 2 minutes ago".to_string(),
    };
    json!({
        "Id": id, "Names": [format!("/{name}")], "Image": "busybox:latest",
        "ImageID": "sha256:5d6f3e1156593adf8f026869ba0ae9b4add9c18fc5bbcfb548cab19f544465ca",
        "Command": "sleep 3600", "Created": now().timestamp() - 600,
        "Ports": [], "Labels": labels, "State": state, "Status": status,
        "Mounts": [], "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2", "NetworkID": "n1"}}}
    })
}

/// A stable fake id from a name.
pub fn hex_of(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect::<String>()
}

pub fn id_of(name: &str) -> String {
    format!("{:0<64}", hex_of(name))
}

/// `GET /containers/{id}/json` for a list row (what the detail pane and uptimes read).
pub fn detail(row: &Value) -> Value {
    json!({
        "Id": row["Id"], "Name": format!("/{}", row["Names"][0].as_str().unwrap().trim_start_matches('/')),
        "State": {"Status": row["State"], "Running": row["State"] == "running",
                  "StartedAt": rfc3339_ago(300), "Pid": 4242},
        "Config": {"Tty": false, "Env": ["PATH=/usr/bin:/bin", "GREETING=hello"],
                   "Cmd": ["sleep", "3600"], "Image": "busybox:latest", "Labels": row["Labels"]},
        "HostConfig": {"PortBindings": {}},
        "Mounts": row["Mounts"], "NetworkSettings": {"Ports": {}, "Networks": row["NetworkSettings"]["Networks"]},
    })
}

/// Feeds a container list (and each container's detail) to the app.
pub fn set_containers(app: &mut App, rows: Vec<Value>) {
    let list = serde_json::from_value(Value::Array(rows.clone())).unwrap();
    app.update(Msg::Containers(list));
    for r in &rows {
        app.update(Msg::CallDone {
            purpose: super::msg::Purpose::ContainerDetail {
                id: r["Id"].as_str().unwrap().to_string(),
            },
            result: Ok(Some(detail(r))),
        });
    }
    app.take_effects();
}

/// One stats message, `secs` seconds after the fixed clock's minute.
pub fn stats(secs: i64, cpu_total: u64, mem: u64, rx: u64) -> Value {
    json!({
        "read": (now() + chrono::Duration::seconds(secs)).to_rfc3339(),
        "cpu_stats": {"cpu_usage": {"total_usage": cpu_total}, "system_cpu_usage": 1_000_000_000u64 * (secs as u64 + 1), "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": cpu_total.saturating_sub(100_000_000)}, "system_cpu_usage": 1_000_000_000u64 * secs as u64},
        "memory_stats": {"usage": mem, "limit": 24u64 << 30, "stats": {}},
        "networks": {"eth0": {"rx_bytes": rx, "tx_bytes": rx / 2}},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 4096}, {"op": "write", "value": 8192 * secs as u64}]},
        "pids_stats": {"current": 3}
    })
}

pub fn feed_stats(app: &mut App, name: &str, n: i64) {
    for s in 0..n {
        app.update(Msg::Stream {
            key: StreamKey::Stats(id_of(name)),
            item: StreamItem::Json(stats(
                s,
                100_000_000 * (s as u64 + 1) * (name.len() as u64 % 5 + 1),
                (40 + s as u64) << 20,
                1000 * s as u64,
            )),
        });
    }
}

/// Presses keys written as a space-separated list: `j`, `G`, `enter`, `esc`, `ctrl-a`,
/// `space`, `tab`, `shift-tab`, or `text:hello world` to type characters.
pub fn press(app: &mut App, keys: &str) {
    for k in keys.split(' ').filter(|k| !k.is_empty()) {
        if let Some(text) = k.strip_prefix("text:") {
            for c in text.replace('_', " ").chars() {
                key(app, KeyCode::Char(c), KeyModifiers::NONE);
            }
            continue;
        }
        let parsed = super::keymap::Key::parse(k).unwrap_or_else(|e| panic!("{k}: {e}"));
        let (code, mods) = match (parsed.code, parsed.mods) {
            (KeyCode::Tab, m) if m.contains(KeyModifiers::SHIFT) => (KeyCode::BackTab, m),
            (c, m) => (c, m),
        };
        key(app, code, mods);
    }
}

pub fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) {
    app.update(Msg::Input(Event::Key(KeyEvent::new(code, mods))));
}

pub fn click(app: &mut App, column: u16, row: u16) {
    app.update(Msg::Input(Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })));
}

/// Renders the whole app at `w`×`h` and returns what insta stores: the screen as text, then
/// its styles (`styles_of`), so a lost selection highlight, mark or colour fails a snapshot too.
pub fn render(app: &mut App, w: u16, h: u16) -> String {
    let buf = render_buffer(app, w, h);
    let mut out = text_of(&buf);
    out.push_str(&styles_of(&buf));
    out
}

/// Renders like `render` and returns the cells too (for asserting styles: highlights, colours).
pub fn render_buffer(app: &mut App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    // Twice: the first frame tells views their size (page keys, visible rows).
    t.draw(|f| app.draw(f)).unwrap();
    t.backend().buffer().clone()
}

/// The screen as text, one line per row, trailing blanks cut.
pub fn text_of(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The styled runs of the screen, one line per screen row that has any: `row: x-x style "text"`
/// for each run of cells sharing a style other than the terminal's default, e.g.
/// `  3: 0-79 bg:#2d3f52+BOLD "web  running"` for a selected row. Text longer than 24 columns is
/// cut with "…" (the screen above has all of it).
pub fn styles_of(buf: &Buffer) -> String {
    let mut out = String::from("--- styles ---\n");
    for y in 0..buf.area.height {
        let mut runs: Vec<String> = Vec::new();
        let mut x = 0;
        while x < buf.area.width {
            let style = style_name(&buf[(x, y)]);
            let start = x;
            let mut text = String::new();
            while x < buf.area.width && style_name(&buf[(x, y)]) == style {
                text.push_str(buf[(x, y)].symbol());
                x += 1;
            }
            if let Some(style) = style {
                let text = super::widgets::ellipsize(text.trim(), 24);
                runs.push(format!("{start}-{} {style} {text:?}", x - 1));
            }
        }
        if !runs.is_empty() {
            out.push_str(&format!("{y:>3}: {}\n", runs.join("; ")));
        }
    }
    out
}

/// A cell's style as `fg:Yellow bg:#2d3f52+BOLD`, `None` for the default.
fn style_name(cell: &ratatui::buffer::Cell) -> Option<String> {
    let color = |c: Color| match c {
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => format!("{i}"),
        c => format!("{c:?}"),
    };
    let mut parts: Vec<String> = Vec::new();
    if cell.fg != Color::Reset {
        parts.push(format!("fg:{}", color(cell.fg)));
    }
    if cell.bg != Color::Reset {
        parts.push(format!("bg:{}", color(cell.bg)));
    }
    let mut name = parts.join(" ");
    for (flag, label) in [
        (Modifier::BOLD, "BOLD"),
        (Modifier::DIM, "DIM"),
        (Modifier::ITALIC, "ITALIC"),
        (Modifier::UNDERLINED, "UNDERLINED"),
        (Modifier::REVERSED, "REVERSED"),
        (Modifier::CROSSED_OUT, "CROSSED_OUT"),
        (Modifier::SLOW_BLINK, "BLINK"),
    ] {
        if cell.modifier.contains(flag) {
            name.push('+');
            name.push_str(label);
        }
    }
    (!name.is_empty()).then_some(name)
}

/// The streams opened among the effects (their keys), e.g. the logs view's per-container keys.
pub fn opened(effects: &[Effect]) -> Vec<StreamKey> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                super::msg::FeedRequest::Open(s) => Some(s.key.clone()),
                _ => None,
            },
            _ => None,
        })
        .filter(|k| !matches!(k, StreamKey::Stats(_)))
        .collect()
}

/// Sends text lines on a stream, as the feed does for logs.
pub fn feed_lines(app: &mut App, key: &StreamKey, lines: &[String], stderr: bool) {
    for line in lines {
        app.update(Msg::Stream {
            key: key.clone(),
            item: StreamItem::Text {
                line: line.clone(),
                stderr,
            },
        });
    }
}

/// The feed requests among the effects, as text (for asserting the API calls made). Stats
/// streams, which follow what is on screen, are left out.
pub fn calls(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter(|e| !is_stats(e))
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                super::msg::FeedRequest::Call(c) => Some(format!("{} {}", c.method, c.path)),
                super::msg::FeedRequest::Open(s) => Some(format!("OPEN {} {}", s.method, s.path)),
                super::msg::FeedRequest::Close(k) => Some(format!("CLOSE {k:?}")),
                super::msg::FeedRequest::Resync => Some("RESYNC".into()),
                super::msg::FeedRequest::RefreshBuilds => Some("REFRESH BUILDS".into()),
                super::msg::FeedRequest::Build(b) => Some(format!(
                    "BUILD {} {:?}",
                    b.spec.context_dir.display(),
                    b.key
                )),
                super::msg::FeedRequest::LoadStack(l) => Some(format!("LOAD STACK {}", l.key())),
                super::msg::FeedRequest::Stack(r) => {
                    Some(format!("STACK {}", r.op.title(&r.target.name)))
                }
            },
            _ => None,
        })
        .collect()
}

fn is_stats(e: &Effect) -> bool {
    match e {
        Effect::Feed(r) => match &r.0 {
            super::msg::FeedRequest::Open(s) => matches!(s.key, StreamKey::Stats(_)),
            super::msg::FeedRequest::Close(k) => matches!(k, StreamKey::Stats(_)),
            _ => false,
        },
        _ => false,
    }
}

/// The effects that are not feed requests (exec, clipboard, quit, ...).
pub fn local_effects(effects: Vec<Effect>) -> Vec<Effect> {
    effects
        .into_iter()
        .filter(|e| !matches!(e, Effect::Feed(_)))
        .collect()
}

/// An image list row as `GET /images/json` gives it; `tags` empty makes a dangling image.
pub fn image(seed: &str, tags: &[&str], size: i64, age_secs: i64) -> Value {
    json!({
        "Id": format!("sha256:{}", id_of(seed)),
        "RepoTags": tags,
        "RepoDigests": [],
        "Created": now().timestamp() - age_secs,
        "Size": size,
        "Labels": {}
    })
}

/// Feeds an image list to the app.
pub fn set_images(app: &mut App, rows: Vec<Value>) {
    let list = serde_json::from_value(Value::Array(rows)).unwrap();
    app.update(Msg::Images(list));
    app.take_effects();
}

/// The stream requests (method, path, body, auth reference) among the effects.
pub fn streams(effects: &[Effect]) -> Vec<super::msg::StreamRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                super::msg::FeedRequest::Open(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The API calls (with bodies and purposes) among the effects.
pub fn api_calls(effects: &[Effect]) -> Vec<super::msg::ApiCall> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                super::msg::FeedRequest::Call(c) => Some(c.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
