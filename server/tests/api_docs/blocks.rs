//! The runnable parts of a Markdown document: every ```` ```sh ```` fence
//! is a step (its info string may say `expect=<status>`), and the next
//! ```` ```json ```` or ```` ```text ```` fence before another `sh` fence
//! is what that step must print.
//!
//! Only fences are read, and only the ones this project writes (three
//! backticks at the start of a line), so a line scanner does; a full
//! CommonMark parser would read the same blocks.

/// One `sh` block and what it must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The line of the opening fence, for failure messages.
    pub line: usize,
    /// The commands, run as they are in the shared shell.
    pub script: String,
    /// The HTTP status the block's last `curl` must get.
    pub expect: Option<u16>,
    /// What the block must print.
    pub output: Option<Expected>,
}

/// What a step must print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// One JSON value, compared with volatile fields ignored.
    Json { line: usize, text: String },
    /// Text, compared line by line after trimming.
    Text { line: usize, text: String },
}

/// The steps of `markdown`, in order; an error for an unclosed fence, an
/// unknown `sh` attribute or an output block no `sh` block precedes.
pub fn steps(markdown: &str) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let opened = index + 1;
        let mut body = String::new();
        let mut closed = false;
        for (_, line) in lines.by_ref() {
            if line.trim_end() == "```" {
                closed = true;
                break;
            }
            body.push_str(line);
            body.push('\n');
        }
        if !closed {
            return Err(format!("line {opened}: the fence is never closed"));
        }
        let mut words = info.split_whitespace();
        match words.next() {
            Some("sh") => {
                let mut expect = None;
                for word in words {
                    let status = word
                        .strip_prefix("expect=")
                        .and_then(|s| s.parse::<u16>().ok())
                        .ok_or_else(|| format!("line {opened}: unknown attribute `{word}`"))?;
                    expect = Some(status);
                }
                if expect.is_none() && body.contains("curl ") {
                    return Err(format!(
                        "line {opened}: a block that runs curl needs `expect=<status>`"
                    ));
                }
                steps.push(Step {
                    line: opened,
                    script: body,
                    expect,
                    output: None,
                });
            }
            Some(kind @ ("json" | "text")) => {
                let Some(step) = steps.last_mut().filter(|s| s.output.is_none()) else {
                    // An example that is not the output of a command (a
                    // request body shown on its own, say).
                    continue;
                };
                step.output = Some(match kind {
                    "json" => Expected::Json {
                        line: opened,
                        text: body,
                    },
                    _ => Expected::Text {
                        line: opened,
                        text: body,
                    },
                });
            }
            _ => {}
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sh_blocks_take_the_next_output_block() {
        let doc = "# t\n```sh expect=201\ncurl -X POST x\n```\nprose\n```json\n{\"a\": 1}\n```\n\
                   ```sh\nX=1\n```\n```json\n{}\n```\n```json\n[]\n```\n";
        let steps = steps(doc).unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].line, 2);
        assert_eq!(steps[0].expect, Some(201));
        assert_eq!(
            steps[0].output,
            Some(Expected::Json {
                line: 6,
                text: "{\"a\": 1}\n".into()
            })
        );
        assert_eq!(steps[1].expect, None);
        assert!(matches!(
            steps[1].output,
            Some(Expected::Json { line: 12, .. })
        ));
    }

    #[test]
    fn curl_without_expect_and_unclosed_fences_are_errors() {
        assert!(
            steps("```sh\ncurl -s x\n```\n")
                .unwrap_err()
                .contains("expect=")
        );
        assert!(
            steps("```sh expect=2x\nA=1\n```\n")
                .unwrap_err()
                .contains("unknown")
        );
        assert!(steps("```sh\nA=1\n").unwrap_err().contains("never closed"));
    }
}
