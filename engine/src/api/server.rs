//! The listener: tokio UnixListener + hyper http1 with upgrades (hijacked attach/exec), one task per
//! connection. hyperlocal's server helper can do neither keep-alive nor upgrades, hence this.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::UnixListener;

use crate::error::{EngineError, IoContext, Result};
use crate::service::Engine;

/// Bind the API socket with mode 0660. A stale socket file is replaced; a live one (another engine
/// answering) is an error.
pub fn bind(socket: &Path) -> Result<UnixListener> {
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).io_context(|| format!("creating {}", dir.display()))?;
    }
    if socket.exists() {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return Err(EngineError::conflict(format!(
                "another engine is already serving {}",
                socket.display()
            )));
        }
        std::fs::remove_file(socket)
            .io_context(|| format!("removing stale socket {}", socket.display()))?;
    }
    let listener =
        UnixListener::bind(socket).io_context(|| format!("binding {}", socket.display()))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))
        .io_context(|| format!("chmod {}", socket.display()))?;
    Ok(listener)
}

/// Accept connections until `shutdown` resolves. `served` is notified once the first
/// connection has been handled (background start-up work waits for it).
pub async fn serve(
    listener: UnixListener,
    engine: Arc<Engine>,
    served: Arc<tokio::sync::Notify>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let engine = engine.clone();
                    let served = served.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let engine = engine.clone();
                            async move {
                                Ok::<_, std::convert::Infallible>(
                                    super::router::dispatch(engine, req).await,
                                )
                            }
                        });
                        // Build secrets travel in a header (X-Berth-Build-Secrets, base64 of
                        // base64): room for a few MiB of them, beyond hyper's ~400 KB default.
                        // Request targets pass a lenient pre-pass first (`request_line`): Go
                        // accepts a raw `"` in a query, the `http` crate does not.
                        // Header names go out in Go's canonical case (`Api-Version`, `Ostype`,
                        // `Content-Type`), as dockerd sends them: some clients match them
                        // case-sensitively.
                        if let Err(err) = http1::Builder::new()
                            .max_buf_size(8 << 20)
                            .title_case_headers(true)
                            .serve_connection(
                                TokioIo::new(super::request_line::LenientRequestLine::new(stream)),
                                service,
                            )
                            .with_upgrades()
                            .await
                        {
                            tracing::debug!(error = %err, "connection ended with an error");
                        }
                        served.notify_one();
                    });
                }
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}
