//! The headless commands. Each talks to the engine through [`crate::client::Client`] and prints
//! what docker prints.

pub mod archive;
pub mod attach;
pub mod build;
pub mod check;
pub mod compose;
pub mod containers;
pub mod cp;
pub mod docs;
pub mod engine;
pub mod events;
pub mod exec;
pub mod history;
pub mod image_archive;
pub mod images;
pub mod inspect;
pub mod login;
pub mod networks;
pub mod prune;
pub mod ps;
pub mod pull;
pub mod push;
pub mod run;
pub mod stats;
pub mod system;
pub mod volumes;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use crate::cli::{Cmd, ContainerCmd, ImageCmd, NetworkCmd};
use crate::client::{autostart, Client};

pub struct Ctx {
    pub socket: PathBuf,
    pub autostart: bool,
}

impl Ctx {
    pub async fn client(&self) -> Result<Client> {
        // --host only accepts unix sockets, which are all local: autostart applies to any.
        autostart::connect(&self.socket, self.autostart).await
    }
}

pub async fn dispatch(ctx: Ctx, cmd: Cmd) -> Result<i32> {
    match cmd {
        Cmd::Engine(a) => match a.action {
            Some(action) => engine::dispatch(&ctx, action).await,
            None => unreachable!("`berth engine` runs the engine before the client runtime"),
        },
        Cmd::Completion(_) | Cmd::Man(_) => {
            unreachable!("commands that need no engine are dispatched before the client runtime")
        }
        Cmd::Compose(a) => compose::dispatch(&ctx, a).await,
        Cmd::Version => system::version(&ctx).await,
        Cmd::Info => system::info(&ctx).await,
        Cmd::Import(a) | Cmd::Image(ImageCmd::Import(a)) => images::import(&ctx, a).await,
        Cmd::Save(a) | Cmd::Image(ImageCmd::Save(a)) => image_archive::save(&ctx, a).await,
        Cmd::Load(a) | Cmd::Image(ImageCmd::Load(a)) => image_archive::load(&ctx, a).await,
        Cmd::Images(a) | Cmd::Image(ImageCmd::Ls(a)) => images::list(&ctx, a).await,
        Cmd::Rmi(a) | Cmd::Image(ImageCmd::Rm(a)) => images::remove(&ctx, a).await,
        Cmd::Tag(a) | Cmd::Image(ImageCmd::Tag(a)) => images::tag(&ctx, a).await,
        Cmd::Image(ImageCmd::Prune(a)) => images::prune(&ctx, a).await,
        Cmd::Push(a) | Cmd::Image(ImageCmd::Push(a)) => push::push(&ctx, a).await,
        Cmd::Login(a) => login::login(&ctx, a).await,
        Cmd::Logout(a) => login::logout(&ctx, a).await,
        Cmd::History(a) | Cmd::Image(ImageCmd::History(a)) => history::history(&ctx, a).await,
        Cmd::Pull(a) | Cmd::Image(ImageCmd::Pull(a)) => pull::pull(&ctx, a).await,
        Cmd::Build(a) => build::build(&ctx, a).await,
        Cmd::Image(ImageCmd::Build(a)) => build::build(&ctx, *a).await,
        Cmd::Image(ImageCmd::Inspect(a)) => {
            inspect::inspect(&ctx, a.format, Some("image".into()), a.names).await
        }
        Cmd::Run(a) | Cmd::Container(ContainerCmd::Run(a)) => run::run(&ctx, a).await,
        Cmd::Create(a) | Cmd::Container(ContainerCmd::Create(a)) => run::create(&ctx, a).await,
        Cmd::Start(a) | Cmd::Container(ContainerCmd::Start(a)) => run::start(&ctx, a).await,
        Cmd::Stop(a) | Cmd::Container(ContainerCmd::Stop(a)) => {
            containers::stop(&ctx, a, false).await
        }
        Cmd::Restart(a) | Cmd::Container(ContainerCmd::Restart(a)) => {
            containers::stop(&ctx, a, true).await
        }
        Cmd::Kill(a) | Cmd::Container(ContainerCmd::Kill(a)) => containers::kill(&ctx, a).await,
        Cmd::Pause(a) | Cmd::Container(ContainerCmd::Pause(a)) => {
            containers::pause(&ctx, a.containers, "pause").await
        }
        Cmd::Unpause(a) | Cmd::Container(ContainerCmd::Unpause(a)) => {
            containers::pause(&ctx, a.containers, "unpause").await
        }
        Cmd::Top(a) | Cmd::Container(ContainerCmd::Top(a)) => containers::top(&ctx, a).await,
        Cmd::Rm(a) | Cmd::Container(ContainerCmd::Rm(a)) => containers::remove(&ctx, a).await,
        Cmd::Ps(a) | Cmd::Container(ContainerCmd::Ls(a)) => ps::list(&ctx, a).await,
        Cmd::Logs(a) | Cmd::Container(ContainerCmd::Logs(a)) => containers::logs(&ctx, a).await,
        Cmd::Inspect(a) => inspect::inspect(&ctx, a.format, a.kind, a.names).await,
        Cmd::Container(ContainerCmd::Inspect(a)) => {
            inspect::inspect(&ctx, a.format, Some("container".into()), a.names).await
        }
        Cmd::Wait(a) | Cmd::Container(ContainerCmd::Wait(a)) => {
            containers::wait(&ctx, a.containers).await
        }
        Cmd::Rename(a) | Cmd::Container(ContainerCmd::Rename(a)) => {
            containers::rename(&ctx, a).await
        }
        Cmd::Stats(a) | Cmd::Container(ContainerCmd::Stats(a)) => stats::stats(&ctx, a).await,
        Cmd::Container(ContainerCmd::Prune(a)) => containers::prune(&ctx, a).await,
        Cmd::Events(a) => events::events(&ctx, a).await,
        Cmd::Network(NetworkCmd::Ls(a)) => networks::ls(&ctx, a).await,
        Cmd::Network(NetworkCmd::Create(a)) => networks::create(&ctx, a).await,
        Cmd::Network(NetworkCmd::Inspect(a)) => networks::inspect(&ctx, a).await,
        Cmd::Network(NetworkCmd::Rm(a)) => networks::rm(&ctx, a).await,
        Cmd::Network(NetworkCmd::Connect(a)) => networks::connect(&ctx, a).await,
        Cmd::Network(NetworkCmd::Disconnect(a)) => networks::disconnect(&ctx, a).await,
        Cmd::Network(NetworkCmd::Prune(a)) => networks::prune(&ctx, a).await,
        Cmd::Port(a) => networks::port(&ctx, a).await,
        Cmd::Exec(a) | Cmd::Container(ContainerCmd::Exec(a)) => exec::exec(&ctx, a).await,
        Cmd::Volume(v) => volumes::dispatch(&ctx, v).await,
        Cmd::System(crate::cli::SystemCmd::Df(a)) => system::system_df(&ctx, a).await,
        Cmd::System(crate::cli::SystemCmd::Check(a)) => check::check(&ctx, a).await,
        Cmd::Diff(a) | Cmd::Container(ContainerCmd::Diff(a)) => {
            archive::diff(&ctx, a.container).await
        }
        Cmd::Export(a) | Cmd::Container(ContainerCmd::Export(a)) => archive::export(&ctx, a).await,
        Cmd::Cp(a) | Cmd::Container(ContainerCmd::Cp(a)) => cp::cp(&ctx, a).await,
        Cmd::Update(a) | Cmd::Container(ContainerCmd::Update(a)) => archive::update(&ctx, a).await,
        Cmd::Attach(a) | Cmd::Container(ContainerCmd::Attach(a)) => attach::attach(&ctx, a).await,
    }
}

/// Write to stdout, treating a closed pipe (`berth ps | head`) as success.
pub fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

/// Run `f` for each name, printing errors as they happen (docker's multi-container commands);
/// the status is 1 if any failed.
pub async fn for_each<F, Fut>(names: &[String], f: F) -> Result<i32>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let failed = for_each_failed(names, f).await;
    Ok(if failed.is_empty() { 0 } else { 1 })
}

/// [`for_each`] returning the names that failed (`docker start` sums them up in a last line).
pub async fn for_each_failed<F, Fut>(names: &[String], mut f: F) -> Vec<String>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut failed = Vec::new();
    for name in names {
        if let Err(e) = f(name.clone()).await {
            failed.push(name.clone());
            match e.downcast_ref::<crate::client::DaemonError>() {
                Some(d) => eprintln!("{d}"),
                None => eprintln!("Error: {e:#}"),
            }
        }
    }
    failed
}
