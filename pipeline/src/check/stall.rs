//! The stall limit on a cluster job (issue #22, 5): a job that makes no
//! progress for `[engine] stall_timeout_secs` is cancelled and the check
//! fails with one line, instead of waiting for ever.
//!
//! ```text
//!  result stream ──batch──▶ progress ─┐
//!  scheduler (every `every`): the job's ├─▶ last progress ── older than `limit` ─▶ cancel the job,
//!    stages and their tasks, changed? ─┘                                          Err(Stalled)
//! ```
//!
//! "Progress" is what the scheduler reports of the job (a stage changing
//! state, a task of it starting, finishing or failing: [`JobProbe`]) or a
//! result batch arriving; wall time alone is not. A scheduler that cannot
//! be asked counts as no progress, so then the limit is a time limit since
//! the last batch (the error says so).
//!
//! Generic over the probe so that the limit is tested without a cluster;
//! the Ballista probe is `distributed::BallistaJob`.

use std::fmt::Debug;
use std::time::Duration;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};

/// What the watchdog asks of the scheduler about one job.
pub(crate) trait JobProbe: Send + 'static {
    /// A comparable summary of the job's progress; two different answers
    /// mean the job moved. `Err`: the scheduler could not tell (why).
    type Progress: PartialEq + Send + Debug;
    /// The job's id, once the scheduler has accepted it.
    fn job_id(&self) -> Option<String>;
    /// The scheduler, as the error names it.
    fn scheduler(&self) -> String;
    /// The job's progress now.
    fn progress(&mut self) -> BoxFuture<'_, Result<Self::Progress, String>>;
    /// Asks the scheduler to cancel the job.
    fn cancel(&mut self, job_id: String) -> BoxFuture<'_, Result<(), String>>;
}

/// A cluster job that made no progress for the limit: cancelled (or why
/// not), and the check fails with this line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "ballista scheduler {scheduler}: job {job} made no progress for {waited_secs} s (no task started or finished, no stage changed, no result arrived; limit `[engine] stall_timeout_secs` / `--stall-timeout-secs` = {limit_secs}){unprobed}; {cancelled}"
)]
pub struct Stalled {
    /// The scheduler's address.
    pub scheduler: String,
    /// The job's id (`not accepted yet` before the scheduler gave one).
    pub job: String,
    /// Seconds since the last progress.
    pub waited_secs: u64,
    /// The limit, in seconds.
    pub limit_secs: u64,
    /// Empty, or why the scheduler's progress could not be read (then the
    /// limit was a time limit since the last result).
    pub unprobed: String,
    /// `job cancelled`, or why it could not be.
    pub cancelled: String,
}

/// How the watchdog looks: `limit` without progress fails the stream;
/// the scheduler is asked every `every`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    /// No progress for this long ends the job.
    pub limit: Duration,
    /// How often the scheduler is asked.
    pub every: Duration,
}

impl Limit {
    /// A limit of `secs` seconds, the scheduler asked every 2 s (or every
    /// quarter of a shorter limit).
    pub fn secs(secs: u64) -> Limit {
        let limit = Duration::from_secs(secs.max(1));
        Limit {
            limit,
            every: (limit / 4).min(Duration::from_secs(2)),
        }
    }
}

struct Watch<S, P: JobProbe> {
    inner: S,
    probe: P,
    limit: Limit,
    last: Option<P::Progress>,
    since: Instant,
    unprobed: Option<String>,
    tick: tokio::time::Interval,
    done: bool,
}

/// `inner` (a cluster job's result stream) with the stall limit: when
/// neither a batch arrives nor the probe reports a change for
/// `limit.limit`, the job is cancelled and the stream ends with
/// [`Stalled`] (as `DataFusionError::External`).
pub(crate) fn watch<S, P>(
    inner: S,
    probe: P,
    limit: Limit,
) -> impl Stream<Item = Result<RecordBatch>> + Send + 'static
where
    S: Stream<Item = Result<RecordBatch>> + Send + Unpin + 'static,
    P: JobProbe,
{
    let mut tick = tokio::time::interval(limit.every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = Watch {
        inner,
        probe,
        limit,
        last: None,
        since: Instant::now(),
        unprobed: None,
        tick,
        done: false,
    };
    futures::stream::unfold(state, |mut w| async move {
        if w.done {
            return None;
        }
        loop {
            tokio::select! {
                item = w.inner.next() => {
                    w.since = Instant::now();
                    return item.map(|item| (item, w));
                }
                _ = w.tick.tick() => {
                    match w.probe.progress().await {
                        Ok(now) => {
                            w.unprobed = None;
                            if w.last.as_ref() != Some(&now) {
                                tracing::debug!(progress = ?now, "cluster job progress");
                                w.last = Some(now);
                                w.since = Instant::now();
                            }
                        }
                        Err(why) => w.unprobed = Some(why),
                    }
                    let waited = w.since.elapsed();
                    if waited >= w.limit.limit {
                        w.done = true;
                        let stalled = stalled(&mut w.probe, waited, w.limit.limit, w.unprobed.take()).await;
                        tracing::error!(error = %stalled, "cluster job stalled");
                        return Some((Err(DataFusionError::External(Box::new(stalled))), w));
                    }
                }
            }
        }
    })
}

/// Cancels the job (when it has an id) and says what happened.
async fn stalled<P: JobProbe>(
    probe: &mut P,
    waited: Duration,
    limit: Duration,
    unprobed: Option<String>,
) -> Stalled {
    let (job, cancelled) = match probe.job_id() {
        Some(id) => {
            let cancelled = match probe.cancel(id.clone()).await {
                Ok(()) => "job cancelled".to_string(),
                Err(why) => format!("cancelling it failed: {why}"),
            };
            (id, cancelled)
        }
        None => (
            "(not accepted yet)".to_string(),
            "nothing to cancel".to_string(),
        ),
    };
    Stalled {
        scheduler: probe.scheduler(),
        job,
        waited_secs: waited.as_secs(),
        limit_secs: limit.as_secs(),
        unprobed: unprobed
            .map(|why| format!("; the scheduler's progress could not be read ({why}), so this was a time limit since the last result"))
            .unwrap_or_default(),
        cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A probe whose progress is a counter the test moves, and which
    /// records cancellations.
    #[derive(Clone, Default)]
    struct Fake {
        progress: Arc<AtomicU64>,
        cancelled: Arc<std::sync::Mutex<Vec<String>>>,
        unreachable: bool,
    }

    impl JobProbe for Fake {
        type Progress = u64;
        fn job_id(&self) -> Option<String> {
            Some("JOB1".into())
        }
        fn scheduler(&self) -> String {
            "df://sched:50050".into()
        }
        fn progress(&mut self) -> BoxFuture<'_, Result<u64, String>> {
            let v = self.progress.load(Ordering::SeqCst);
            let unreachable = self.unreachable;
            Box::pin(async move {
                if unreachable {
                    Err("connection refused".into())
                } else {
                    Ok(v)
                }
            })
        }
        fn cancel(&mut self, job_id: String) -> BoxFuture<'_, Result<(), String>> {
            let cancelled = Arc::clone(&self.cancelled);
            Box::pin(async move {
                cancelled.lock().map_err(|e| e.to_string())?.push(job_id);
                Ok(())
            })
        }
    }

    fn limit() -> Limit {
        Limit {
            limit: Duration::from_millis(400),
            every: Duration::from_millis(50),
        }
    }

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1i64]))]).expect("a batch")
    }

    /// A job that never yields and never moves (the hang of issue #22, 5)
    /// is cancelled after the limit, with one line naming the scheduler,
    /// the job and the time waited; the stream then ends.
    #[tokio::test]
    async fn a_job_without_progress_is_cancelled_after_the_limit() {
        let probe = Fake::default();
        let started = Instant::now();
        let mut s = Box::pin(watch(futures::stream::pending(), probe.clone(), limit()));
        let first = tokio::time::timeout(Duration::from_secs(20), s.next())
            .await
            .expect("the limit fires: the stream does not wait for ever");
        let waited = started.elapsed();
        let e = match first {
            Some(Err(e)) => e,
            other => panic!("expected the stall error, got {other:?}"),
        };
        assert!(waited >= Duration::from_millis(400), "{waited:?}");
        let DataFusionError::External(inner) = &e else {
            panic!("{e}")
        };
        let stalled = inner.downcast_ref::<Stalled>().expect("Stalled");
        assert_eq!(stalled.job, "JOB1");
        assert_eq!(stalled.scheduler, "df://sched:50050");
        assert_eq!(stalled.cancelled, "job cancelled");
        let line = stalled.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.contains("df://sched:50050") && line.contains("job JOB1"),
            "{line}"
        );
        assert!(line.contains("stall_timeout_secs"), "{line}");
        assert_eq!(
            probe.cancelled.lock().expect("lock").as_slice(),
            ["JOB1".to_string()]
        );
        assert!(s.next().await.is_none(), "the stream ends after the error");
    }

    /// A job the scheduler reports moving is not cancelled, however long
    /// it takes in all; its batches come through.
    #[tokio::test]
    async fn a_job_that_moves_is_not_cancelled() {
        let probe = Fake::default();
        let moving = Arc::clone(&probe.progress);
        let mover = tokio::spawn(async move {
            for _ in 0..16 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                moving.fetch_add(1, Ordering::SeqCst);
            }
        });
        // Results only after 1.2 s, three times the limit.
        let late = futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(1200)).await;
            Ok(batch())
        })
        .boxed();
        let got: Vec<_> = watch(late, probe.clone(), limit()).collect().await;
        mover.abort();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_ok(), "{:?}", got[0]);
        assert!(probe.cancelled.lock().expect("lock").is_empty());
    }

    /// Batches are progress too: a stream that yields more often than the
    /// limit is never cut, even when the scheduler's answer never changes.
    #[tokio::test]
    async fn batches_are_progress() {
        let probe = Fake::default();
        let steady = futures::stream::iter(0..8)
            .then(|_| async {
                tokio::time::sleep(Duration::from_millis(150)).await;
                Ok(batch())
            })
            .boxed();
        let got: Vec<_> = watch(steady, probe.clone(), limit()).collect().await;
        assert_eq!(got.len(), 8);
        assert!(got.iter().all(Result::is_ok));
        assert!(probe.cancelled.lock().expect("lock").is_empty());
    }

    /// A scheduler that cannot be asked gives no progress: the limit still
    /// fires, and the line says it was a time limit.
    #[tokio::test]
    async fn an_unreachable_scheduler_makes_it_a_time_limit() {
        let probe = Fake {
            unreachable: true,
            ..Fake::default()
        };
        let mut s = Box::pin(watch(futures::stream::pending(), probe, limit()));
        let e = tokio::time::timeout(Duration::from_secs(20), s.next())
            .await
            .expect("the limit fires");
        let text = match e {
            Some(Err(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        assert!(text.contains("time limit"), "{text}");
        assert!(text.contains("connection refused"), "{text}");
    }

    #[test]
    fn limits_ask_the_scheduler_often_enough() {
        let l = Limit::secs(300);
        assert_eq!(l.limit, Duration::from_secs(300));
        assert_eq!(l.every, Duration::from_secs(2));
        assert_eq!(Limit::secs(1).every, Duration::from_millis(250));
        assert_eq!(Limit::secs(0).limit, Duration::from_secs(1));
    }
}
