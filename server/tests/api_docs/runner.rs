//! Runs a document's steps in order in one `bash` process (so variables
//! one block sets are there for the next, as in a reader's terminal) and
//! checks each step's HTTP status and output.
//!
//! `curl` is a shell function that adds `--silent --show-error` and dumps
//! the response headers to a file, so the step's status is read without
//! changing what the documented command prints. The shell stops at the
//! first failing command (`set -euo pipefail`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::blocks::{Expected, Step};
use super::compare;

/// Marks the start of a step's output and its status in the shell's output.
const MARK: &str = "@@vexil-doc";

/// The shell script running `steps`.
fn script(steps: &[Step]) -> String {
    let mut script = String::from(
        "set -euo pipefail\n\
         VEXIL_DOC_HEADERS=$(mktemp)\n\
         curl() { command curl --silent --show-error -D \"$VEXIL_DOC_HEADERS\" \"$@\"; }\n",
    );
    for (i, step) in steps.iter().enumerate() {
        script.push_str(&format!(
            ": > \"$VEXIL_DOC_HEADERS\"\nprintf '\\n{MARK} start {i}\\n'\n{}\n\
             printf '\\n{MARK} status {i} %s\\n' \"$(grep -a '^HTTP/' \"$VEXIL_DOC_HEADERS\" | tail -n 1 | cut -d ' ' -f 2)\"\n",
            step.script
        ));
    }
    script
}

/// What one step printed and the status its last `curl` got (empty when
/// it ran none).
#[derive(Debug, Default)]
struct Ran {
    output: String,
    status: String,
}

/// Runs `steps` in `dir` (the files the document's commands write land
/// there) with `env` set; `Err` names the first step that failed and why.
pub fn run(steps: &[Step], dir: &Path, env: &[(&str, &str)]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|error| format!("cannot create {dir:?}: {error}"))?;
    let output = Command::new("bash")
        .arg("-c")
        .arg(script(steps))
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .map_err(|error| format!("cannot run bash: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ran = split(&stdout, steps.len());
    for (i, step) in steps.iter().enumerate() {
        let Some(ran) = ran.get(i) else {
            return Err(format!(
                "block at line {} did not finish (exit {:?}); stderr:\n{}\nstdout:\n{stdout}",
                step.line,
                output.status.code(),
                String::from_utf8_lossy(&output.stderr),
            ));
        };
        check(step, ran).map_err(|why| format!("block at line {}: {why}", step.line))?;
    }
    Ok(())
}

/// The output and status of each step that finished, in order.
fn split(stdout: &str, steps: usize) -> Vec<Ran> {
    let mut ran = Vec::with_capacity(steps);
    let mut current: Option<Ran> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix(MARK) {
            let mut words = rest.split_whitespace();
            match words.next() {
                Some("start") => current = Some(Ran::default()),
                Some("status") => {
                    if let Some(mut done) = current.take() {
                        done.status = words.nth(1).unwrap_or_default().to_owned();
                        ran.push(done);
                    }
                }
                _ => {}
            }
        } else if let Some(step) = current.as_mut() {
            step.output.push_str(line);
            step.output.push('\n');
        }
    }
    ran
}

fn check(step: &Step, ran: &Ran) -> Result<(), String> {
    if let Some(expect) = step.expect
        && ran.status != expect.to_string()
    {
        return Err(format!(
            "expected HTTP {expect}, got `{}`; output:\n{}",
            ran.status, ran.output
        ));
    }
    match &step.output {
        None => Ok(()),
        Some(Expected::Json { line, text }) => {
            let expected: Value = serde_json::from_str(text)
                .map_err(|e| format!("the json block at line {line} does not parse: {e}"))?;
            let actual: Value = serde_json::from_str(ran.output.trim())
                .map_err(|e| format!("output is not one JSON value ({e}):\n{}", ran.output))?;
            compare::matches(&expected, &actual).map_err(|why| {
                format!(
                    "output differs from the json block at line {line}: {why}\noutput:\n{}",
                    serde_json::to_string_pretty(&actual).unwrap_or_default()
                )
            })
        }
        Some(Expected::Text { line, text }) => {
            let trim = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
            if trim(text.trim()) == trim(ran.output.trim()) {
                Ok(())
            } else {
                Err(format!(
                    "output differs from the text block at line {line}:\n{}",
                    ran.output
                ))
            }
        }
    }
}
