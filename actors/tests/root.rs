//! The root supervisor's other children (the channels' senders): one that fails is restarted
//! through its [`Supervised`] spec; one stopped on purpose is let go; one that fails past the
//! budget stops the tree, so the process exits for its service manager.

mod common;

use common::{default_rules, demo_store};
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef};
use redsol_actors::brain::OfflineBrain;
use redsol_actors::engine::Engine;
use redsol_actors::root::{RootMsg, Supervised, CHILD_RESTARTS, SHUTDOWN};
use redsol_actors::supervisor::{self, SupervisorArgs};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// A bound for what should happen at once (reached only when a test fails).
const BOUND: Duration = Duration::from_secs(10);

/// An actor that fails when told `true`.
struct Worker;

impl Actor for Worker {
    type Msg = bool;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<bool>,
        _args: (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<bool>,
        fail: bool,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if fail {
            return Err("the worker failed (test-scripted)".into());
        }
        Ok(())
    }
}

/// How to restart the worker: the current instance, and a signal per restart.
#[derive(Default)]
struct Spec {
    current: Mutex<Option<ActorRef<bool>>>,
    restarts: Mutex<usize>,
    restarted: Notify,
}

impl Spec {
    fn current(&self) -> ActorRef<bool> {
        match self.current.lock().ok().and_then(|c| c.clone()) {
            Some(c) => c,
            None => panic!("no worker"),
        }
    }

    fn restarts(&self) -> usize {
        self.restarts.lock().map(|n| *n).unwrap_or(0)
    }
}

struct Shared(Arc<Spec>);

impl Supervised for Shared {
    fn name(&self) -> &'static str {
        "test_worker"
    }

    fn restart(
        &self,
        supervisor: ActorCell,
    ) -> Pin<Box<dyn Future<Output = Result<ActorCell, String>> + Send + '_>> {
        Box::pin(async move {
            let (worker, _) = Actor::spawn_linked(None, Worker, (), supervisor)
                .await
                .map_err(|e| e.to_string())?;
            let cell = worker.get_cell();
            if let Ok(mut c) = self.0.current.lock() {
                *c = Some(worker);
            }
            if let Ok(mut n) = self.0.restarts.lock() {
                *n += 1;
            }
            self.0.restarted.notify_one();
            Ok(cell)
        })
    }
}

struct Tree {
    root: ActorRef<RootMsg>,
    handle: tokio::task::JoinHandle<()>,
    spec: Arc<Spec>,
}

async fn tree_with_worker() -> Tree {
    let rules = Arc::new(default_rules());
    let store = demo_store(&rules);
    let engine = Engine::new(rules.clone(), Arc::new(OfflineBrain::new(rules)), store);
    let (_router, root, handle) = supervisor::start(SupervisorArgs {
        engine,
        sinks: HashMap::new(),
    })
    .await
    .expect("the tree starts");
    let (worker, _) = Actor::spawn(None, Worker, ()).await.expect("worker");
    let spec = Arc::new(Spec::default());
    if let Ok(mut c) = spec.current.lock() {
        *c = Some(worker.clone());
    }
    root.cast(RootMsg::Adopt(
        worker.get_cell(),
        Arc::new(Shared(spec.clone())),
    ))
    .expect("adopt");
    // The root has linked the worker once it answers the next message.
    ractor::call!(root, RootMsg::Router).expect("the root answers");
    Tree { root, handle, spec }
}

/// Makes the current worker fail and waits for its replacement.
async fn fail_and_wait(tree: &Tree) {
    let restarted = tree.spec.restarted.notified();
    tree.spec.current().cast(true).expect("cast");
    tokio::time::timeout(BOUND, restarted)
        .await
        .expect("the root restarts the worker");
}

#[tokio::test]
async fn a_child_that_fails_is_restarted_and_the_tree_goes_on() {
    let tree = tree_with_worker().await;
    let first = tree.spec.current().get_id();
    fail_and_wait(&tree).await;
    let second = tree.spec.current();
    assert_ne!(second.get_id(), first, "a new instance");
    assert_eq!(tree.spec.restarts(), 1);
    // The new one is supervised too: it is restarted when it fails in turn.
    fail_and_wait(&tree).await;
    assert_eq!(tree.spec.restarts(), 2);
    assert!(!tree.handle.is_finished(), "the tree runs on");
    tree.root.stop(None);
}

#[tokio::test]
async fn a_child_stopped_on_purpose_is_let_go() {
    let tree = tree_with_worker().await;
    let worker = tree.spec.current();
    worker.stop(Some(SHUTDOWN.to_string()));
    // Another message to the root is handled after the stop's supervision event.
    while worker.get_status() != ractor::ActorStatus::Stopped {
        tokio::task::yield_now().await;
    }
    let _ = ractor::call!(tree.root, RootMsg::Router);
    assert_eq!(tree.spec.restarts(), 0, "not restarted");
    assert!(!tree.handle.is_finished());
    tree.root.stop(None);
}

#[tokio::test]
async fn a_child_failing_past_its_budget_stops_the_tree() {
    let tree = tree_with_worker().await;
    for _ in 0..CHILD_RESTARTS {
        fail_and_wait(&tree).await;
    }
    tree.spec.current().cast(true).expect("cast");
    tokio::time::timeout(BOUND, tree.handle)
        .await
        .expect("the tree stops: the process exits for its service manager")
        .expect("root task");
    assert_eq!(tree.spec.restarts(), CHILD_RESTARTS);
}
