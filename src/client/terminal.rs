//! The local terminal of an attached session (`run`, `start -a`, `attach`, `exec`): raw mode
//! while it lasts, and the remote TTY kept at the local window's size.

use std::io::IsTerminal;

use super::api::Endpoint;
use super::stdin::AbortOnDrop;
use super::Client;

/// Puts the local terminal in raw mode for a TTY session and restores it when dropped.
pub(crate) struct RawMode(bool);

impl RawMode {
    pub(crate) fn enable(want: bool) -> RawMode {
        RawMode(
            want && std::io::stdin().is_terminal()
                && crossterm::terminal::enable_raw_mode().is_ok(),
        )
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// The resize endpoint of what the session's TTY belongs to (`containers::resize` or
/// `exec::resize`).
pub(crate) type ResizeEndpoint = fn(&str, u16, u16) -> Endpoint;

/// Sends the local window's size to the remote TTY.
pub(crate) async fn resize(client: &Client, id: &str, endpoint: ResizeEndpoint) {
    if let Ok((w, h)) = crossterm::terminal::size() {
        // A resize racing with the container's (or process's) exit fails harmlessly.
        let _ = client.send(endpoint(id, h, w)).await;
    }
}

/// Sizes the remote TTY now, then follows window size changes for as long as the returned
/// guard lives (the session), and no longer.
pub(crate) async fn follow_window_size(
    client: &Client,
    id: &str,
    endpoint: ResizeEndpoint,
) -> AbortOnDrop {
    resize(client, id, endpoint).await;
    let c = client.clone();
    let rid = id.to_string();
    AbortOnDrop(tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut winch) = signal(SignalKind::window_change()) {
            while winch.recv().await.is_some() {
                resize(&c, &rid, endpoint).await;
            }
        }
    }))
}
