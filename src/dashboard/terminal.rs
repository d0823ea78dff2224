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
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
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
        // Whatever the exec drew is gone: repaint everything. Not `Terminal::clear`: it asks
        // the terminal for the cursor position, and the attach/exec stdin pump may still be
        // blocked in a read of stdin that swallows the answer (the dashboard then died with
        // "the cursor position could not be read"). Clearing the screen ourselves and blanking
        // both buffers makes the next draw paint every cell.
        execute!(
            stdout(),
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )?;
        self.terminal.current_buffer_mut().reset();
        self.terminal.swap_buffers();
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
