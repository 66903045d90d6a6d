//! JB-3: what each schedule runs on this server, and the loop that claims the due ones. Every
//! server ticks; each due time is claimed by one of them (`service::schedules::tick`).

use std::time::Duration;

use service::Db;
use service::audit::Who;
use service::error::{Error, Result};
use service::schedules::Kind;
use service::schedules::tick::{self, Due};

use crate::state::AppState;

/// What scheduled work needs from the server's configuration.
#[derive(Clone)]
pub struct Scheduled {
    pub db: Db,
    pub stripe: Option<service::online::Stripe>,
    pub mailer: Option<service::mail::delivery::Mailer>,
    pub webhooks: Option<service::webhooks::delivery::Settings>,
    pub server_id: String,
    pub timing: service::jobs::runner::Timing,
}

impl Scheduled {
    pub fn new(
        state: &AppState,
        mailer: Option<service::mail::delivery::Mailer>,
        webhooks: Option<service::webhooks::delivery::Settings>,
    ) -> Self {
        Scheduled {
            db: state.db.clone(),
            stripe: state.stripe.clone(),
            mailer,
            webhooks,
            server_id: state.server_id.clone(),
            timing: state.job_timing.clone(),
        }
    }

    /// Claims what is due at `now` and runs it; what ran.
    pub async fn tick(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<Due>> {
        let due = tick::claim_due(&self.db, now).await?;
        for d in &due {
            if let Err(e) = self.run(d).await {
                tracing::warn!(schedule = %d.kind.name(), error = %e, "scheduled work failed");
            }
        }
        Ok(due)
    }

    /// Runs one due time as of its date.
    pub async fn run(&self, due: &Due) -> Result<()> {
        let db = &self.db;
        match due.kind {
            Kind::Expiry => {
                let who = Who {
                    user_id: due.by,
                    request_id: None,
                };
                service::lifecycle::expire::run(db, due.as_of, false, &who).await?;
            }
            Kind::Dunning => {
                if let Some(stripe) = &self.stripe {
                    service::online::charges::run_due(db, stripe, due.as_of, None).await?;
                }
            }
            Kind::Notices => {
                let deliverer = service::mail::delivery::Deliverer::new(
                    db.clone(),
                    self.mailer.clone(),
                    service::mail::delivery::Settings {
                        pays_online: self.stripe.is_some(),
                        ..Default::default()
                    },
                );
                deliverer.tick().await?;
            }
            Kind::Webhooks => {
                if let Some(settings) = &self.webhooks {
                    service::webhooks::delivery::Deliverer::new(db.clone(), settings.clone())?
                        .tick()
                        .await?;
                }
            }
            Kind::Reminders(cycle) => {
                service::billing::reminders::send(db, cycle, due.as_of).await?;
            }
            Kind::RenewalRun(cycle) => {
                self.renewal_run(cycle, due).await?;
            }
        }
        Ok(())
    }

    /// The cycle's renewal run as a job (JB-1) in the name of who set the schedule, dated
    /// by the due time; it runs on in the background.
    async fn renewal_run(&self, cycle: i64, due: &Due) -> Result<()> {
        let by = due
            .by
            .ok_or_else(|| Error::Internal("a renewal schedule set by nobody".into()))?;
        let params = service::renewals::RunJob {
            billing_cycle: cycle,
            effective_date: None,
            autopay_option: None,
            run_by: by,
            today: due.as_of,
            preview_id: None,
        };
        let params = params.to_json()?;
        crate::jobs::start_job(
            &self.db,
            &self.server_id,
            &self.timing,
            service::jobs::RENEWAL_RUN,
            &params,
            by,
        )
        .await?;
        Ok(())
    }

    /// Ticks every `poll`, for as long as the server runs.
    pub async fn run_forever(self, poll: Duration) {
        loop {
            if let Err(e) = self.tick(service::clock::now()).await {
                tracing::warn!(error = %e, "schedules could not be read");
            }
            tokio::time::sleep(poll).await;
        }
    }
}
