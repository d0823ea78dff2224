//! Themes: named colour roles. The built-in themes live in `assets/themes/*.toml` (embedded), and
//! the config file may pick one and override single roles.

use ratatui::style::{Color, Modifier, Style};

macro_rules! theme_roles {
    ($($role:ident),* $(,)?) => {
        /// Colour roles, named by what they colour rather than by colour.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            $(pub $role: Color,)*
            /// Selection and highlights use reverse video instead of colours.
            pub mono: bool,
        }

        impl Theme {
            pub const ROLES: &'static [&'static str] = &[$(stringify!($role)),*];

            /// Sets one role; `Err` names what is wrong with the value.
            pub fn set(&mut self, role: &str, value: &str) -> Result<(), String> {
                let color = parse_color(value)?;
                match role {
                    $(stringify!($role) => self.$role = color,)*
                    _ => return Err(format!(
                        "unknown theme colour \"{role}\" (known: {})",
                        Self::ROLES.join(", ")
                    )),
                }
                Ok(())
            }
        }
    };
}

theme_roles!(
    text,
    muted,
    accent,
    border,
    title,
    header_bg,
    selected_bg,
    marked,
    running,
    paused,
    stopped,
    created,
    healthy,
    unhealthy,
    error,
    warning,
    ok,
    cpu,
    memory,
    network,
    io,
    highlight_fg,
    highlight_bg,
);

pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../assets/themes/dark.toml")),
    ("light", include_str!("../../assets/themes/light.toml")),
    ("mono", include_str!("../../assets/themes/mono.toml")),
];

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark").expect("the dark theme is built in")
    }
}

impl Theme {
    pub fn builtin(name: &str) -> Result<Theme, String> {
        let text = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                format!("unknown theme \"{name}\" (built in: {})", names.join(", "))
            })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| format!("built-in theme {name}: {e}"))?;
        let mut theme = Theme::blank();
        theme.mono = name == "mono";
        for (role, value) in &table {
            let v = value
                .as_str()
                .ok_or_else(|| format!("built-in theme {name}: {role} is not a string"))?;
            theme.set(role, v)?;
        }
        Ok(theme)
    }

    fn blank() -> Theme {
        let mut t = Theme {
            text: Color::Reset,
            muted: Color::Reset,
            accent: Color::Reset,
            border: Color::Reset,
            title: Color::Reset,
            header_bg: Color::Reset,
            selected_bg: Color::Reset,
            marked: Color::Reset,
            running: Color::Reset,
            paused: Color::Reset,
            stopped: Color::Reset,
            created: Color::Reset,
            healthy: Color::Reset,
            unhealthy: Color::Reset,
            error: Color::Reset,
            warning: Color::Reset,
            ok: Color::Reset,
            cpu: Color::Reset,
            memory: Color::Reset,
            network: Color::Reset,
            io: Color::Reset,
            highlight_fg: Color::Reset,
            highlight_bg: Color::Reset,
            mono: false,
        };
        t.mono = false;
        t
    }

    pub fn fg(&self, c: Color) -> Style {
        Style::default().fg(c)
    }

    pub fn muted(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.muted)
        }
    }

    pub fn selected(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .bg(self.selected_bg)
                .add_modifier(Modifier::BOLD)
        }
    }

    pub fn highlight(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        } else {
            Style::default().fg(self.highlight_fg).bg(self.highlight_bg)
        }
    }

    pub fn title(&self) -> Style {
        Style::default().fg(self.title).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        Style::default().fg(self.border)
    }

    pub fn error(&self) -> Style {
        Style::default().fg(self.error).add_modifier(Modifier::BOLD)
    }

    /// The colour of a container state word (`running`, `exited`, ...).
    pub fn state(&self, state: &str) -> Style {
        let c = match state {
            "running" => self.running,
            "paused" | "restarting" => self.paused,
            "created" => self.created,
            "exited" | "dead" | "removing" => self.stopped,
            _ => self.text,
        };
        Style::default().fg(c)
    }
}

/// A colour as written in a theme: a name, `#rrggbb` or an index 0-255.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let lower = s.trim().to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let v = u32::from_str_radix(hex, 16).expect("checked hex");
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("\"{s}\" is not a #rrggbb colour"));
    }
    if let Ok(i) = lower.parse::<u16>() {
        return u8::try_from(i)
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {i} is out of range 0-255"));
    }
    Ok(match lower.replace(['_', '-', ' '], "").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => return Err(format!("unknown colour \"{s}\"")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_set_every_role() {
        for (name, text) in BUILTIN {
            let table: toml::Table = text.parse().unwrap();
            for role in Theme::ROLES {
                assert!(table.contains_key(*role), "{name} lacks {role}");
            }
            Theme::builtin(name).unwrap();
        }
        assert!(Theme::builtin("neon")
            .unwrap_err()
            .contains("dark, light, mono"));
    }

    #[test]
    fn colours_parse_or_say_why() {
        assert_eq!(parse_color("#ff0080").unwrap(), Color::Rgb(255, 0, 128));
        assert_eq!(parse_color("Light-Blue").unwrap(), Color::LightBlue);
        assert_eq!(parse_color("202").unwrap(), Color::Indexed(202));
        assert!(parse_color("#ff00").unwrap_err().contains("#rrggbb"));
        assert!(parse_color("300").unwrap_err().contains("out of range"));
        assert!(parse_color("blurple")
            .unwrap_err()
            .contains("unknown colour"));
        let mut t = Theme::default();
        assert!(t
            .set("sparkle", "red")
            .unwrap_err()
            .contains("unknown theme colour"));
        t.set("accent", "red").unwrap();
        assert_eq!(t.accent, Color::Red);
    }
}
