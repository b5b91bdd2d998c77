//! The jobs of one sender instance, polled together on one task: a send costs no task of its
//! own. The task ends when the instance is replaced (its jobs are cut there, as a kill would
//! cut them, and their outbox entries stay unsent for the next instance) or stopped.

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

/// A job: one reply or one read receipt, reporting to the scheduler when it ends.
pub(super) type JobFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where a sender instance's jobs run.
pub(super) struct Runner {
    jobs: mpsc::UnboundedSender<JobFuture>,
    task: AbortHandle,
}

impl Runner {
    /// Starts the task; `cancel` turning true (the instance replaced) cuts every job.
    pub(super) fn start(cancel: watch::Receiver<bool>) -> Runner {
        let (jobs, queue) = mpsc::unbounded_channel();
        let task = tokio::spawn(drive(queue, cancel)).abort_handle();
        Runner { jobs, task }
    }

    /// Runs a job. A job handed over after the task ended is dropped: it reports itself
    /// interrupted, as a cut job does.
    pub(super) fn run(&self, job: JobFuture) {
        let _ = self.jobs.send(job);
    }

    /// Cuts every job (the instance stops).
    pub(super) fn stop(&self) {
        self.task.abort();
    }
}

async fn drive(mut queue: mpsc::UnboundedReceiver<JobFuture>, mut cancel: watch::Receiver<bool>) {
    let replaced = async move {
        // A dropped sender never cancels: only a replacement does.
        if cancel.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(replaced);
    let mut running = FuturesUnordered::new();
    loop {
        tokio::select! {
            () = &mut replaced => return,
            job = queue.recv() => match job {
                // A job that panics ends alone (its report says it was cut), not the others.
                Some(job) => running.push(AssertUnwindSafe(job).catch_unwind().map(|ended| {
                    if ended.is_err() {
                        tracing::error!("a send job panicked; its reply stays in the outbox");
                    }
                })),
                // The instance is gone: nothing will read the jobs' reports.
                None => return,
            },
            Some(()) = running.next(), if !running.is_empty() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    /// Tells when it is dropped (a job's report does the same).
    struct Dropped(Option<oneshot::Sender<()>>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }

    #[tokio::test]
    async fn a_job_that_panics_ends_alone_and_a_replacement_cuts_the_rest() {
        let (cancel_tx, cancel) = watch::channel(false);
        let runner = Runner::start(cancel);
        runner.run(Box::pin(async { panic!("a job fails badly") }));
        let (done_tx, done) = oneshot::channel();
        runner.run(Box::pin(async move {
            let _ = done_tx.send(());
        }));
        done.await.expect("the job after the panic runs");

        let (cut_tx, cut) = oneshot::channel();
        runner.run(Box::pin(async move {
            let _report = Dropped(Some(cut_tx));
            std::future::pending::<()>().await;
        }));
        tokio::task::yield_now().await;
        cancel_tx.send_replace(true);
        cut.await.expect("the waiting job is cut and reports");
    }
}
