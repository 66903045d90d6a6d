//! JB-1: how this server runs jobs. Every kind's work, and how each answers (the answer the
//! synchronous request would have given), for the jobs a request starts and for those this
//! server takes over from a server that died.

use std::sync::Arc;

use serde_json::Value;
use service::Db;
use service::error::{Error, Result};
use service::jobs::runner::{self, Work};
use service::jobs::{self, Control, Ended};
use service::renewals::{self, Flow, InJob, RunJob};

use crate::dto::renewals::RunResultDto;
use crate::state::AppState;

/// This server among the servers of one database: its host, process and a random part (a
/// process started again is another server).
pub fn server_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
}

/// The work of every kind of job.
pub fn work() -> Work {
    Arc::new(|db: Db, job: service::jobs::Job, control: Arc<Control>| {
        Box::pin(async move {
            match job.kind.as_str() {
                jobs::RENEWAL_RUN => renewal_run(&db, &job, &control).await,
                other => Err(Error::Internal(format!("no work for jobs of kind {other}"))),
            }
        })
    })
}

/// A renewal run (R-1..R-6) as a job: progress is contacts considered of those due.
async fn renewal_run(db: &Db, job: &service::jobs::Job, control: &Control) -> Result<Ended> {
    let params: RunJob = serde_json::from_value(jobs::params(job)?)
        .map_err(|e| Error::Internal(format!("job {}: {e}", job.id)))?;
    let (result, flow) = run_renewals(db, &params, job.id, control).await?;
    Ok(ended(&result, flow))
}

/// Runs the renewals of `params` as the work of job `job_id`.
pub async fn run_renewals(
    db: &Db,
    params: &RunJob,
    job_id: i64,
    control: &Control,
) -> Result<(renewals::RunResult, Flow)> {
    let request = params.request();
    if control.progress().1.is_none() {
        let due = renewals::due_count(db, &request, params.today).await?;
        control.report(0, Some(due));
    }
    let progress = |r: &renewals::RunResult| control.report(r.considered, None);
    let job = InJob {
        id: job_id,
        control,
    };
    let (result, flow) =
        renewals::run_in_job(db, request, params.run_by, params.today, job, &progress).await?;
    // The run's own counts: pages written side by side may have ended after the last report.
    control.report(result.considered, None);
    Ok((result, flow))
}

/// How a run's job ended, with the run's answer.
pub fn ended(result: &renewals::RunResult, flow: Flow) -> Ended {
    let answer =
        serde_json::to_value(RunResultDto::new(result.clone(), false)).unwrap_or(Value::Null);
    match flow {
        Flow::Finished => Ended::Done(answer),
        Flow::Cancelled => Ended::Cancelled(answer),
        Flow::Left => Ended::LeaseLost,
    }
}

/// Starts a job of `kind` on this server and runs it in the background; the job as started.
pub async fn start_in_background(
    state: &AppState,
    kind: &str,
    params: &Value,
    created_by: i64,
) -> Result<service::jobs::Job> {
    start_job(
        &state.db,
        &state.server_id,
        &state.job_timing,
        kind,
        params,
        created_by,
    )
    .await
}

/// Starts a job of `kind` owned by `owner` and runs it in the background.
pub async fn start_job(
    db: &Db,
    owner: &str,
    timing: &runner::Timing,
    kind: &str,
    params: &Value,
    created_by: i64,
) -> Result<service::jobs::Job> {
    let timing = timing.clone();
    let (job, control) = jobs::start(db, kind, params, created_by, owner, timing.lease).await?;
    let work = (work())(db.clone(), job.clone(), control.clone());
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(e) = runner::execute(&db, control, &timing, work, Ended::clone).await {
            tracing::warn!(error = %e, "job failed");
        }
    });
    Ok(job)
}

/// The runner that takes over the jobs of servers that died, for `ams serve`.
pub fn runner(state: &AppState) -> runner::Runner {
    runner::Runner {
        db: state.db.clone(),
        owner: state.server_id.clone(),
        timing: state.job_timing.clone(),
        work: work(),
    }
}

/// Whether the request asks to be answered before its work is done (`Prefer: respond-async`,
/// RFC 7240).
pub fn prefers_async(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| {
            p.split(';')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("respond-async"))
        })
}

/// 202 with the job's location and the job as it is now.
pub fn accepted(job: service::jobs::Job) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Accepted()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/jobs/{}", job.id),
        ))
        .insert_header(("Preference-Applied", "respond-async"))
        .json(crate::dto::jobs::JobDto::from(job))
}
