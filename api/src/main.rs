//! `ams`: the server and its administration commands.

use std::io::Read;
use std::process::ExitCode;

use api::config::Config;
use clap::{Parser, Subcommand};
use service::Db;
use service::users::Role;

// A request allocates many small objects across threads; glibc's allocator spent a fifth of a
// loaded server's time in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ams",
    version,
    about = "Association management: membership and dues billing API"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and seed defaults, then exit.
    Migrate,
    /// Create a login; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["staff", "member"])]
        role: String,
        #[arg(long)]
        contact_id: Option<i64>,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Load a worked example (`e1` doctors, `e2` colleges, `e3` multi-year, `e4` rejoin, `e5` library).
    /// With `--members N`: E-1 plus N generated members with subscriptions and 1,000 pricing
    /// rules, for benchmarks (deterministic per `--seed`).
    DemoData {
        #[arg(long, default_value = "e1")]
        example: String,
        /// Generate this many persons (about 80 % members) instead of loading an example.
        #[arg(long)]
        members: Option<u64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Expire members whose paid-through plus the grace period is before a date (L-1).
    Expire {
        /// The date expiry is judged at (default: today).
        #[arg(long, value_parser = service::dates::parse)]
        as_of: Option<chrono::NaiveDate>,
        /// Preview only: list who would change and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Back up the database to a new file while the server runs: an SQLite copy made with
    /// `VACUUM INTO`, or a `pg_dump --format=custom` archive for PostgreSQL.
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Replace the database with a backup made by `ams backup`. Stop the server first.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Renewal runs (R-1..R-6).
    Renewals {
        #[command(subcommand)]
        action: RenewalsCommand,
    },
}

#[derive(Subcommand)]
enum RenewalsCommand {
    /// Generate renewals for a billing cycle, showing progress page by page.
    Generate {
        /// The cycle's id or name.
        #[arg(long)]
        cycle: String,
        /// Default: today plus the cycle's months prior to expiration.
        #[arg(long, value_parser = service::dates::parse)]
        effective_date: Option<chrono::NaiveDate>,
        /// Preview only: write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The staff login recorded as having run it.
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.config);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let cfg = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => api::app::serve(cfg).await,
        Command::Migrate => {
            let db = Db::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            service::bootstrap::prepare(&db)
                .await
                .map_err(|e| e.to_string())?;
            println!("database is up to date");
            Ok(())
        }
        Command::CreateUser {
            username,
            role,
            contact_id,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| e.to_string())?;
            let password = password.trim_end_matches(['\n', '\r']);
            let db = Db::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            service::bootstrap::prepare(&db)
                .await
                .map_err(|e| e.to_string())?;
            let role = Role::parse(&role).ok_or("role must be staff or member")?;
            let user = service::users::create(&db, &username, password, role, contact_id)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "created {} user {} (id {})",
                user.role, user.username, user.id
            );
            Ok(())
        }
        Command::Backup { to } => {
            let db = Db::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            service::backup::backup(&db, &cfg.database_url, &to)
                .await
                .map_err(|e| e.to_string())?;
            println!("backed up to {}", to.display());
            Ok(())
        }
        Command::Restore { from } => {
            service::backup::restore(&cfg.database_url, &from)
                .await
                .map_err(|e| e.to_string())?;
            println!("restored from {}", from.display());
            Ok(())
        }
        Command::Expire { as_of, dry_run } => {
            let db = Db::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            service::bootstrap::prepare(&db)
                .await
                .map_err(|e| e.to_string())?;
            let as_of = as_of.unwrap_or_else(|| service::clock::now().date_naive());
            let who = service::audit::Who::command_line();
            let r = service::lifecycle::expire::run(&db, as_of, dry_run, &who)
                .await
                .map_err(|e| e.to_string())?;
            for ch in &r.changed {
                if let Some((from, to)) = &ch.customer_type {
                    let via = ch
                        .company_id
                        .map(|o| format!(" (follows organization {o})"))
                        .unwrap_or_default();
                    println!("{}\t{from} -> {to}{via}", ch.contact_id);
                }
            }
            println!(
                "{} {} contact(s) as of {as_of}: paid through {} or earlier with {} month(s) of grace",
                if dry_run { "would expire" } else { "expired" },
                r.changed.len(),
                r.expired_paid_through,
                r.grace_period_months
            );
            Ok(())
        }
        Command::Renewals {
            action:
                RenewalsCommand::Generate {
                    cycle,
                    effective_date,
                    dry_run,
                    user,
                },
        } => {
            let db = Db::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            service::bootstrap::prepare(&db)
                .await
                .map_err(|e| e.to_string())?;
            let run_by = service::users::find_by_username(&db.conn, &user)
                .await
                .map_err(|e| e.to_string())?
                .filter(|u| u.role == "staff")
                .ok_or_else(|| format!("no staff login named {user}"))?
                .id;
            let cycle = match cycle.parse::<i64>() {
                Ok(id) => service::billing::join::CycleRef::Id(id),
                Err(_) => service::billing::join::CycleRef::Name(cycle),
            };
            let request = service::renewals::RunRequest {
                cycle,
                effective_date,
                dry_run,
            };
            let today = service::clock::now().date_naive();
            let due = service::renewals::due_count(&db, &request, today)
                .await
                .map_err(|e| e.to_string())?
                .max(1);
            let show = |r: &service::renewals::RunResult| {
                const WIDTH: u64 = 30;
                let done = (r.considered.min(due) * WIDTH / due) as usize;
                eprint!(
                    "\r[{}{}] {:>3}%  {}/{} considered, {} billed, {} skipped, total {}",
                    "#".repeat(done),
                    "-".repeat(WIDTH as usize - done),
                    r.considered.min(due) * 100 / due,
                    r.considered,
                    due,
                    r.billed,
                    r.skipped_count,
                    service::money::format_cents(r.total_cents)
                );
            };
            let result = service::renewals::run(&db, request, run_by, today, &show)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!();
            match result.id {
                Some(id) => println!(
                    "renewal run {id}: effective {}, {} considered, {} billed, {} skipped, total {}",
                    result
                        .effective_date
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    result.considered,
                    result.billed,
                    result.skipped_count,
                    service::money::format_cents(result.total_cents)
                ),
                None => println!(
                    "preview (nothing written): effective {}, {} considered, {} would be billed, {} skipped, total {}",
                    result
                        .effective_date
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    result.considered,
                    result.billed,
                    result.skipped_count,
                    service::money::format_cents(result.total_cents)
                ),
            }
            Ok(())
        }
        Command::Openapi => {
            let doc = api::spec().to_pretty_json().map_err(|e| e.to_string())?;
            println!("{doc}");
            Ok(())
        }
        Command::DemoData {
            example,
            members,
            seed,
        } => {
            let example = service::demo::Example::parse(&example)
                .ok_or("example must be e1, e2, e3, e4 or e5")?;
            let db = Db::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            service::bootstrap::prepare(&db)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(n) = members {
                let show = |done: u64, all: u64| {
                    eprint!("\r{done}/{all} persons written");
                };
                let opts = service::demo::members::Options {
                    persons: n,
                    seed,
                    all_members: false,
                };
                let g = service::demo::members::generate(&db, opts, &show)
                    .await
                    .map_err(|e| e.to_string())?;
                eprintln!();
                println!(
                    "generated {} contacts ({} members, {} organizations), {} subscriptions, {} pricing rules in {:.1} s",
                    g.contacts,
                    g.members,
                    g.organizations,
                    g.subscriptions,
                    g.pricing_rules,
                    g.seconds
                );
                return Ok(());
            }
            let loaded = service::demo::load(&db, example)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "loaded {:?}: {} customer types, {} contacts, {} pricing rules, {} subscriptions, {} invoices",
                example,
                loaded.customer_types,
                loaded.contacts,
                loaded.pricing_rules,
                loaded.subscriptions,
                loaded.invoices
            );
            Ok(())
        }
    }
}
