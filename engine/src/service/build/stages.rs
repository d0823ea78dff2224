//! Running the planned stages: one task each, their messages forwarded in stage order, the
//! first failure stopping the rest; then the closing lines and the tags.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::output::Out;
use super::{stage, Build, BuildFailure, PROXY_ARGS};

/// Start every planned stage; forward their messages in stage order (the first unfinished
/// stage live, later ones buffered until their turn). Returns the target stage's image.
pub(super) async fn run_stages(
    build: &Arc<Build>,
    out: &Out,
) -> std::result::Result<String, BuildFailure> {
    let mut receivers = Vec::new();
    let mut handles = Vec::new();
    for &i in &build.plan.stages {
        let (tx, rx) = mpsc::unbounded_channel();
        receivers.push(rx);
        let stage_out = out.with_channel(tx);
        let b = build.clone();
        handles.push(tokio::spawn(async move {
            let res = stage::run(&b, i, &stage_out).await;
            let published = match &res {
                Ok(id) => Ok(id.clone()),
                Err(e) => Err(e.message.clone()),
            };
            let _ = b.stage_images[&i].send_replace(Some(published));
            if let Err(e) = &res {
                // A failed stage stops the others (docker stops at the first error).
                if !b.is_cancelled() {
                    tracing::debug!(stage = i, error = %e.message, "build stage failed");
                }
            }
            res
        }));
    }
    // Forward in order; stop forwarding at the first stage that failed, as docker's output ends
    // at its error.
    let mut failure: Option<BuildFailure> = None;
    let mut last_id = None;
    for (rx, handle) in receivers.iter_mut().zip(handles) {
        while let Some(msg) = rx.recv().await {
            if !forward(out, msg) {
                build
                    .client_left
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                let _ = build.cancelled.send_replace(true);
            }
        }
        match handle.await {
            Ok(Ok(id)) => last_id = Some(id),
            Ok(Err(e)) => {
                failure = Some(e);
                let _ = build.cancelled.send_replace(true);
                break;
            }
            Err(e) => {
                failure = Some(BuildFailure {
                    message: format!("build stage task failed: {e}"),
                    code: None,
                    http_status: 500,
                });
                let _ = build.cancelled.send_replace(true);
                break;
            }
        }
    }
    if let Some(f) = failure {
        return Err(f);
    }
    last_id.ok_or_else(|| BuildFailure {
        message: "the build has no stages".into(),
        code: None,
        http_status: 500,
    })
}

/// Send one message on to the client's channel; false when the client has gone.
fn forward(out: &Out, msg: Bytes) -> bool {
    out.raw(msg)
}

/// Tag the result and send docker's closing lines.
pub(super) async fn finish_success(
    build: &Arc<Build>,
    out: &Out,
    id: String,
) -> std::result::Result<String, BuildFailure> {
    out.aux_id(&id);
    let unused: Vec<String> = {
        let consumed = build
            .consumed_args
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        build
            .opts
            .build_args
            .keys()
            .filter(|k| !consumed.contains(*k) && !PROXY_ARGS.contains(&k.as_str()))
            .filter(|k| !build.meta_args.contains_key(*k))
            .cloned()
            .collect()
    };
    if !unused.is_empty() {
        out.stream(&format!(
            "[Warning] One or more build-args [{}] were not consumed\n",
            unused.join(" ")
        ));
    }
    let short = crate::service::image::short_id(&id);
    if build.opts.quiet {
        out.always(&format!("{id}\n"));
    } else {
        out.stream(&format!("Successfully built {short}\n"));
    }
    for t in &build.opts.tags {
        let t = t.clone().with_default_tag();
        build
            .engine
            .images
            .tag(&id, &t.name(), t.tag.as_deref())
            .await?;
        out.stream(&format!("Successfully tagged {}\n", t.familiar()));
    }
    Ok(id)
}
