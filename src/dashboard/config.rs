//! The dashboard's config file (`config.toml` in the user's config dir, or `$BERTH_CONFIG`):
//! theme, colour overrides, mouse capture and key bindings. Missing: written with the defaults
//! (generated from the keymap table, so it lists every action). Bad: an error naming the file,
//! the line and what is wrong, before the screen is touched.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::keymap::{Action, Context, Key, Keymap};
use super::theme::Theme;

#[derive(Debug, Clone)]
pub struct Config {
    pub keymap: Keymap,
    pub theme: Theme,
    /// Capture the mouse at start (`m` toggles it at any time).
    pub mouse: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            keymap: Keymap::default(),
            theme: Theme::default(),
            mouse: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{} line {l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<Spanned<String>>,
    mouse: Option<bool>,
    #[serde(default)]
    colors: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<KeyList>>>,
}

/// Where the config lives: `$BERTH_CONFIG`, else `<config dir>/berth/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BERTH_CONFIG") {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "berth").map(|d| d.config_dir().join("config.toml"))
}

/// Reads the config, writing the defaults first when there is none.
pub fn load_or_init(path: &Path) -> Result<Config, ConfigError> {
    let err = |message: String| ConfigError {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| err(format!("creating {}: {e}", dir.display())))?;
            }
            // Written next to the target and renamed, so a crash never leaves half a file.
            let tmp = path.with_extension("toml.tmp");
            std::fs::write(&tmp, default_text())
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| err(format!("writing the default config: {e}")))?;
            Ok(Config::default())
        }
        Err(e) => Err(err(format!("reading: {e}"))),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let at = |span: std::ops::Range<usize>, message: String| ConfigError {
        path: path.to_path_buf(),
        line: Some(line_of(text, span.start)),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;

    let mut theme = match &raw.theme {
        Some(name) => {
            Theme::builtin(name.get_ref()).map_err(|m| at(name.span(), format!("theme: {m}")))?
        }
        None => Theme::default(),
    };
    for (role, value) in &raw.colors {
        theme
            .set(role.get_ref(), value.get_ref())
            .map_err(|m| at(value.span(), format!("colors.{}: {m}", role.get_ref())))?;
    }

    let mut bindings: HashMap<Action, Vec<Key>> = Action::ALL
        .iter()
        .map(|&a| {
            let keys = a
                .default_keys()
                .iter()
                .map(|k| Key::parse(k).expect("default keys parse"))
                .collect();
            (a, keys)
        })
        .collect();
    // Where each overridden action was written, to point at it if it conflicts.
    let mut lines: HashMap<Action, std::ops::Range<usize>> = HashMap::new();
    for (ctx_name, table) in &raw.keys {
        let ctx = Context::from_name(ctx_name.get_ref()).ok_or_else(|| {
            let known: Vec<&str> = Context::ALL.iter().map(|c| c.name()).collect();
            at(
                ctx_name.span(),
                format!(
                    "[keys.{}]: no such key table (known: {})",
                    ctx_name.get_ref(),
                    known.join(", ")
                ),
            )
        })?;
        for (name, keys) in table {
            let action = Action::ALL
                .iter()
                .copied()
                .find(|a| a.context() == ctx && a.name() == name.get_ref())
                .ok_or_else(|| {
                    let known: Vec<&str> = Action::ALL
                        .iter()
                        .filter(|a| a.context() == ctx)
                        .map(|a| a.name())
                        .collect();
                    at(
                        name.span(),
                        format!(
                            "keys.{}.{}: no such action (known: {})",
                            ctx.name(),
                            name.get_ref(),
                            known.join(", ")
                        ),
                    )
                })?;
            let names = match keys.get_ref() {
                KeyList::One(k) => vec![k.clone()],
                KeyList::Many(ks) => ks.clone(),
            };
            let parsed = names
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| {
                    at(
                        keys.span(),
                        format!("keys.{}.{}: {m}", ctx.name(), action.name()),
                    )
                })?;
            bindings.insert(action, parsed);
            lines.insert(action, keys.span());
        }
    }
    let keymap = Keymap::from_bindings(bindings).map_err(|(action, message)| ConfigError {
        path: path.to_path_buf(),
        line: lines.get(&action).map(|s| line_of(text, s.start)),
        message,
    })?;
    Ok(Config {
        keymap,
        theme,
        mouse: raw.mouse.unwrap_or(true),
    })
}

/// The default config file, generated from the keymap table.
pub fn default_text() -> String {
    let mut out = String::from(
        "# berth dashboard configuration, written with the defaults on first run.\n\
         # Delete this file to get the defaults back.\n\n\
         # Built-in themes: dark, light, mono.\n\
         theme = \"dark\"\n\
         # Capture the mouse at start (the `toggle_mouse` key switches it at any time, so the\n\
         # terminal can select text).\n\
         mouse = true\n\n\
         # Override single colours of the theme: a name, \"#rrggbb\" or an index 0-255.\n\
         [colors]\n",
    );
    for role in Theme::ROLES {
        out.push_str(&format!("# {role} = \"...\"\n"));
    }
    out.push_str(
        "\n# Keys: a key or a list of keys. Examples: \"q\", \"G\", \"ctrl-a\", \"shift-tab\", \"enter\",\n\
         # \"esc\", \"space\", \"f5\", \"pageup\", [\"k\", \"up\"]. A view's keys may reuse list keys but\n\
         # never global ones.\n",
    );
    for ctx in Context::ALL {
        out.push_str(&format!("\n[keys.{}]\n", ctx.name()));
        for a in Action::ALL.iter().filter(|a| a.context() == ctx) {
            let keys = a.default_keys();
            let value = if keys.len() == 1 {
                format!("{:?}", keys[0])
            } else {
                format!(
                    "[{}]",
                    keys.iter()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let line = format!("{} = {value}", a.name());
            out.push_str(&format!("{line:<32}# {}\n", a.description()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn p(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("/cfg/config.toml"), text)
    }

    #[test]
    fn the_default_text_parses_to_the_default_config() {
        let c = p(&default_text()).unwrap();
        assert_eq!(c.theme, Theme::default());
        assert!(c.mouse);
        for &a in Action::ALL {
            assert_eq!(c.keymap.keys(a), Keymap::default().keys(a), "{a:?}");
        }
    }

    #[test]
    fn overrides_keys_theme_and_colours() {
        let c = p(r##"
theme = "light"
mouse = false
[colors]
accent = "#112233"
[keys.containers]
restart = ["ctrl-r", "f5"]
[keys.global]
quit = "Q"
"##)
        .unwrap();
        assert!(!c.mouse);
        assert_eq!(c.theme.accent, ratatui::style::Color::Rgb(0x11, 0x22, 0x33));
        let f5 = KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE);
        assert_eq!(
            c.keymap.resolve(Context::Containers, &f5),
            Some(Action::Restart)
        );
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(c.keymap.resolve(Context::Containers, &q), None);
        assert_eq!(c.keymap.label(Action::Quit), "Q");
    }

    #[test]
    fn bad_configs_name_the_line_and_the_problem() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "theme = \"dark\"\n[keys.containers]\nrestart = \"ctrl-\"\n",
                3,
                "keys.containers.restart",
            ),
            (
                "\n\n[keys.containers]\nreboot = \"r\"\n",
                4,
                "no such action",
            ),
            ("[keys.windows]\nquit = \"q\"\n", 1, "no such key table"),
            ("theme = \"neon\"\n", 1, "unknown theme"),
            ("[colors]\naccent = \"#12\"\n", 2, "#rrggbb"),
            ("[colors]\nsparkle = \"red\"\n", 2, "unknown theme colour"),
            ("\n[keys.containers]\nrestart = \"s\"\n", 3, "bound to both"),
            ("\n\n[keys.images]\npull = \"q\"\n", 4, "global.quit"),
            ("theme = \n", 1, ""),
            ("colour = \"red\"\n", 1, "unknown field"),
            ("[keys.list]\nup = 5\n", 2, ""),
        ];
        for (text, line, what) in cases {
            let e = p(text).unwrap_err();
            assert_eq!(e.line, Some(*line), "{text:?}: {e}");
            assert!(e.message.contains(what), "{text:?}: {e}");
            assert!(e
                .to_string()
                .starts_with(&format!("/cfg/config.toml line {line}: ")));
        }
    }

    #[test]
    fn first_run_writes_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let c = load_or_init(&path).unwrap();
        assert!(c.mouse);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[keys.containers]"));
        assert!(text.contains("start_stop = \"s\""));
        // The second run reads what the first wrote.
        std::fs::write(&path, text.replace("mouse = true", "mouse = false")).unwrap();
        assert!(!load_or_init(&path).unwrap().mouse);
    }
}
