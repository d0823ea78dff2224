//! `berth compose down`: the project's containers and networks removed (volumes with `-v`,
//! images with `--rmi`), from the compose file or from the project name alone.

use anyhow::Result;

use super::args::DownArgs;
use super::Session;
use crate::commands::Ctx;
use crate::compose::converge::down::{down, DownOptions};

pub async fn run(ctx: &Ctx, session: &Session, a: DownArgs) -> Result<i32> {
    let (project, name) = session.project_or_name(&a.services)?;
    let compose = session.compose(ctx).await?;
    down(
        &compose,
        &name,
        project.as_ref(),
        &DownOptions {
            services: a.services,
            remove_orphans: a.remove_orphans,
            volumes: a.volumes,
            images: a.rmi,
            timeout: a.timeout,
        },
    )
    .await?;
    Ok(0)
}
