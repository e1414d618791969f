//! A local Ray for `rwfc run`: the head rwfc starts (and stops, every process of it) when no
//! address is given, and a client of Ray's Jobs REST API, the one KubeRay's controller uses.

use serde_json::Value as Json;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a new head may take to answer `/api/version`.
const HEAD_START: Duration = Duration::from_secs(90);
/// How long the head has to stop by itself before its processes are killed.
const HEAD_STOP: Duration = Duration::from_secs(5);

/// A Ray head started for one run, in a session of its own so that every process it starts
/// (GCS, raylet, dashboard, workers) can be found and stopped, and nothing else.
pub struct Head {
    child: Child,
    temp_dir: PathBuf,
    pub address: String,
}

/// A port on the loopback interface that nothing listens on now.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

impl Head {
    /// Starts `ray start --head` on free loopback ports, its working directory `root` (where
    /// jobs run), and waits until its dashboard answers.
    pub fn start(ray: &Path, root: &Path) -> Result<Head, String> {
        let ports = (0..4).map(|_| free_port()).collect::<Result<Vec<u16>, _>>();
        let ports = ports.map_err(|e| format!("cannot find a free port: {e}"))?;
        // A short path: Ray's Unix sockets live under it, and their paths are limited in length.
        let temp_dir = std::env::temp_dir().join(format!("rwf-ray-{}", std::process::id()));
        std::fs::create_dir_all(&temp_dir).map_err(|e| format!("cannot create `{}`: {e}", temp_dir.display()))?;
        let log = std::fs::File::create(temp_dir.join("head.log"))
            .map_err(|e| format!("cannot write in `{}`: {e}", temp_dir.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("setsid")
            .arg(ray)
            .args([
                "start",
                "--head",
                "--block",
                "--disable-usage-stats",
                "--include-dashboard=true",
            ])
            .arg("--node-ip-address=127.0.0.1")
            .arg("--dashboard-host=127.0.0.1")
            .arg(format!("--port={}", ports[0]))
            .arg(format!("--dashboard-port={}", ports[1]))
            .arg(format!("--ray-client-server-port={}", ports[2]))
            .arg(format!("--dashboard-agent-listen-port={}", ports[3]))
            .arg(format!("--temp-dir={}", temp_dir.display()))
            // Ray otherwise replaces the loopback address by the machine's network address.
            .env("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start `{} start --head`: {e}", ray.display()))?;
        let mut head = Head {
            child,
            temp_dir,
            address: format!("http://127.0.0.1:{}", ports[1]),
        };
        let client = Jobs::new(&head.address);
        let deadline = Instant::now() + HEAD_START;
        loop {
            if client.version().is_ok() {
                return Ok(head);
            }
            if let Ok(Some(status)) = head.child.try_wait() {
                return Err(format!("the Ray head exited ({status}):\n{}", head.log_tail()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the Ray head did not answer within {}s:\n{}",
                    HEAD_START.as_secs(),
                    head.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.temp_dir.join("head.log")).unwrap_or_default();
        tail(&text, 20)
    }

    /// Stops the head and every process of its session, then removes its directory.
    fn stop(&mut self) {
        let session = self.child.id();
        signal_session(session, false);
        let deadline = Instant::now() + HEAD_STOP;
        while Instant::now() < deadline && session_alive(session) {
            std::thread::sleep(Duration::from_millis(100));
        }
        signal_session(session, true);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.temp_dir);
    }
}

impl Drop for Head {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The processes whose session is `session` (Linux: `/proc/PID/stat`).
#[cfg(target_os = "linux")]
fn session_members(session: u32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // After the command name in parentheses: state, ppid, pgrp, session.
            let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
            (fields.get(3)?.parse::<u32>().ok()? == session).then_some(pid)
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn session_alive(session: u32) -> bool {
    !session_members(session).is_empty()
}

/// SIGTERM (or SIGKILL) to every process of the session.
#[cfg(target_os = "linux")]
fn signal_session(session: u32, kill: bool) {
    use rustix::process::{kill_process, Pid, Signal};
    let signal = if kill { Signal::KILL } else { Signal::TERM };
    for pid in session_members(session) {
        if let Some(pid) = Pid::from_raw(pid) {
            let _ = kill_process(pid, signal);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn session_alive(_session: u32) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
fn signal_session(_session: u32, _kill: bool) {}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Ray's Jobs REST API at a dashboard address.
pub struct Jobs {
    agent: ureq::Agent,
    base: String,
}

impl Jobs {
    pub fn new(address: &str) -> Jobs {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build();
        Jobs {
            agent: config.into(),
            base: address.trim_end_matches('/').to_owned(),
        }
    }

    fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<(u16, Json), String> {
        let mut response = response.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
        let json = serde_json::from_str(&text).unwrap_or(Json::String(text));
        Ok((status, json))
    }

    fn get(&self, path: &str) -> Result<Json, String> {
        match Self::answer(self.agent.get(&format!("{}{path}", self.base)).call())? {
            (200, json) => Ok(json),
            (status, body) => Err(format!("Ray answered {status} to GET {path}: {body}")),
        }
    }

    /// `GET /api/version`: whether a Ray dashboard answers at the address.
    pub fn version(&self) -> Result<Json, String> {
        self.get("/api/version")
    }

    /// `POST /api/jobs/`; Ray's job id.
    pub fn submit(&self, request: &Json) -> Result<String, String> {
        let response = self.agent.post(&format!("{}/api/jobs/", self.base)).send_json(request);
        match Self::answer(response)? {
            (200, json) => Ok(json
                .get("submission_id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned()),
            (status, body) => Err(format!("Ray refused the job ({status}): {body}")),
        }
    }

    /// `GET /api/jobs/{id}`.
    pub fn status(&self, id: &str) -> Result<Json, String> {
        self.get(&format!("/api/jobs/{id}"))
    }

    /// `GET /api/jobs/{id}/logs`.
    pub fn logs(&self, id: &str) -> Result<String, String> {
        let json = self.get(&format!("/api/jobs/{id}/logs"))?;
        Ok(json.get("logs").and_then(Json::as_str).unwrap_or_default().to_owned())
    }

    /// `POST /api/jobs/{id}/stop`.
    pub fn stop(&self, id: &str) -> Result<(), String> {
        let response = self
            .agent
            .post(&format!("{}/api/jobs/{id}/stop", self.base))
            .send_empty();
        Self::answer(response).map(|_| ())
    }
}
