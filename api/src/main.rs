//! `ams`: the server and its administration commands.

use std::io::Read;
use std::process::ExitCode;

use actix_web::{HttpServer, web};
use api::config::Config;
use clap::{Parser, Subcommand};
use service::Db;
use service::users::Role;

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
    DemoData {
        #[arg(long, default_value = "e1")]
        example: String,
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
        Command::Serve => serve(cfg).await,
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
        Command::Openapi => {
            let doc = api::spec().to_pretty_json().map_err(|e| e.to_string())?;
            println!("{doc}");
            Ok(())
        }
        Command::DemoData { example } => {
            let example = service::demo::Example::parse(&example)
                .ok_or("example must be e1, e2, e3, e4 or e5")?;
            let db = Db::connect(&cfg.database_url)
                .await
                .map_err(|e| e.to_string())?;
            service::bootstrap::prepare(&db)
                .await
                .map_err(|e| e.to_string())?;
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

async fn serve(cfg: Config) -> Result<(), String> {
    let (state, admin_password) = api::build_state(&cfg).await.map_err(|e| e.to_string())?;
    if let Some(password) = admin_password {
        println!("Created staff user `admin` with password: {password}");
        println!("(shown once; set AMS_ADMIN_PASSWORD on first start to choose it)");
    }
    let state = web::Data::new(state);
    let origins = cfg.cors_origins();
    let mut server = HttpServer::new(move || api::app::build_app(state.clone(), origins.clone()));
    if let Some(w) = cfg.workers {
        server = server.workers(w);
    }
    let server = server
        .bind(&cfg.bind)
        .map_err(|e| format!("cannot bind {}: {e}", cfg.bind))?;
    println!(
        "AMS listening on http://{}  (Swagger UI: http://{}/swagger-ui/)",
        cfg.bind, cfg.bind
    );
    server.run().await.map_err(|e| e.to_string())
}
