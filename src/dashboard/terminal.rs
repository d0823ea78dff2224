//! The real terminal: raw mode, alternate screen, bracketed paste and (optionally) mouse
//! capture; suspending all of it while an exec or attach owns the terminal; OSC 52 clipboard
//! writes. Every way out (return, error, panic) restores the user's terminal.

use std::io::{stdout, Write};

use anyhow::Result;
use base64::Engine as _;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::DefaultTerminal;

pub struct Term {
    pub terminal: DefaultTerminal,
    mouse: bool,
}

fn restore_modes() {
    let _ = execute!(stdout(), DisableMouseCapture, DisableBracketedPaste);
}

impl Term {
    pub fn enter(mouse: bool) -> Result<Term> {
        // ratatui's init installs a panic hook that leaves raw mode and the alternate screen;
        // ours runs first and turns mouse capture and paste mode off as well.
        let terminal = ratatui::try_init()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_modes();
            previous(info);
        }));
        execute!(stdout(), EnableBracketedPaste)?;
        if mouse {
            execute!(stdout(), EnableMouseCapture)?;
        }
        Ok(Term { terminal, mouse })
    }

    pub fn set_mouse(&mut self, on: bool) -> Result<()> {
        if on {
            execute!(stdout(), EnableMouseCapture)?;
        } else {
            execute!(stdout(), DisableMouseCapture)?;
        }
        self.mouse = on;
        Ok(())
    }

    /// Gives the terminal back as the shell found it (for an exec or attach).
    pub fn suspend(&mut self) -> Result<()> {
        restore_modes();
        execute!(stdout(), LeaveAlternateScreen)?;
        disable_raw_mode()?;
        self.terminal.show_cursor()?;
        Ok(())
    }

    pub fn resume(&mut self) -> Result<()> {
        enable_raw_mode()?;
        execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        if self.mouse {
            execute!(stdout(), EnableMouseCapture)?;
        }
        // Whatever the exec drew must go, and ratatui must repaint every cell. Not with
        // `Terminal::clear`: it asks the terminal for the cursor position, and the answer can be
        // read by the exec's input reader on its way out. Instead: clear the real screen, then
        // draw one blank frame so ratatui's idea of the screen is blank too.
        execute!(stdout(), Clear(ClearType::All))?;
        self.terminal
            .draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))?;
        Ok(())
    }

    /// Copies through the terminal (OSC 52), which works over ssh and inside tmux
    /// (with `set-clipboard on`).
    pub fn copy(&mut self, text: &str) -> Result<()> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(text);
        let mut out = stdout();
        write!(out, "\x1b]52;c;{b64}\x07")?;
        out.flush()?;
        Ok(())
    }

    pub fn leave(&mut self) {
        restore_modes();
        ratatui::restore();
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        self.leave();
    }
}
