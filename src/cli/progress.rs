//! What a person sees while `rwfc run` runs: on a terminal, a live line per node (state and
//! time) drawn by indicatif; otherwise one plain line each time a node changes state.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rwfc::run::scheduler::State;
use std::time::{Duration, Instant};

pub struct Progress {
    started: Instant,
    names: Vec<String>,
    width: usize,
    shown: Vec<Option<String>>,
    since: Vec<Option<Instant>>,
    took: Vec<Option<Duration>>,
    live: Option<(MultiProgress, Vec<ProgressBar>)>,
}

impl Progress {
    pub fn new(names: Vec<String>, terminal: bool) -> Progress {
        let width = names.iter().map(String::len).max().unwrap_or(0);
        let live = terminal.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bars = names
                .iter()
                .map(|_| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar
                })
                .collect();
            (multi, bars)
        });
        let count = names.len();
        Progress {
            started: Instant::now(),
            names,
            width,
            shown: vec![None; count],
            since: vec![None; count],
            took: vec![None; count],
            live,
        }
    }

    /// Shows the nodes' states: on a terminal every line, with running times; otherwise a line
    /// per change.
    pub fn update(&mut self, states: &[State]) {
        for (node, state) in states.iter().enumerate() {
            let name = state.name();
            let changed = self.shown[node].as_deref() != Some(name);
            if changed {
                match state {
                    State::Starting | State::Running { .. } if self.since[node].is_none() => {
                        self.since[node] = Some(Instant::now());
                    }
                    _ if state.is_done() => {
                        self.took[node] = self.since[node].map(|s| s.elapsed());
                    }
                    _ => {}
                }
            }
            let time = match (self.took[node], self.since[node]) {
                (Some(took), _) => format!(" {:.1}s", took.as_secs_f64()),
                (None, Some(since)) if !state.is_done() => format!(" {:.1}s", since.elapsed().as_secs_f64()),
                _ => String::new(),
            };
            let line = format!("{:<width$}  {name}{time}", self.names[node], width = self.width);
            match &self.live {
                Some((_, bars)) => {
                    let bar = &bars[node];
                    bar.set_message(line);
                    if matches!(state, State::Starting | State::Running { .. }) {
                        bar.enable_steady_tick(Duration::from_millis(120));
                    } else if state.is_done() && changed {
                        bar.finish();
                    } else {
                        bar.tick();
                    }
                }
                None if changed => eprintln!("[{:>6.1}s] {line}", self.started.elapsed().as_secs_f64()),
                None => {}
            }
            if changed {
                self.shown[node] = Some(name.to_owned());
            }
        }
    }

    /// Prints a line above the live display (or plainly).
    pub fn println(&self, text: &str) {
        match &self.live {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    pub fn finish(self) {
        if let Some((_, bars)) = &self.live {
            bars.iter().for_each(ProgressBar::finish);
        }
    }
}
