//! The `rwfc` command: reads files, calls the library, renders diagnostics, sets the exit code
//! (0 ok, 1 compile errors, 2 usage or I/O errors).

mod cli;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use rwfc::diagnostics::{render, Code, Severity};
use rwfc::load::FileSystem;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rwfc",
    version,
    about = "Compiler for rwf workflows of Ray jobs on Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How diagnostics are reported, and where imports may reach.
#[derive(clap::Args)]
struct Report {
    /// How to write diagnostics: `human` (with source excerpts), `short` (one line each) or
    /// `json` (one object per line).
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// The compilation root imports must stay inside (default: each file's directory).
    #[arg(long)]
    root: Option<PathBuf>,
    /// When to colour diagnostics (`auto`: on a terminal, unless `NO_COLOR` is set).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Subcommand)]
enum Command {
    /// Type-check files and report every problem a build would find.
    Check {
        /// The `.rwf` files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        report: Report,
    },
    /// Write a RayJob per task call and a manifest per workflow.
    Build {
        /// The `.rwf` file whose workflows to build.
        file: PathBuf,
        /// Output directory, or `-` for the RayJobs as one YAML stream on stdout.
        #[arg(short, long, default_value = "out")]
        output: PathBuf,
        /// Build only this workflow.
        #[arg(long, conflicts_with = "task")]
        workflow: Option<String>,
        /// Build one task on its own; `--set` gives its parameters.
        #[arg(long)]
        task: Option<String>,
        /// Bind a parameter: `NAME=VALUE`.
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
        sets: Vec<(String, String)>,
        /// The KubeRay operator version to target (0.6 to 1.7).
        #[arg(long, default_value = "1.7")]
        kuberay_version: rwfc::emit::KubeRayVersion,
        /// Namespace of RayJobs that set none.
        #[arg(long)]
        namespace: Option<String>,
        /// The run id (default: a hash of the sources and bindings when all are bound).
        #[arg(long)]
        run_id: Option<String>,
        /// Storage prefix of task outputs for workflows that set no `storage`.
        #[arg(long)]
        storage: Option<String>,
        /// What carries the DAG: RayJob files and a WorkflowPlan, or one Argo Workflow.
        #[arg(long, value_enum, default_value_t = Target::Kuberay)]
        target: Target,
        #[command(flatten)]
        report: Report,
    },
    /// Draw a workflow's DAG: one box per task call with its worker counts.
    Graph {
        /// The `.rwf` file whose workflows to draw.
        file: PathBuf,
        /// Draw only this workflow (default: every workflow of the file).
        #[arg(long)]
        workflow: Option<String>,
        /// `dot` for Graphviz, or `mermaid`.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Bind a parameter: `NAME=VALUE`.
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
        sets: Vec<(String, String)>,
        #[command(flatten)]
        report: Report,
    },
    /// Run a workflow on a local Ray: its nodes in dependency order, independent ones at once.
    Run {
        #[command(flatten)]
        args: cli::run::RunArgs,
        #[command(flatten)]
        report: Report,
    },
    /// Print the long explanation of a diagnostic code, e.g. `rwfc explain E0202`.
    Explain {
        /// The code to explain, such as `E0202` or `W0001`.
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every code with its one-line title instead.
        #[arg(long, conflicts_with = "code")]
        list: bool,
    },
    /// Rewrite files in the canonical layout, keeping every comment.
    Fmt {
        /// The `.rwf` files or directories to format, or `-` for stdin to stdout.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing: list the files that would change, and fail if any would.
        #[arg(long)]
        check: bool,
    },
    /// Serve the Language Server Protocol on stdio, for editors.
    Lsp,
    /// Print a completion script for a shell, e.g. `rwfc completions bash > /etc/bash_completion.d/rwfc`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Clone, Copy, ValueEnum)]
enum MessageFormat {
    Human,
    Short,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    Kuberay,
    Argo,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

struct OsFileSystem;

impl FileSystem for OsFileSystem {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        read_source(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// A source file's bytes, at most one more than the library accepts (E0602 then says it is too
/// large): reading all of a huge file, or of an endless one like `/dev/zero`, would exhaust memory.
/// Only regular files are read: opening a FIFO blocks until a writer comes, maybe forever.
fn read_source(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let not_regular = || io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path)?;
    // Checked again on what was opened, in case the path changed in between.
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let limit = rwfc::syntax::MAX_FILE_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A compilation allocates many small, short-lived values (syntax tree, values, JSON); mimalloc
/// serves them faster than the system allocator, above all from several threads.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() && asks_for_json(std::env::args()) => {
            let detail = error.to_string();
            let first = detail.lines().next().unwrap_or_default().trim_start_matches("error: ");
            eprintln!("{}", render::json_error(first));
            return ExitCode::from(2);
        }
        Err(error) => error.exit(),
    };
    let worker = std::thread::Builder::new()
        .stack_size(rwfc::STACK_BYTES)
        .spawn(move || run(cli));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal compiler error; please report it with the input that caused it");
            ExitCode::from(101)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    let sets_and_report = match &cli.command {
        Command::Build { sets, report, .. } | Command::Graph { sets, report, .. } => Some((sets, report)),
        Command::Run { args, report } => Some((&args.sets, report)),
        _ => None,
    };
    if let Some((sets, report)) = sets_and_report {
        if let Some(name) = repeated_set(sets) {
            return fail(
                report,
                &format!("`--set {name}` is given more than once; give each parameter one value"),
            );
        }
    }
    match cli.command {
        Command::Explain { list: true, .. } => {
            let list: String = Code::ALL
                .iter()
                .map(|code| format!("{}  {}\n", code.as_str(), code.title()))
                .collect();
            // A closed pipe (`rwfc explain --list | head`) is not an error.
            let _ = io::stdout().lock().write_all(list.as_bytes());
            ExitCode::SUCCESS
        }
        Command::Explain { code, .. } => explain(code.as_deref().unwrap_or_default()),
        Command::Run { args, report } => cli::run::run(args, &report),
        Command::Completions { shell } => {
            let shell = match shell {
                CompletionShell::Bash => clap_complete::Shell::Bash,
                CompletionShell::Zsh => clap_complete::Shell::Zsh,
                CompletionShell::Fish => clap_complete::Shell::Fish,
            };
            // Generated into memory: clap_complete panics when it cannot write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rwfc", &mut script);
            let _ = io::stdout().lock().write_all(&script);
            ExitCode::SUCCESS
        }
        Command::Check { files, report } => check(&files, &report),
        Command::Lsp => lsp(),
        Command::Fmt { files, check } => {
            let flags = Report {
                message_format: MessageFormat::Human,
                deny_warnings: false,
                root: None,
                color: Color::Auto,
            };
            cli::fmt::run(&files, check, |diagnostics, sources| {
                report(diagnostics, sources, &flags);
            })
        }
        Command::Graph {
            file,
            workflow,
            format,
            sets,
            report,
        } => {
            let options = rwfc::BuildOptions {
                workflow,
                sets,
                ..rwfc::BuildOptions::default()
            };
            let format = match format {
                GraphFormat::Dot => rwfc::graph::Format::Dot,
                GraphFormat::Mermaid => rwfc::graph::Format::Mermaid,
            };
            graph(&file, &options, format, &report)
        }
        Command::Build {
            file,
            output,
            workflow,
            task,
            sets,
            kuberay_version,
            namespace,
            run_id,
            storage,
            target,
            report,
        } => {
            let target = match target {
                Target::Kuberay => rwfc::plan::Target::Kuberay,
                Target::Argo => rwfc::plan::Target::Argo,
            };
            if target == rwfc::plan::Target::Argo && kuberay_version < rwfc::emit::KubeRayVersion::V1_0 {
                return fail(
                    &report,
                    "`--target argo` needs KubeRay 1.0 or later (`runtimeEnvYAML`, `ray.io/v1`): give `--kuberay-version 1.0` or later",
                );
            }
            let options = rwfc::BuildOptions {
                workflow,
                task,
                sets,
                run_id,
                storage,
                namespace,
                kuberay: kuberay_version,
                storage_first: false,
                target,
            };
            build(&file, &output, &options, &report)
        }
    }
}

fn parse_set(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

/// The first parameter that `--set` binds twice: the later value must not win silently.
fn repeated_set(sets: &[(String, String)]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    sets.iter()
        .map(|(name, _)| name.as_str())
        .find(|name| !seen.insert(*name))
}

/// A file read, with the root it is compiled in and its path relative to that root.
struct Input {
    bytes: Vec<u8>,
    root: PathBuf,
    main: String,
}

fn read_input(file: &Path, root: Option<&Path>) -> Result<Input, String> {
    let bytes = read_source(file).map_err(|error| format!("cannot read `{}`: {error}", file.display()))?;
    let root = root
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.parent().map(Path::to_path_buf).unwrap_or_default());
    let root = if root.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        root
    };
    let main = relative_to(file, &root)
        .ok_or_else(|| format!("`{}` is not inside the root `{}`", file.display(), root.display()))?;
    Ok(Input { bytes, root, main })
}

/// RayJobs created all at once start all at once: a workflow whose steps wait for one another
/// needs something that keeps their order.
fn order_warning(workflow: &rwfc::BuiltWorkflow) -> Option<String> {
    const SHOWN: usize = 3;
    if workflow.dependencies.is_empty() {
        return None;
    }
    let mut waits: Vec<String> = workflow
        .dependencies
        .iter()
        .take(SHOWN)
        .map(|(node, upstream)| format!("`{node}` waits for `{}`", upstream.join("`, `")))
        .collect();
    if workflow.dependencies.len() > SHOWN {
        waits.push(format!("{} more wait", workflow.dependencies.len() - SHOWN));
    }
    Some(format!(
        "warning: the RayJobs of `{}` depend on one another ({}); `kubectl create` would start them all at once: run the workflow with `--target argo` on a cluster or `rwfc run` on this machine, or create each only after the ones it waits for have succeeded",
        workflow.name,
        waits.join("; "),
    ))
}

/// Whether the command line asks for JSON diagnostics, read before clap could parse it: a
/// usage error is then one JSON line too.
fn asks_for_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().any(|a| a == "--message-format=json")
        || args.windows(2).any(|w| w[0] == "--message-format" && w[1] == "json")
}

/// A usage or I/O error (exit 2), in the format diagnostics are written in.
fn fail(flags: &Report, message: &str) -> ExitCode {
    match flags.message_format {
        MessageFormat::Json => eprintln!("{}", render::json_error(message)),
        MessageFormat::Human | MessageFormat::Short => eprintln!("error: {message}"),
    }
    ExitCode::from(2)
}

/// Writes diagnostics to stderr; true when they fail the run.
fn report(diagnostics: &[rwfc::diagnostics::Diagnostic], sources: &rwfc::source::SourceMap, report: &Report) -> bool {
    let color = match report.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && io::stderr().is_terminal(),
    };
    let mut failed = false;
    let mut stderr = io::stderr().lock();
    for diagnostic in diagnostics {
        failed |= diagnostic.severity() == Severity::Error || report.deny_warnings;
        let text = match report.message_format {
            MessageFormat::Human => render::human(diagnostic, sources, color),
            MessageFormat::Short => render::short(diagnostic, sources),
            MessageFormat::Json => render::json(diagnostic, sources),
        };
        let _ = writeln!(stderr, "{}", text.trim_end());
    }
    failed
}

fn build(file: &Path, output: &Path, options: &rwfc::BuildOptions, flags: &Report) -> ExitCode {
    let input = match read_input(file, flags.root.as_deref()) {
        Ok(input) => input,
        Err(message) => return fail(flags, &message),
    };
    let built = rwfc::build(&OsFileSystem, &input.root, &input.main, &input.bytes, options);
    let failed = report(&built.diagnostics, &built.sources, flags);
    let workflows = match built.workflows {
        Ok(workflows) => workflows,
        Err(rwfc::UsageError(message)) => return fail(flags, &message),
    };
    if failed {
        return ExitCode::from(1);
    }
    let to_stdout = output.as_os_str() == "-";
    for workflow in &workflows {
        let run_id_hint = if workflow.unbound.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = workflow.unbound.iter().map(|n| format!("`{n}`")).collect();
            format!(
                " (the run id waits for {} too: bind it with `--set NAME=VALUE`, or give `--run-id ID`)",
                names.join(", ")
            )
        };
        for deferred in &workflow.deferred {
            let hint = if deferred.inputs.iter().any(|i| i == "the run id") {
                run_id_hint.as_str()
            } else {
                ""
            };
            eprintln!(
                "note: `{}/{}` waits for {}{hint}; its RayJob is a template in `{}/workflow.yaml` with {} deferred field(s): {}",
                workflow.name,
                deferred.node,
                deferred.inputs.join(", "),
                workflow.name,
                deferred.fields.len(),
                deferred.fields.join(", ")
            );
        }
    }
    for workflow in &workflows {
        if let Some(warning) = order_warning(workflow) {
            eprintln!("{warning}");
        }
    }
    if to_stdout {
        let stream: Vec<&str> = workflows
            .iter()
            .flat_map(|w| {
                w.rayjobs
                    .iter()
                    .filter_map(|&i| w.files.get(i))
                    .map(|(_, text)| text.as_str())
            })
            .collect();
        if stream.is_empty() {
            eprintln!("error: nothing concrete to write: every RayJob waits for run-time values (see the notes above)");
            return ExitCode::from(1);
        }
        // Piece by piece: joining the texts first would copy all of them once more.
        let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
        let _ = stream
            .iter()
            .enumerate()
            .try_for_each(|(i, text)| {
                if i > 0 {
                    stdout.write_all(b"---\n")?;
                }
                stdout.write_all(text.as_bytes())
            })
            .and_then(|()| stdout.flush());
        return ExitCode::SUCCESS;
    }
    let _lock = match cli::output::OutputLock::take(output) {
        Ok(lock) => lock,
        Err(error) => return fail(flags, &format!("cannot lock `{}`: {error}", output.display())),
    };
    // Creating thousands of files is mostly the kernel's work, and it goes as well on every core:
    // workflows are spread over the threads when there are enough of them, else each
    // workflow's files are (a program of one large workflow gains as much).
    let threads = rwfc::parallel::available_threads();
    let written: Vec<io::Result<()>> = if workflows.len() >= threads {
        rwfc::parallel::map(&workflows, threads, |workflow| {
            cli::output::write_atomically(output, &workflow.name, &workflow.files, 1)
        })
    } else {
        workflows
            .iter()
            .map(|workflow| cli::output::write_atomically(output, &workflow.name, &workflow.files, threads))
            .collect()
    };
    match workflows
        .iter()
        .zip(written)
        .find_map(|(workflow, result)| Some(workflow).zip(result.err()))
    {
        Some((workflow, error)) => fail(
            flags,
            &format!("cannot write `{}`: {error}", output.join(&workflow.name).display()),
        ),
        None => {
            for workflow in &workflows {
                let holds = match options.target {
                    rwfc::plan::Target::Argo => "an Argo Workflow and its namespace setup".to_owned(),
                    rwfc::plan::Target::Kuberay => summary(workflow),
                };
                eprintln!("wrote {}/: {holds}", output.join(&workflow.name).display());
            }
            ExitCode::SUCCESS
        }
    }
}

/// What a workflow folder holds: `3 RayJobs, 1 deferred`.
fn summary(workflow: &rwfc::BuiltWorkflow) -> String {
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut text = count(workflow.rayjobs.len(), "RayJob");
    if !workflow.deferred.is_empty() {
        text.push_str(&format!(", {} deferred", workflow.deferred.len()));
    }
    text
}

fn graph(file: &Path, options: &rwfc::BuildOptions, format: rwfc::graph::Format, flags: &Report) -> ExitCode {
    let input = match read_input(file, flags.root.as_deref()) {
        Ok(input) => input,
        Err(message) => return fail(flags, &message),
    };
    let graphed = rwfc::graph(&OsFileSystem, &input.root, &input.main, &input.bytes, options, format);
    let failed = report(&graphed.diagnostics, &graphed.sources, flags);
    match graphed.text {
        Err(rwfc::UsageError(message)) => fail(flags, &message),
        Ok(_) if failed => ExitCode::from(1),
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

fn explain(code: &str) -> ExitCode {
    match Code::parse(code) {
        Some(code) => {
            print!("{}", code.explanation());
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: `{code}` is not a diagnostic code of rwfc (codes look like E0202 or W0001)");
            ExitCode::from(2)
        }
    }
}

fn check(files: &[PathBuf], flags: &Report) -> ExitCode {
    let mut failed = false;
    for file in files {
        let input = match read_input(file, flags.root.as_deref()) {
            Ok(input) => input,
            Err(message) => return fail(flags, &message),
        };
        let checked = rwfc::check(&OsFileSystem, &input.root, &input.main, &input.bytes);
        failed |= report(&checked.diagnostics, &checked.sources, flags);
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `rwfc lsp`: the library answers, this moves the messages over stdio.
fn lsp() -> ExitCode {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let served = rwfc::lsp::serve(&connection, Box::new(OsFileSystem));
    drop(connection);
    match served.and_then(|()| io_threads.join().map_err(|e| e.to_string())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: language server: {error}");
            ExitCode::from(2)
        }
    }
}

/// `file` relative to `root`, with `/` separators.
fn relative_to(file: &Path, root: &Path) -> Option<String> {
    let file = std::fs::canonicalize(file).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    let relative = file.strip_prefix(&root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// `rwfc --help` and every `rwfc SUBCOMMAND --help` describe each subcommand and argument.
    #[test]
    fn every_subcommand_and_argument_has_help() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        let mut missing = Vec::new();
        for command in cli.get_subcommands() {
            if command.get_about().is_none() {
                missing.push(command.get_name().to_owned());
            }
            for argument in command.get_arguments() {
                if argument.get_help().is_none() {
                    missing.push(format!("{} {}", command.get_name(), argument.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "without help: {missing:?}");
    }
}
