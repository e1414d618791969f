//! Which node of a run starts when, as a state machine: the executor reports what happened
//! (a node started, a job ended, the user interrupted) and asks what to start next. It never
//! does I/O itself, so every transition is tested without Ray.

/// Where a node of the run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Waiting for the nodes it depends on.
    Waiting,
    /// Handed out by [`Scheduler::to_start`]; its job is being prepared and submitted.
    Starting,
    Running {
        job: String,
    },
    Succeeded {
        job: String,
    },
    /// Succeeded in an earlier run of the same run id: not run again.
    Resumed,
    Failed {
        job: Option<String>,
        reason: String,
    },
    /// Never started: the run stopped first (a node failed, or it was interrupted).
    NotStarted,
}

impl State {
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            State::Succeeded { .. } | State::Resumed | State::Failed { .. } | State::NotStarted
        )
    }

    fn succeeded(&self) -> bool {
        matches!(self, State::Succeeded { .. } | State::Resumed)
    }

    /// The word a person and `run.json` see.
    pub fn name(&self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Starting | State::Running { .. } => "running",
            State::Succeeded { .. } | State::Resumed => "succeeded",
            State::Failed { .. } => "failed",
            State::NotStarted => "not started",
        }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed(String),
}

#[derive(Debug)]
pub struct Scheduler {
    dependencies: Vec<Vec<usize>>,
    states: Vec<State>,
    parallel: usize,
    /// A node failed or the user interrupted: nothing new starts.
    stopping: bool,
}

impl Scheduler {
    /// `dependencies[i]`: the nodes node `i` waits for. `resumed[i]`: node `i` succeeded in an
    /// earlier run of this run id. At most `parallel` nodes run at once (at least one).
    pub fn new(dependencies: Vec<Vec<usize>>, resumed: &[bool], parallel: usize) -> Scheduler {
        let states = (0..dependencies.len())
            .map(|i| {
                if resumed.get(i).copied().unwrap_or(false) {
                    State::Resumed
                } else {
                    State::Waiting
                }
            })
            .collect();
        Scheduler {
            dependencies,
            states,
            parallel: parallel.max(1),
            stopping: false,
        }
    }

    pub fn states(&self) -> &[State] {
        &self.states
    }

    pub fn state(&self, node: usize) -> Option<&State> {
        self.states.get(node)
    }

    fn active(&self) -> usize {
        self.states
            .iter()
            .filter(|s| matches!(s, State::Starting | State::Running { .. }))
            .count()
    }

    /// The nodes to start now, in node order: waiting nodes whose dependencies all succeeded,
    /// as many as the parallelism leaves room for. They become `Starting`.
    pub fn to_start(&mut self) -> Vec<usize> {
        if self.stopping {
            return Vec::new();
        }
        let mut room = self.parallel.saturating_sub(self.active());
        let mut ready = Vec::new();
        for node in 0..self.states.len() {
            if room == 0 {
                break;
            }
            let deps_done = self
                .dependencies
                .get(node)
                .is_none_or(|deps| deps.iter().all(|&d| self.states.get(d).is_some_and(State::succeeded)));
            if self.states[node] == State::Waiting && deps_done {
                self.states[node] = State::Starting;
                ready.push(node);
                room -= 1;
            }
        }
        ready
    }

    /// The node's job was submitted.
    pub fn started(&mut self, node: usize, job: String) {
        if let Some(state) = self.states.get_mut(node) {
            if *state == State::Starting {
                *state = State::Running { job };
            }
        }
    }

    /// The node's job ended (or it could not be submitted: `job` is then `None`). A failure
    /// stops the run: nothing new starts, and the jobs already running finish.
    pub fn ended(&mut self, node: usize, outcome: Outcome) {
        let Some(state) = self.states.get_mut(node) else { return };
        let job = match state {
            State::Running { job } => Some(job.clone()),
            State::Starting => None,
            _ => return,
        };
        *state = match (outcome, job) {
            (Outcome::Succeeded, Some(job)) => State::Succeeded { job },
            (Outcome::Succeeded, None) => State::Failed {
                job: None,
                reason: "it ended before it was submitted".into(),
            },
            (Outcome::Failed(reason), job) => {
                self.stopping = true;
                State::Failed { job, reason }
            }
        };
        self.settle();
    }

    /// The user interrupted: nothing new starts; the running jobs are the executor's to stop.
    pub fn interrupt(&mut self) {
        self.stopping = true;
        self.settle();
    }

    /// Once stopping, waiting nodes will never start.
    fn settle(&mut self) {
        if self.stopping {
            for state in &mut self.states {
                if *state == State::Waiting {
                    *state = State::NotStarted;
                }
            }
        }
    }

    /// The nodes whose jobs are running, with their job ids: what an interrupt must stop.
    pub fn running(&self) -> Vec<(usize, &str)> {
        self.states
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                State::Running { job } => Some((i, job.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Every node is done: succeeded, failed or never to start.
    pub fn finished(&self) -> bool {
        self.states.iter().all(State::is_done)
    }

    /// Every node succeeded (now or in an earlier run).
    pub fn succeeded(&self) -> bool {
        self.states.iter().all(State::succeeded)
    }

    /// The nodes that failed, in node order.
    pub fn failed(&self) -> Vec<usize> {
        (0..self.states.len())
            .filter(|&i| matches!(self.states[i], State::Failed { .. }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a → b, a → c, (b, c) → d
    fn diamond(resumed: &[bool], parallel: usize) -> Scheduler {
        Scheduler::new(vec![vec![], vec![0], vec![0], vec![1, 2]], resumed, parallel)
    }

    fn run(s: &mut Scheduler, node: usize) {
        s.started(node, format!("job-{node}"));
    }

    #[test]
    fn nodes_start_when_their_dependencies_succeeded() {
        let mut s = diamond(&[], 8);
        assert_eq!(s.to_start(), vec![0]);
        assert_eq!(
            s.to_start(),
            Vec::<usize>::new(),
            "a started node is not handed out twice"
        );
        run(&mut s, 0);
        assert_eq!(s.state(0), Some(&State::Running { job: "job-0".into() }));
        s.ended(0, Outcome::Succeeded);
        assert_eq!(s.to_start(), vec![1, 2], "independent nodes run at the same time");
        run(&mut s, 1);
        run(&mut s, 2);
        s.ended(1, Outcome::Succeeded);
        assert!(s.to_start().is_empty(), "d waits for c too");
        s.ended(2, Outcome::Succeeded);
        assert_eq!(s.to_start(), vec![3]);
        run(&mut s, 3);
        assert!(!s.finished());
        s.ended(3, Outcome::Succeeded);
        assert!(s.finished() && s.succeeded());
    }

    #[test]
    fn parallelism_bounds_what_runs_at_once() {
        let mut s = Scheduler::new(vec![vec![]; 3], &[], 2);
        assert_eq!(s.to_start(), vec![0, 1]);
        run(&mut s, 0);
        run(&mut s, 1);
        assert!(s.to_start().is_empty());
        s.ended(0, Outcome::Succeeded);
        assert_eq!(s.to_start(), vec![2]);
        assert_eq!(
            Scheduler::new(vec![vec![]], &[], 0).to_start(),
            vec![0],
            "at least one runs"
        );
    }

    #[test]
    fn a_failure_stops_the_run_and_lets_running_jobs_finish() {
        let mut s = diamond(&[], 8);
        s.to_start();
        run(&mut s, 0);
        s.ended(0, Outcome::Succeeded);
        s.to_start();
        run(&mut s, 1);
        run(&mut s, 2);
        s.ended(1, Outcome::Failed("exit code 1".into()));
        assert_eq!(
            s.state(1),
            Some(&State::Failed {
                job: Some("job-1".into()),
                reason: "exit code 1".into()
            })
        );
        assert_eq!(s.state(3), Some(&State::NotStarted), "nodes after it never start");
        assert_eq!(s.running(), vec![(2, "job-2")]);
        assert!(!s.finished());
        s.ended(2, Outcome::Succeeded);
        assert!(s.finished() && !s.succeeded());
        assert_eq!(s.failed(), vec![1]);
        assert!(s.to_start().is_empty());
    }

    #[test]
    fn a_node_that_cannot_be_submitted_fails() {
        // A deferred value that breaks its quoting rule fails the node before it is submitted.
        let mut s = diamond(&[], 8);
        assert_eq!(s.to_start(), vec![0]);
        s.ended(0, Outcome::Failed("the value \"a;b\" is not a word".into()));
        assert_eq!(
            s.state(0),
            Some(&State::Failed {
                job: None,
                reason: "the value \"a;b\" is not a word".into()
            })
        );
        assert!(s.finished());
    }

    #[test]
    fn resume_skips_what_succeeded_before() {
        let mut s = diamond(&[true, true, false, false], 8);
        assert_eq!(s.state(0), Some(&State::Resumed));
        assert_eq!(s.to_start(), vec![2], "b succeeded before; c runs again");
        run(&mut s, 2);
        s.ended(2, Outcome::Succeeded);
        assert_eq!(s.to_start(), vec![3]);
    }

    #[test]
    fn an_interrupt_starts_nothing_new() {
        let mut s = diamond(&[], 8);
        s.to_start();
        run(&mut s, 0);
        s.interrupt();
        assert_eq!(s.running(), vec![(0, "job-0")]);
        assert!(s.to_start().is_empty());
        s.ended(0, Outcome::Failed("stopped".into()));
        assert!(s.finished());
        assert_eq!(s.state(3), Some(&State::NotStarted));
    }

    #[test]
    fn reports_about_unknown_or_finished_nodes_change_nothing() {
        let mut s = diamond(&[], 8);
        s.ended(7, Outcome::Succeeded);
        s.started(3, "x".into());
        assert_eq!(s.state(3), Some(&State::Waiting));
        s.to_start();
        run(&mut s, 0);
        s.ended(0, Outcome::Succeeded);
        s.ended(0, Outcome::Failed("late".into()));
        assert_eq!(s.state(0), Some(&State::Succeeded { job: "job-0".into() }));
    }
}
