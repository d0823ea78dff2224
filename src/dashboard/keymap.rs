//! The keymap: every dashboard action, the context it belongs to, its description and default
//! keys, in one table. The footer, the `?` help, the `:` palette and the default config file are
//! all generated from this table, so none of them can drift from what the keys really do.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where an action applies. `Global` and `List` keys work in every view (a view's own binding for
/// the same key wins); the others only in their view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    List,
    Containers,
    Images,
    Volumes,
    Networks,
    Events,
    Logs,
    Builds,
    Stacks,
}

impl Context {
    pub const ALL: [Context; 10] = [
        Context::Global,
        Context::List,
        Context::Containers,
        Context::Images,
        Context::Volumes,
        Context::Networks,
        Context::Events,
        Context::Logs,
        Context::Builds,
        Context::Stacks,
    ];

    /// The config file's table name (`[keys.<name>]`).
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Containers => "containers",
            Context::Images => "images",
            Context::Volumes => "volumes",
            Context::Networks => "networks",
            Context::Events => "events",
            Context::Logs => "logs",
            Context::Builds => "builds",
            Context::Stacks => "stacks",
        }
    }

    pub fn from_name(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }
}

macro_rules! actions {
    ($( $variant:ident, $ctx:ident, $name:literal, $desc:literal, [$($key:literal),*]; )*) => {
        /// Everything a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $($variant),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            pub fn context(self) -> Context {
                match self { $(Action::$variant => Context::$ctx),* }
            }
            /// The config file's name for it.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }
            /// What the help screen and the palette say it does.
            pub fn description(self) -> &'static str {
                match self { $(Action::$variant => $desc),* }
            }
            pub fn default_keys(self) -> &'static [&'static str] {
                match self { $(Action::$variant => &[$($key),*]),* }
            }
        }
    };
}

actions! {
    Quit, Global, "quit", "quit berth", ["q"];
    Help, Global, "help", "show every key", ["?"];
    Palette, Global, "palette", "command palette", [":"];
    Filter, Global, "filter", "filter / search", ["/"];
    Back, Global, "back", "back / close / clear", ["esc"];
    NextView, Global, "next_view", "next view", ["tab"];
    PrevView, Global, "prev_view", "previous view", ["shift-tab"];
    ViewContainers, Global, "view_containers", "containers view", ["1"];
    ViewImages, Global, "view_images", "images view", ["2"];
    ViewVolumes, Global, "view_volumes", "volumes view", ["3"];
    ViewNetworks, Global, "view_networks", "networks view", ["4"];
    ViewEvents, Global, "view_events", "events view", ["5"];
    ViewBuilds, Global, "view_builds", "builds view", ["6"];
    ViewStacks, Global, "view_stacks", "stacks view (compose projects)", ["7"];
    ToggleMouse, Global, "toggle_mouse", "mouse capture on/off (off: select text)", ["m"];
    Tasks, Global, "tasks", "background tasks (pulls, pushes, builds)", ["ctrl-t"];

    Up, List, "up", "up", ["k", "up"];
    Down, List, "down", "down", ["j", "down"];
    Top, List, "top", "first row", ["g", "home"];
    Bottom, List, "bottom", "last row", ["G", "end"];
    PageUp, List, "page_up", "page up", ["pageup", "ctrl-b"];
    PageDown, List, "page_down", "page down", ["pagedown", "ctrl-f"];
    Mark, List, "mark", "mark / unmark row", ["space"];
    MarkAll, List, "mark_all", "mark all / none", ["ctrl-a"];
    Open, List, "open", "open / details", ["enter"];
    Sort, List, "sort", "sort by next column", ["o"];
    SortReverse, List, "sort_reverse", "reverse sort order", ["O"];
    NextTab, List, "next_tab", "next detail tab", ["]", "right"];
    PrevTab, List, "prev_tab", "previous detail tab", ["[", "left"];
    Inspect, List, "inspect", "inspect (JSON)", ["i"];

    ToggleAll, Containers, "toggle_all", "show all / running only", ["a"];
    Fold, Containers, "fold", "fold / unfold compose group", ["z"];
    StartStop, Containers, "start_stop", "start / stop", ["s"];
    Restart, Containers, "restart", "restart", ["r"];
    PauseToggle, Containers, "pause", "pause / unpause", ["p"];
    Kill, Containers, "kill", "kill", ["K"];
    Remove, Containers, "remove", "remove", ["d"];
    ForceRemove, Containers, "force_remove", "remove (force, running too)", ["D"];
    Rename, Containers, "rename", "rename", ["R"];
    Exec, Containers, "exec", "shell in the container", ["e"];
    Attach, Containers, "attach", "attach to the main process", ["A"];
    OpenPort, Containers, "open_port", "open a published port in the browser", ["w"];
    CopyId, Containers, "copy_id", "copy id to the clipboard", ["y"];
    CopyName, Containers, "copy_name", "copy name to the clipboard", ["Y"];
    Logs, Containers, "logs", "logs (marked rows or group: merged)", ["L"];
    PruneContainers, Containers, "prune", "remove all stopped containers", ["X"];
    DetailScrollDown, Containers, "detail_down", "scroll the detail pane down", ["ctrl-d", "shift-down"];
    DetailScrollUp, Containers, "detail_up", "scroll the detail pane up", ["ctrl-u", "shift-up"];
    DetailNextMatch, Containers, "next_match", "detail pane: next search match", ["n"];
    DetailPrevMatch, Containers, "prev_match", "detail pane: previous search match", ["N"];

    Pull, Images, "pull", "pull an image", ["p"];
    Import, Images, "import", "import from a file (image archive or rootfs tar)", ["I"];
    RunImage, Images, "run", "run a container from the image", ["r"];
    Tag, Images, "tag", "tag", ["t"];
    Push, Images, "push", "push", ["P"];
    RemoveImage, Images, "remove", "remove", ["d"];
    ForceRemoveImage, Images, "force_remove", "remove (force)", ["D"];
    PruneImages, Images, "prune", "remove dangling (or all unused) images", ["X"];
    Dangling, Images, "dangling", "show dangling only / all", ["u"];
    History, Images, "history", "history (layers)", ["H"];
    BuildImage, Images, "build", "build an image from a Dockerfile", ["b"];

    CreateVolume, Volumes, "create", "create a volume", ["c"];
    RemoveVolume, Volumes, "remove", "remove", ["d"];
    PruneVolumes, Volumes, "prune", "remove unused volumes", ["X"];

    CreateNetwork, Networks, "create", "create a network", ["c"];
    RemoveNetwork, Networks, "remove", "remove", ["d"];
    Connect, Networks, "connect", "connect a container", ["C"];
    Disconnect, Networks, "disconnect", "disconnect a container", ["x"];
    PruneNetworks, Networks, "prune", "remove unused networks", ["X"];

    ClearEvents, Events, "clear", "clear the list", ["c"];
    EventType, Events, "type", "show all / container / image / volume / network events", ["t"];

    Follow, Logs, "follow", "follow on/off", ["f"];
    NextMatch, Logs, "next_match", "next match", ["n"];
    PrevMatch, Logs, "prev_match", "previous match", ["N"];
    OnlyMatching, Logs, "only_matching", "show only matching lines", ["F"];
    Regex, Logs, "regex", "search as regex / plain text", ["ctrl-r"];
    Timestamps, Logs, "timestamps", "timestamps on/off", ["t"];
    Wrap, Logs, "wrap", "wrap long lines", ["w"];
    Since, Logs, "since", "since: all, 1m, 10m, 1h, 1d", ["S"];
    SaveLogs, Logs, "save", "save to a file", ["ctrl-s"];

    Rebuild, Builds, "rebuild", "build again from the same directory and options", ["r"];
    RemoveBuild, Builds, "remove", "remove the build record (the image stays)", ["d"];
    NewBuild, Builds, "build", "build an image from a Dockerfile", ["b"];
    BuildLogDown, Builds, "log_down", "scroll the step's log down", ["ctrl-d", "shift-down"];
    BuildLogUp, Builds, "log_up", "scroll the step's log up", ["ctrl-u", "shift-up"];

    StackUp, Stacks, "up", "up -d (create and start the project)", ["u"];
    StackDown, Stacks, "down", "down (remove containers and networks; volumes optional)", ["D"];
    StackRestart, Stacks, "restart", "restart the project", ["r"];
    StackStartStop, Stacks, "start_stop", "stop / start the project", ["s"];
    StackPull, Stacks, "pull", "pull the services' images", ["p"];
    StackBuild, Stacks, "build", "build and recreate the selected service", ["b"];
    StackRecreate, Stacks, "recreate", "force-recreate the selected service", ["R"];
    ScaleUp, Stacks, "scale_up", "one more replica of the selected service", ["+"];
    ScaleDown, Stacks, "scale_down", "one replica fewer of the selected service", ["-"];
    Profiles, Stacks, "profiles", "choose the profiles up uses", ["P"];
    StackLogs, Stacks, "logs", "merged logs of the project", ["L"];
    StackConfig, Stacks, "config", "effective config (compose config)", ["c"];
    OpenCompose, Stacks, "open", "open a compose file", ["o"];
}

/// One key with its modifiers, as written in the config file: `q`, `G`, `ctrl-a`, `shift-tab`,
/// `enter`, `f5`, `space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    /// Normalises a terminal key event: shift is part of an upper-case character, not a modifier
    /// (terminals disagree on reporting it), and shift-tab arrives as BackTab.
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::BackTab => {
                mods |= KeyModifiers::SHIFT;
                KeyCode::Tab
            }
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        if ev.code == KeyCode::Tab && ev.modifiers.contains(KeyModifiers::SHIFT) {
            mods |= KeyModifiers::SHIFT;
        }
        if !matches!(code, KeyCode::Char(_)) && ev.modifiers.contains(KeyModifiers::SHIFT) {
            mods |= KeyModifiers::SHIFT;
        }
        Key { code, mods }
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        if s.is_empty() {
            return Err("an empty key name".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        // A lone "-" is the minus key; "ctrl--" is ctrl and minus.
        while let Some((head, tail)) = rest.split_once('-') {
            if head.is_empty() || tail.is_empty() {
                break;
            }
            match head.to_ascii_lowercase().as_str() {
                "ctrl" | "c" => mods |= KeyModifiers::CONTROL,
                "alt" | "a" | "m" | "meta" => mods |= KeyModifiers::ALT,
                "shift" | "s" => mods |= KeyModifiers::SHIFT,
                other => return Err(format!("unknown modifier \"{other}\" in \"{s}\"")),
            }
            rest = tail;
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            lower => {
                if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    if (1..=24).contains(&n) {
                        KeyCode::F(n)
                    } else {
                        return Err(format!("no such function key \"{rest}\""));
                    }
                } else {
                    let mut chars = rest.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => {
                            if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                                mods.remove(KeyModifiers::SHIFT);
                                KeyCode::Char(c.to_ascii_uppercase())
                            } else if mods.contains(KeyModifiers::CONTROL) {
                                KeyCode::Char(c.to_ascii_lowercase())
                            } else {
                                KeyCode::Char(c)
                            }
                        }
                        _ => return Err(format!("unknown key name \"{rest}\"")),
                    }
                }
            }
        };
        if matches!(code, KeyCode::Char(_)) && mods.contains(KeyModifiers::SHIFT) {
            return Err(format!(
                "\"{s}\": write shifted characters as themselves (\"G\", \"?\")"
            ));
        }
        Ok(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The bindings in effect: defaults overridden by the config file.
#[derive(Debug, Clone)]
pub struct Keymap {
    keys: HashMap<Action, Vec<Key>>,
    lookup: HashMap<(Context, Key), Action>,
}

impl Default for Keymap {
    fn default() -> Self {
        let keys = Action::ALL
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
        Keymap::from_bindings(keys).expect("the default keymap has no conflicts")
    }
}

impl Keymap {
    /// Builds the lookup table, refusing a key bound twice where both bindings could apply.
    pub fn from_bindings(keys: HashMap<Action, Vec<Key>>) -> Result<Keymap, (Action, String)> {
        let mut lookup = HashMap::new();
        for &action in Action::ALL {
            for key in keys.get(&action).into_iter().flatten() {
                if let Some(other) = lookup.insert((action.context(), *key), action) {
                    if other != action {
                        return Err((
                            action,
                            format!(
                                "key \"{key}\" is bound to both {}.{} and {}.{}",
                                other.context().name(),
                                other.name(),
                                action.context().name(),
                                action.name()
                            ),
                        ));
                    }
                }
            }
        }
        // A view's key may shadow a list key on purpose, but never a global one: then the
        // global action (quit, help, view switching) would be unreachable in that view.
        for (&(ctx, key), &action) in &lookup {
            if ctx == Context::Global {
                continue;
            }
            if let Some(&global) = lookup.get(&(Context::Global, key)) {
                return Err((
                    action,
                    format!(
                        "key \"{key}\" is bound to both global.{} and {}.{}",
                        global.name(),
                        ctx.name(),
                        action.name()
                    ),
                ));
            }
        }
        Ok(Keymap { keys, lookup })
    }

    /// The action a key triggers in a view: the view's own binding first, then list navigation,
    /// then global keys.
    pub fn resolve(&self, view: Context, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        [view, Context::List, Context::Global]
            .into_iter()
            .find_map(|ctx| self.lookup.get(&(ctx, key)).copied())
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.keys.get(&action).map_or(&[], Vec::as_slice)
    }

    /// The first key of an action as shown in the footer (`-` when unbound).
    pub fn label(&self, action: Action) -> String {
        self.keys(action)
            .first()
            .map_or_else(|| "-".to_string(), Key::to_string)
    }

    /// Every key of an action, for the help screen.
    pub fn labels(&self, action: Action) -> String {
        let keys = self.keys(action);
        if keys.is_empty() {
            return "(unbound)".into();
        }
        keys.iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
