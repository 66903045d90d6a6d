//! The `ams` command line: the server and its administration commands. In the library so that
//! the test crate can build the same command as a binary of its own.

use std::fmt::Display;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use service::Db;
use service::renewals::{RunRequest, RunResult};
use service::users::Role;

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "ams",
    version,
    about = "Association management: membership and dues billing API"
)]
pub struct Cli {
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
        as_of: Option<NaiveDate>,
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
    /// A job (JB-1): its state and progress, as `GET /api/v1/jobs/{id}` shows them.
    Job {
        id: i64,
        /// Redraw the progress every second until the job ends.
        #[arg(long)]
        follow: bool,
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
        effective_date: Option<NaiveDate>,
        /// Preview only: write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The staff login recorded as having run it.
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

/// Parses the command line, runs the command, and reports its error on standard error.
pub async fn main() -> ExitCode {
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

/// Runs one command; with none, the server.
pub async fn run(cli: Cli) -> Result<(), String> {
    let cfg = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::app::serve(cfg).await,
        Command::Migrate => migrate(&cfg).await,
        Command::CreateUser {
            username,
            role,
            contact_id,
        } => create_user(&cfg, &username, &role, contact_id).await,
        Command::Backup { to } => backup(&cfg, &to).await,
        Command::Restore { from } => restore(&cfg, &from).await,
        Command::Expire { as_of, dry_run } => expire(&cfg, as_of, dry_run).await,
        Command::Renewals {
            action:
                RenewalsCommand::Generate {
                    cycle,
                    effective_date,
                    dry_run,
                    user,
                },
        } => {
            let request = RunRequest {
                cycle: cycle_ref(cycle),
                effective_date,
                autopay_option: None,
                dry_run,
                preview_id: None,
            };
            generate_renewals(&cfg, request, &user).await
        }
        Command::Job { id, follow } => show_job(&cfg, id, follow).await,
        Command::Openapi => openapi(),
        Command::DemoData {
            example,
            members,
            seed,
        } => demo_data(&cfg, &example, members, seed).await,
    }
}

fn text(e: impl Display) -> String {
    e.to_string()
}

/// The database, migrated and seeded: every command but `backup` and `restore` starts here.
async fn prepared(cfg: &Config) -> Result<Db, String> {
    let db = Db::connect(&cfg.database_url).await.map_err(text)?;
    service::bootstrap::prepare(&db).await.map_err(text)?;
    Ok(db)
}

async fn migrate(cfg: &Config) -> Result<(), String> {
    prepared(cfg).await?;
    println!("database is up to date");
    Ok(())
}

async fn create_user(
    cfg: &Config,
    username: &str,
    role: &str,
    contact_id: Option<i64>,
) -> Result<(), String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(text)?;
    let password = password.trim_end_matches(['\n', '\r']);
    let db = prepared(cfg).await?;
    let role = Role::parse(role).ok_or("role must be staff or member")?;
    let user = service::users::create(&db, username, password, role, contact_id)
        .await
        .map_err(text)?;
    println!(
        "created {} user {} (id {})",
        user.role.as_str(),
        user.username,
        user.id
    );
    Ok(())
}

async fn backup(cfg: &Config, to: &Path) -> Result<(), String> {
    let db = Db::connect(&cfg.database_url).await.map_err(text)?;
    service::backup::backup(&db, &cfg.database_url, to)
        .await
        .map_err(text)?;
    println!("backed up to {}", to.display());
    Ok(())
}

async fn restore(cfg: &Config, from: &Path) -> Result<(), String> {
    service::backup::restore(&cfg.database_url, from)
        .await
        .map_err(text)?;
    println!("restored from {}", from.display());
    Ok(())
}

async fn expire(cfg: &Config, as_of: Option<NaiveDate>, dry_run: bool) -> Result<(), String> {
    let db = prepared(cfg).await?;
    let as_of = as_of.unwrap_or_else(|| service::clock::now().date_naive());
    let who = service::audit::Who::command_line();
    let r = service::lifecycle::expire::run(&db, as_of, dry_run, &who)
        .await
        .map_err(text)?;
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

/// A cycle named by its id when the argument is a number, else by its name.
fn cycle_ref(cycle: String) -> service::billing::join::CycleRef {
    match cycle.parse::<i64>() {
        Ok(id) => service::billing::join::CycleRef::Id(id),
        Err(_) => service::billing::join::CycleRef::Name(cycle),
    }
}

async fn generate_renewals(cfg: &Config, request: RunRequest, user: &str) -> Result<(), String> {
    let db = prepared(cfg).await?;
    let run_by = service::users::find_by_username(&db.conn, user)
        .await
        .map_err(text)?
        .filter(|u| u.role == service::users::Role::Staff)
        .ok_or_else(|| format!("no staff login named {user}"))?
        .id;
    let today = service::clock::now().date_naive();
    let due = service::renewals::due_count(&db, &request, today)
        .await
        .map_err(text)?
        .max(1);
    let show = |r: &RunResult| show_progress(r, due);
    if request.dry_run {
        let result = service::renewals::run(&db, request, run_by, today, &show)
            .await
            .map_err(text)?;
        eprintln!();
        print_run(&result);
        return Ok(());
    }
    // JB-1: the run is a job, so a server finishes it if this command is stopped.
    let params = service::renewals::RunJob::new(&db, &request, run_by, today)
        .await
        .map_err(text)?;
    let params = params.to_json().map_err(text)?;
    let timing = cfg.job_timing();
    let owner = format!("cli:{}", crate::jobs::server_id());
    let (job, control) = service::jobs::start(
        &db,
        service::jobs::RENEWAL_RUN,
        &params,
        run_by,
        &owner,
        timing.lease,
    )
    .await
    .map_err(text)?;
    let in_job = service::renewals::InJob {
        id: job.id,
        control: &control,
    };
    let work = service::renewals::run_in_job(&db, request, run_by, today, in_job, &show);
    let (result, _) =
        service::jobs::runner::execute(&db, control.clone(), &timing, work, |(r, f)| {
            crate::jobs::ended(r, *f)
        })
        .await
        .map_err(text)?;
    eprintln!();
    eprintln!("job {}", job.id);
    print_run(&result);
    Ok(())
}

/// Shows a job's state and progress; with `follow`, until it ends (its result then).
async fn show_job(cfg: &Config, id: i64, follow: bool) -> Result<(), String> {
    let db = prepared(cfg).await?;
    loop {
        let job = service::jobs::get(&db.conn, id).await.map_err(text)?;
        let ended = !matches!(job.state.as_str(), "queued" | "running");
        let total = job.total.unwrap_or(0).max(1);
        let percent = job.done.clamp(0, total) * 100 / total;
        let line = format!(
            "job {} ({}): {}  {}/{} done ({percent}%)",
            job.id,
            job.kind,
            job.state,
            job.done,
            job.total.map_or("?".into(), |t| t.to_string()),
        );
        if !follow || ended {
            println!("{line}");
            if let Some(error) = &job.error {
                println!("error: {error}");
            }
            if let Some(result) = &job.result {
                println!("{result}");
            }
            return Ok(());
        }
        eprint!("\r{line}");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// A progress bar on standard error, redrawn in place after each page.
fn show_progress(r: &RunResult, due: u64) {
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
}

fn print_run(result: &RunResult) {
    let effective = result
        .effective_date
        .map(|d| d.to_string())
        .unwrap_or_default();
    let total = service::money::format_cents(result.total_cents);
    match result.id {
        Some(id) => println!(
            "renewal run {id}: effective {effective}, {} considered, {} billed, {} skipped, total {total}",
            result.considered, result.billed, result.skipped_count,
        ),
        None => println!(
            "preview (nothing written): effective {effective}, {} considered, {} would be billed, {} skipped, total {total}",
            result.considered, result.billed, result.skipped_count,
        ),
    }
}

fn openapi() -> Result<(), String> {
    let doc = crate::spec().to_pretty_json().map_err(text)?;
    println!("{doc}");
    Ok(())
}

async fn demo_data(
    cfg: &Config,
    example: &str,
    members: Option<u64>,
    seed: u64,
) -> Result<(), String> {
    let example =
        service::demo::Example::parse(example).ok_or("example must be e1, e2, e3, e4 or e5")?;
    let db = prepared(cfg).await?;
    if let Some(n) = members {
        return generate_members(&db, n, seed).await;
    }
    let loaded = service::demo::load(&db, example).await.map_err(text)?;
    println!(
        "loaded {:?}: {} customer types, {} contacts, {} pricing rules, {} subscriptions, {} invoices, {} committees",
        example,
        loaded.customer_types,
        loaded.contacts,
        loaded.pricing_rules,
        loaded.subscriptions,
        loaded.invoices,
        loaded.committees
    );
    Ok(())
}

async fn generate_members(db: &Db, persons: u64, seed: u64) -> Result<(), String> {
    let show = |done: u64, all: u64| {
        eprint!("\r{done}/{all} persons written");
    };
    let opts = service::demo::members::Options {
        persons,
        seed,
        all_members: false,
    };
    let g = service::demo::members::generate(db, opts, &show)
        .await
        .map_err(text)?;
    eprintln!();
    println!(
        "generated {} contacts ({} members, {} organizations), {} subscriptions, {} pricing rules in {:.1} s",
        g.contacts, g.members, g.organizations, g.subscriptions, g.pricing_rules, g.seconds
    );
    Ok(())
}
