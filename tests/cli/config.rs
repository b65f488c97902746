//! The binary's configuration as an operator meets it: the built-in demo works from any directory, an
//! operator's file replaces it whole, `check-config` refuses what `serve` refuses, errors name the file or the
//! variable a bad key came from and never echo a value, the demo login is never served on a public address,
//! and start-up says what was loaded and which upstream is used, in plain text or all-JSON logs.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tvbridge");

/// The binary in `cwd` with none of the caller's `TVBRIDGE*`, `RUST_LOG` or upstream variables.
fn tvbridge(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("TVBRIDGE") || k == "RUST_LOG" || k.starts_with("CAPITAL_") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

fn output(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("tvbridge runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// `check-config` in `cwd` with `args` and `env`: (success, stdout, stderr).
fn check_config(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = tvbridge(cwd);
    cmd.args(args).arg("check-config").envs(env.iter().copied());
    let (out, stdout, stderr) = output(&mut cmd);
    if !out.status.success() {
        assert_eq!(
            out.status.code(),
            Some(2),
            "configuration errors exit with 2: {stderr}"
        );
    }
    (out.status.success(), stdout, stderr)
}

fn file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("operator.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `serve` until its start-up lines are out (or it exits), then stops it; returns (exited early with
/// this status, stdout, stderr).
fn serve_briefly(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut child: Child = tvbridge(cwd)
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let start = Instant::now();
    let mut exited = None;
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let up = line.contains("tvbridge listening");
            lines.push(line);
            if up {
                // The text banner follows the log line.
                std::thread::sleep(Duration::from_millis(300));
                lines.extend(rx.try_iter());
                break;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            exited = status.code();
            lines.extend(rx.try_iter());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    (exited, lines.join("\n"), stderr)
}

#[test]
fn the_built_in_demo_runs_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = check_config(dir.path(), &[], &[]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("# effective configuration (secrets masked), from the built-in paper demo"));
    let doc: toml::Value = toml::from_str(&stdout).unwrap();
    assert_eq!(
        doc["auth"]["users"][0]["login"].as_str(),
        Some("demo"),
        "{stdout}"
    );
    assert_eq!(doc["backend"]["kind"].as_str(), Some("paper"));

    // And the server started there lets the demo user in.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let (exited, stdout, stderr) = serve_briefly(dir.path(), &["--listen", &listen], &[]);
    assert_eq!(exited, None, "{stderr}");
    assert!(stdout.contains("password 'demo'"), "{stdout}");
    assert!(
        stdout.contains("the built-in paper demo configuration"),
        "start-up does not say what it loaded:\n{stdout}"
    );
}

#[test]
fn an_operator_file_replaces_the_demo_users_and_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "[[auth.users]]\nlogin = \"alice\"\npassword = \"alice-pass\"\n",
    );
    let (ok, stdout, stderr) = check_config(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(&format!("from file {}", path.display())),
        "{stdout}"
    );
    let doc: toml::Value = toml::from_str(&stdout).unwrap();
    let users = doc["auth"]["users"].as_array().unwrap();
    assert_eq!(
        users.len(),
        1,
        "demo/demo stayed beside the operator's users: {stdout}"
    );
    assert_eq!(users[0]["login"].as_str(), Some("alice"));

    // TVBRIDGE_CONFIG names the file too (for images, where arguments are fixed).
    let (ok, stdout, _) = check_config(dir.path(), &[], &[("TVBRIDGE_CONFIG", path.to_str().unwrap())]);
    assert!(ok && stdout.contains("login = \"alice\"") && !stdout.contains("login = \"demo\""));
}

#[test]
fn start_up_names_the_variables_applied_never_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "0123456789abcdef0123456789abcdef-secret";
    let (ok, stdout, stderr) = check_config(
        dir.path(),
        &[],
        &[
            ("TVBRIDGE__AUTH__TOKEN_SECRET", secret),
            ("TVBRIDGE__SERVER__MAX_BODY_BYTES", "4096"),
        ],
    );
    assert!(ok, "{stderr}");
    let header = stdout.lines().next().unwrap();
    assert!(
        header.contains("TVBRIDGE__AUTH__TOKEN_SECRET")
            && header.contains("TVBRIDGE__SERVER__MAX_BODY_BYTES"),
        "{header}"
    );
    assert!(!stdout.contains(secret), "{stdout}");
}

#[test]
fn a_malformed_users_variable_never_echoes_a_password() {
    let dir = tempfile::tempdir().unwrap();
    for value in [
        "[{login=\"alice\",password=\"s3cret-pw\"",
        "{login=\"alice\",password=\"s3cret-pw\"}",
        "[{login=\"alice\",password=123456789}]",
        "[{login=\"alice\",passwd=\"s3cret-pw\"}]",
        "s3cret-pw",
    ] {
        let (ok, _, stderr) = check_config(dir.path(), &[], &[("TVBRIDGE__AUTH__USERS", value)]);
        assert!(!ok, "{value} was accepted");
        assert!(
            !stderr.contains("s3cret-pw") && !stderr.contains("123456789"),
            "the password is in the error: {stderr}"
        );
        assert!(stderr.contains("auth.users"), "{stderr}");
        assert!(
            stderr.contains("(from environment variable TVBRIDGE__AUTH__USERS)"),
            "the variable is not named: {stderr}"
        );
    }
}

#[test]
fn a_syntax_error_in_a_file_names_the_place_not_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "[[auth.users]]\nlogin = \"alice\"\npassword = \"hunter2-secret\n",
    );
    let (ok, _, stderr) = check_config(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
}

#[test]
fn a_problem_names_where_its_key_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "[auth]\ntoken_secret = \"short\"\n");
    let (ok, _, stderr) = check_config(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(
        stderr.contains("auth.token_secret") && stderr.contains(&format!("(in {})", path.display())),
        "{stderr}"
    );
    let (ok, _, stderr) = check_config(dir.path(), &[], &[("TVBRIDGE__AUTH__TOKEN_SECRET", "short")]);
    assert!(!ok);
    assert!(
        stderr.contains("(from environment variable TVBRIDGE__AUTH__TOKEN_SECRET)"),
        "{stderr}"
    );
    assert!(!stderr.contains("\"short\""), "{stderr}");
}

#[test]
fn check_config_refuses_what_serve_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "[backend]\nkind = \"capital\"\nlogin = \"mapped\"\n\
         [[backend.users]]\nlogin = \"alice\"\nidentifier_env = \"TVB_T_ALICE_ID\"\npassword_env = \"TVB_T_ALICE_PW\"\n\
         [[auth.users]]\nlogin = \"alice\"\npassword = \"alice-pass\"\n",
    );
    let args = ["--config", path.to_str().unwrap()];
    let (ok, _, checked) = check_config(dir.path(), &args, &[]);
    assert!(!ok, "check-config passed a configuration serve refuses");
    for var in ["CAPITAL_API_KEY", "TVB_T_ALICE_ID", "TVB_T_ALICE_PW"] {
        assert!(checked.contains(var), "{var} is not named: {checked}");
    }
    let (exited, _, served) = serve_briefly(dir.path(), &args, &[]);
    assert_eq!(exited, Some(2), "{served}");
    assert_eq!(served, checked, "serve and check-config disagree");

    let (ok, _, stderr) = check_config(
        dir.path(),
        &args,
        &[
            ("CAPITAL_API_KEY", "k"),
            ("TVB_T_ALICE_ID", "alice@example.com"),
            ("TVB_T_ALICE_PW", "pw"),
        ],
    );
    assert!(ok, "{stderr}");
}

#[test]
fn the_demo_login_is_never_served_on_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = check_config(dir.path(), &[], &[("TVBRIDGE__SERVER__LISTEN", "0.0.0.0:8080")]);
    assert!(!ok);
    assert!(
        stderr.contains("demo") && stderr.contains("0.0.0.0:8080"),
        "{stderr}"
    );
    let port = free_port();
    let (exited, _, stderr) = serve_briefly(dir.path(), &["--listen", &format!("0.0.0.0:{port}")], &[]);
    assert_eq!(exited, Some(2), "{stderr}");
    assert!(stderr.contains("demo"), "{stderr}");
    // With the operator's own users it may listen anywhere.
    let (ok, _, stderr) = check_config(
        dir.path(),
        &[],
        &[
            ("TVBRIDGE__SERVER__LISTEN", "0.0.0.0:8080"),
            (
                "TVBRIDGE__AUTH__USERS",
                "[{login=\"alice\",password=\"alice-pass\"}]",
            ),
        ],
    );
    assert!(ok, "{stderr}");
}

#[test]
fn piped_logs_carry_no_colour_codes_and_json_mode_is_json_only() {
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let (exited, text, stderr) = serve_briefly(dir.path(), &["--listen", &listen], &[]);
    assert_eq!(exited, None, "{stderr}");
    assert!(!text.contains('\u{1b}'), "ANSI codes in piped output:\n{text}");

    let listen = format!("127.0.0.1:{}", free_port());
    let (exited, json, stderr) = serve_briefly(
        dir.path(),
        &["--listen", &listen],
        &[("TVBRIDGE__SERVER__LOG_FORMAT", "json")],
    );
    assert_eq!(exited, None, "{stderr}");
    assert!(json.lines().count() >= 2, "{json}");
    for line in json.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(!line.contains("password"), "{line}");
        if v["fields"]["message"] == "tvbridge listening" {
            assert_eq!(v["fields"]["backend"], "paper", "{line}");
        }
    }
    assert!(json.contains("tvbridge listening"), "{json}");
}

#[test]
fn start_up_names_the_upstream_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "[backend]\nkind = \"capital\"\nenvironment = \"live\"\n",
    );
    let listen = format!("127.0.0.1:{}", free_port());
    let (exited, stdout, stderr) = serve_briefly(
        dir.path(),
        &["--config", path.to_str().unwrap(), "--listen", &listen],
        &[("CAPITAL_API_KEY", "k-not-printed")],
    );
    assert_eq!(exited, None, "{stderr}");
    assert!(
        stdout.contains(
            "backend: capital (live environment), REST https://api-capital.backend-capital.com/api/v1"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("k-not-printed"), "{stdout}");
}
