//! Writes a realistic rwf program with N distinct tasks, for benchmarks (`benches/bench.sh`).
//!
//! ```text
//! cargo run --release --example generate -- N OUT.rwf [--per-workflow K]
//! ```
//!
//! The tasks are grouped in workflows of K calls (default 100; 0 puts every call in one
//! workflow), each task called once. Every workflow is a DAG of chains, fan-out from one node to
//! several and fan-in joins, with `after` edges; the tasks mix inline clusters with head and worker
//! groups, shared and standard-library clusters refined in place, pod templates (tolerations, node
//! selectors, volumes), runtime envs (pip, env vars), secrets, autoscaling and submitter pods. A
//! quarter of the tasks size a worker group from an input
//! (`replicas = clamp(ceil_div(rows, 1_000_000), 1, 8)`), a quarter of the calls carry an
//! override (`with { ... }`). Every parameter has a default, so a build is fully concrete, and the
//! program checks with no error and no warning. The output depends only on N and K.

use std::fmt::Write as _;
use std::process::ExitCode;

/// What a task does, which decides its shape.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Reads the workflow's source: inline CPU cluster, runtime env with pip and env vars.
    Ingest,
    /// One input: a shared cluster refined in place, secrets in `env`.
    Transform,
    /// One input: GPU workers on a standard-library pod template, a head that does no work.
    Train,
    /// Two inputs: an inline pod template with a volume, a toleration and a node selector.
    Join,
    /// One input, a scalar output nobody reads: a standard-library preset, refined.
    Evaluate,
    /// One input: autoscaling, a submitter pod, two worker groups.
    Embed,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ingest => "ingest",
            Kind::Transform => "transform",
            Kind::Train => "train",
            Kind::Join => "join",
            Kind::Evaluate => "evaluate",
            Kind::Embed => "embed",
        }
    }

    /// The worker group a sizing expression or an override resizes.
    fn group(self) -> &'static str {
        match self {
            Kind::Ingest | Kind::Join | Kind::Embed => "cpu-workers",
            Kind::Transform => "workers",
            Kind::Train | Kind::Evaluate => "gpu-workers",
        }
    }

    /// The parameters that take upstream outputs.
    fn inputs(self) -> &'static [&'static str] {
        match self {
            Kind::Ingest => &[],
            Kind::Transform | Kind::Train => &["data"],
            Kind::Join => &["left", "right"],
            Kind::Evaluate => &["model"],
            Kind::Embed => &["corpus"],
        }
    }

    /// Whether its output (a `dir`) feeds other calls.
    fn produces(self) -> bool {
        self != Kind::Evaluate
    }
}

/// A small deterministic generator (Knuth's MMIX LCG), so the output depends only on N and K.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// One call in a workflow.
struct Call {
    task: String,
    kind: Kind,
    binding: String,
    /// Bindings of the upstream calls whose outputs it reads, in parameter order.
    inputs: Vec<String>,
    /// A binding it waits for without reading it.
    after: Option<String>,
    sized: bool,
    override_variant: Option<usize>,
}

const HEADER: &str = r#"import "std/gpu"
import "std/presets"

const IMAGE = "ghcr.io/acme/ray-ml:2.40.0-py311"
const GPU_IMAGE = "ghcr.io/acme/ray-ml:2.40.0-py311-gpu"
const STORAGE = "s3://acme-ml/runs"
const SMALL_HEAD: resources = { cpu = 2, mem = 8Gi }

/// The team's CPU pool: a small head and a group of 4 workers with 8 CPUs each.
cluster cpu_pool {
  head { requests = SMALL_HEAD }
  worker "workers" { replicas = 4, requests { cpu = 8, mem = 32Gi } }
  ttl_seconds_after_finished = 120
}

/// The CPU pool with memory-heavy workers.
cluster cpu_pool_highmem = cpu_pool {
  worker "workers" { requests { mem = 64Gi } }
}
"#;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: generate N OUT.rwf [--per-workflow K]";
    let (count, out, per_workflow) = match args.as_slice() {
        [n, out] => (n.parse::<usize>().ok(), out, Some(100)),
        [n, out, flag, k] if flag == "--per-workflow" => (n.parse().ok(), out, k.parse().ok()),
        _ => (None, &String::new(), None),
    };
    let (Some(count), Some(per_workflow)) = (count, per_workflow) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    if count == 0 {
        eprintln!("{usage}\nN must be at least 1");
        return ExitCode::from(2);
    }
    let per_workflow = if per_workflow == 0 { count } else { per_workflow };
    let text = generate(count, per_workflow);
    let written = if out == "-" {
        std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes())
    } else {
        std::fs::write(out, &text)
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot write `{out}`: {error}");
            ExitCode::from(2)
        }
    }
}

fn generate(count: usize, per_workflow: usize) -> String {
    let mut rng = Lcg(count as u64 ^ ((per_workflow as u64) << 32));
    let mut text = String::with_capacity(count * 700);
    let _ = writeln!(
        text,
        "// Generated by tools/generate.rs: {count} tasks in workflows of up to {per_workflow} calls.\n"
    );
    text.push_str(HEADER);
    let mut next_task = 0;
    let mut workflow_index = 0;
    while next_task < count {
        let size = per_workflow.min(count - next_task);
        let calls = plan_workflow(&mut rng, next_task, size);
        for call in &calls {
            write_task(&mut text, &mut rng, call);
        }
        write_workflow(&mut text, workflow_index, &calls);
        next_task += size;
        workflow_index += 1;
    }
    text
}

/// Chooses the kind, inputs, sizing and override of each call of one workflow.
fn plan_workflow(rng: &mut Lcg, first_task: usize, size: usize) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::with_capacity(size);
    // Bindings whose output is a `dir`, and the most recent call nobody reads.
    let mut producers: Vec<String> = Vec::new();
    let mut last_sink: Option<String> = None;
    for position in 0..size {
        let task_index = first_task + position;
        // The first calls cover the standard-library imports whatever the rest draws.
        let kind = if producers.is_empty() {
            Kind::Ingest
        } else if position == 1 {
            Kind::Train
        } else if position == 2 {
            Kind::Evaluate
        } else {
            match rng.below(20) {
                0..=2 => Kind::Ingest,
                3..=7 => Kind::Transform,
                8..=10 => Kind::Train,
                11..=13 if producers.len() >= 2 => Kind::Join,
                11..=13 => Kind::Transform,
                14..=16 => Kind::Evaluate,
                _ => Kind::Embed,
            }
        };
        // Chains read the newest output; fan-out reads one of the 16 before it.
        let pick = |rng: &mut Lcg, exclude: Option<&String>| loop {
            let back = if rng.below(10) < 6 {
                0
            } else {
                rng.below(producers.len().min(16))
            };
            let chosen = &producers[producers.len() - 1 - back];
            if Some(chosen) != exclude {
                return chosen.clone();
            }
        };
        let inputs = match kind {
            Kind::Ingest => Vec::new(),
            Kind::Join => {
                let left = pick(rng, None);
                let right = pick(rng, Some(&left));
                vec![left, right]
            }
            _ => vec![pick(rng, None)],
        };
        let binding = format!("{}_{position}", kind.name());
        let after = if kind.produces() { last_sink.take() } else { None };
        if kind.produces() {
            producers.push(binding.clone());
        } else {
            last_sink = Some(binding.clone());
        }
        calls.push(Call {
            task: format!("{}_{task_index:06}", kind.name()),
            kind,
            binding,
            inputs,
            after,
            sized: task_index % 4 == 1,
            override_variant: (task_index % 4 == 3).then(|| rng.below(4)),
        });
    }
    calls
}

/// The task's worker count: the sizing expression, or a literal.
fn replicas(call: &Call, literal: usize) -> String {
    if call.sized {
        "replicas = clamp(ceil_div(rows, 1_000_000), 1, 8), max_replicas = 8".to_owned()
    } else {
        format!("replicas = {literal}")
    }
}

fn write_task(text: &mut String, rng: &mut Lcg, call: &Call) {
    let name = &call.task;
    let n = &name[name.len() - 6..];
    let rows = if call.sized { ", rows: int" } else { "" };
    let rows_flag = if call.sized { " --rows ${rows}" } else { "" };
    let workers = 2 + rng.below(6);
    let cpu = [2, 4, 8, 16][rng.below(4)];
    let _ = match call.kind {
        Kind::Ingest => writeln!(
            text,
            r#"
/// Ingests raw event shard group {n} into Parquet.
task {name}(source: dir{rows}) -> dir {{
  image = IMAGE
  entrypoint = "python -m acme.etl.ingest --source ${{source}}{rows_flag} --group {n} --out ${{outputs.result}}"
  ray {{
    head {{ requests {{ cpu = 2, mem = 8Gi }} }}
    worker "cpu-workers" {{ {}, requests {{ cpu = {cpu}, mem = {}Gi }} }}
    runtime_env {{
      pip = ["pyarrow==16.1.0", "s3fs==2024.6.1"]
      env_vars = {{ ACME_STAGE = "ingest", ACME_GROUP = "{n}" }}
    }}
  }}
  retries = 1
}}"#,
            replicas(call, workers),
            cpu * 4
        ),
        Kind::Transform => writeln!(
            text,
            r#"
/// Cleans and deduplicates data set {n}.
task {name}(data: dir{rows}) -> dir {{
  image = IMAGE
  entrypoint = "python -m acme.etl.transform --data ${{data}}{rows_flag} --out ${{outputs.result}}"
  env = {{ WAREHOUSE_PASSWORD = secret("warehouse", "password"), ACME_STEP = "{n}" }}
  ray = {} {{ worker "workers" {{ {} }} }}
  timeout = 2h
}}"#,
            if rng.below(3) == 0 {
                "cpu_pool_highmem"
            } else {
                "cpu_pool"
            },
            replicas(call, workers)
        ),
        Kind::Train => writeln!(
            text,
            r#"
/// Fine-tunes model variant {n} on A100 workers.
task {name}(data: dir, epochs: int = {}{rows}) -> dir {{
  image = GPU_IMAGE
  entrypoint = "python -m acme.train.fit --data ${{data}} --epochs ${{epochs}}{rows_flag} --out ${{outputs.result}}"
  ray {{
    head {{
      ray_start_params = {{ "num-cpus" = "0" }}
      requests {{ cpu = 4, mem = 16Gi }}
    }}
    worker "gpu-workers" {{
      {}
      requests {{ cpu = 8, mem = 32Gi, gpu = 1 }}
      pod_template = gpu.a100_node
    }}
    ttl_seconds_after_finished = 300
  }}
  timeout = 6h
}}"#,
            1 + rng.below(5),
            replicas(call, 1 + rng.below(4))
        ),
        Kind::Join => writeln!(
            text,
            r#"
/// Joins two intermediate tables for report {n}.
task {name}(left: dir, right: dir{rows}) -> dir {{
  image = IMAGE
  entrypoint = "python -m acme.etl.join --left ${{left}} --right ${{right}}{rows_flag} --out ${{outputs.result}}"
  ray {{
    head {{ requests {{ cpu = 2, mem = 8Gi }} }}
    worker "cpu-workers" {{
      {}
      requests {{ cpu = {cpu}, mem = {}Gi }}
      pod_template {{
        volumes = [{{ name = "scratch", empty_dir = {{ size_limit = "100Gi" }} }}]
        containers = [{{ name = "ray-worker", volume_mounts = [{{ name = "scratch", mount_path = "/scratch" }}] }}]
        tolerations = [{{ key = "dedicated", operator = "Equal", value = "etl", effect = "NoSchedule" }}]
        node_selector = {{ "acme.dev/pool" = "etl" }}
      }}
    }}
  }}
}}"#,
            replicas(call, workers),
            cpu * 4
        ),
        Kind::Evaluate => writeln!(
            text,
            r#"
/// Scores model {n} on a benchmark suite.
task {name}(model: dir, suite: str = "core-v{}"{rows}) -> float {{
  image = GPU_IMAGE
  entrypoint = "python -m acme.eval.run --model ${{model}} --suite ${{suite}}{rows_flag}"
  ray = presets.gpu_single {{ worker "gpu-workers" {{ pod_template = gpu.l4_node{} }} }}
  labels = {{ tier = "eval" }}
}}"#,
            1 + rng.below(3),
            if call.sized {
                ", replicas = clamp(ceil_div(rows, 1_000_000), 1, 8), max_replicas = 8"
            } else {
                ""
            }
        ),
        Kind::Embed => writeln!(
            text,
            r#"
/// Embeds corpus {n} for the search index.
task {name}(corpus: dir{rows}) -> dir {{
  image = GPU_IMAGE
  entrypoint = "python -m acme.search.embed --corpus ${{corpus}}{rows_flag} --out ${{outputs.result}}"
  ray {{
    head {{ ray_start_params = {{ "num-cpus" = "0" }}, requests {{ cpu = 4, mem = 16Gi }} }}
    worker "cpu-workers" {{ {}, requests {{ cpu = 4, mem = 16Gi }} }}
    worker "gpu-workers" {{
      replicas = 1, min_replicas = 0, max_replicas = 4
      requests {{ cpu = 8, mem = 32Gi, gpu = 1 }}
      pod_template = gpu.l4_node
    }}
    enable_autoscaling = true
    autoscaler {{ upscaling_mode = "Conservative", idle_timeout = 5min }}
  }}
  submitter {{ requests {{ cpu = 500m, mem = 512Mi }} }}
}}"#,
            if call.sized {
                replicas(call, 0)
            } else {
                format!("replicas = {workers}, max_replicas = {}", workers * 2)
            }
        ),
    };
}

fn write_workflow(text: &mut String, index: usize, calls: &[Call]) {
    let sized = calls.iter().any(|c| c.sized);
    let _ = writeln!(
        text,
        "\n/// Pipeline {index}: {} tasks from raw events to evaluated models.",
        calls.len()
    );
    let _ = write!(
        text,
        "workflow pipeline_{index:05}(source: dir = \"s3://acme-raw/events/p{index:05}\""
    );
    if sized {
        let _ = write!(text, ", rows: int = {}_000_000", 1 + index % 12);
    }
    let _ = writeln!(text, ") -> dir {{");
    let _ = writeln!(text, "  storage = STORAGE");
    let _ = writeln!(
        text,
        "  labels = {{ team = \"data-platform\", pipeline = \"p{index:05}\" }}"
    );
    for call in calls {
        let _ = write!(text, "  let {} = {}(", call.binding, call.task);
        let mut arguments: Vec<String> = match call.kind {
            Kind::Ingest => vec!["source = source".to_owned()],
            _ => call
                .kind
                .inputs()
                .iter()
                .zip(&call.inputs)
                .map(|(param, input)| format!("{param} = {input}"))
                .collect(),
        };
        if call.sized {
            arguments.push("rows = rows".to_owned());
        }
        let _ = write!(text, "{})", arguments.join(", "));
        if let Some(variant) = call.override_variant {
            let group = call.kind.group();
            let _ = match variant {
                0 => write!(text, "\n    with {{ retries = 3, timeout = 8h }}"),
                1 => write!(
                    text,
                    "\n    with {{ image = \"ghcr.io/acme/ray-ml:2.41.0-py311\", labels = {{ canary = \"true\" }} }}"
                ),
                2 if call.sized || call.kind == Kind::Embed => {
                    write!(text, "\n    with {{ ray {{ worker \"{group}\" {{ replicas = 2 }} }} }}")
                }
                2 => write!(text, "\n    with {{ ray {{ worker \"{group}\" {{ replicas = 6 }} }} }}"),
                _ => write!(
                    text,
                    "\n    with {{\n      env = {{ ACME_DEBUG = \"1\" }}\n      ray {{ worker \"{group}\" {{ requests {{ mem = 64Gi }} }} }}\n    }}"
                ),
            };
        }
        if let Some(after) = &call.after {
            let _ = write!(text, " after {after}");
        }
        text.push('\n');
    }
    let last = calls
        .iter()
        .rev()
        .find(|c| c.kind.produces())
        .map(|c| c.binding.as_str());
    let _ = writeln!(text, "  return {}\n}}", last.unwrap_or("source"));
}
