//! `rh-migrate`: see the crate docs in `lib.rs`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use mysql_async::{Opts, Pool};

#[derive(Parser)]
#[command(
    version,
    about = "Applies RankedHonor's migrations and runs admin-only operations"
)]
struct Cli {
    /// MySQL URL of the database to act on, e.g. mysql://user:password@127.0.0.1:3306/rankedhonor.
    /// It needs DDL privileges for `run`. Never printed.
    #[arg(long, env = "RH_MIGRATE_URL", global = true, hide_env_values = true)]
    url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations; refuses to run if an applied migration was edited.
    Run,
    /// Give an existing account the admin role (recorded in audit_log).
    PromoteAdmin {
        /// The account's email address.
        email: String,
    },
    /// List the migrations compiled into this binary.
    List,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::List = cli.command {
        for m in rh_migrate::embedded() {
            println!("V{}__{}", m.version(), m.name());
        }
        return Ok(());
    }
    let url = cli.url.context("--url (or RH_MIGRATE_URL) is required")?;
    let pool = Pool::new(Opts::from_url(&url).context("parsing --url")?);
    let outcome = match cli.command {
        Command::Run => rh_migrate::apply(&pool, &rh_migrate::embedded())
            .await
            .map(|applied| {
                if applied.0.is_empty() {
                    println!("database is up to date");
                }
                for name in applied.0 {
                    println!("applied {name}");
                }
            }),
        Command::PromoteAdmin { email } => {
            rh_migrate::promote_admin(&pool, &email, rh_migrate::now_ms())
                .await
                .map(|id| println!("user {id} is now an admin"))
        }
        Command::List => unreachable!("handled above"),
    };
    pool.disconnect().await.ok();
    outcome
}
