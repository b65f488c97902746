//! The `tvbridge` binary: `--version`, `check-config` (effective TOML, secrets masked), configuration
//! errors that name the key, and `serve` end to end over a real socket with a graceful SIGTERM shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tvbridge");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// A token secret of 40 characters that must never be printed.
const SECRET: &str = "s3cr3t-0123456789-abcdefghij-KLMNOPQRSTU";

/// The binary with a clean environment: no `TVBRIDGE__*` or `RUST_LOG` from the caller's shell.
fn tvbridge(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("TVBRIDGE__") || k == "RUST_LOG" {
            cmd.env_remove(&key);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

fn repo() -> PathBuf {
    PathBuf::from(MANIFEST_DIR)
}

fn run(cmd: &mut Command) -> (Output, String, String) {
    let out = cmd.output().expect("tvbridge runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// A config file in a fresh temp dir; returns the dir (keep it alive) and the file.
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tvbridge.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Runs `check-config` with `args` and `env` in `cwd`, expecting failure; returns stderr.
fn config_error(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = tvbridge(cwd);
    cmd.args(args).arg("check-config");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (out, stdout, stderr) = run(&mut cmd);
    assert!(
        !out.status.success(),
        "{args:?} {env:?} should fail; stdout:\n{stdout}"
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "configuration errors exit with 2: {stderr}"
    );
    assert!(stderr.starts_with("tvbridge: "), "stderr: {stderr}");
    stderr
}

#[test]
fn version_prints_the_cargo_version() {
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = run(tvbridge(dir.path()).arg("--version"));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), format!("tvbridge {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn check_config_prints_the_effective_config_with_secrets_masked() {
    let (out, stdout, stderr) = run(tvbridge(&repo())
        .arg("check-config")
        .env("TVBRIDGE__AUTH__TOKEN_SECRET", SECRET));
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "the token secret leaked:\n{stdout}{stderr}"
    );
    assert!(stdout.contains("********"), "{stdout}");

    let doc: toml::Value = toml::from_str(&stdout).unwrap_or_else(|e| panic!("not TOML ({e}):\n{stdout}"));
    assert_eq!(doc["auth"]["token_secret"].as_str(), Some("********"));
    let users = doc["auth"]["users"].as_array().expect("auth.users");
    let demo = users
        .iter()
        .find(|u| u["login"].as_str() == Some("demo"))
        .expect("the demo user");
    assert_eq!(
        demo["password"].as_str(),
        Some("********"),
        "the demo password is not masked"
    );
    assert!(!stdout.contains("password = \"demo\""), "{stdout}");
    // The values of the built-in configuration (config/default.toml, compiled in) are there.
    assert_eq!(doc["server"]["listen"].as_str(), Some("127.0.0.1:8080"));
    assert_eq!(doc["server"]["base_path"].as_str(), Some("/api"));
    assert_eq!(doc["backend"]["kind"].as_str(), Some("paper"));
    assert_eq!(
        doc["tradingview"]["pulling_interval"]["quotes"].as_integer(),
        Some(500)
    );
}

#[test]
fn passwords_from_the_environment_are_masked_too() {
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = run(tvbridge(dir.path()).arg("check-config").env(
        "TVBRIDGE__AUTH__USERS",
        "[{login=\"alice\",password=\"alice-very-secret-pw\"}]",
    ));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("login = \"alice\""), "{stdout}");
    assert!(!stdout.contains("alice-very-secret-pw"), "{stdout}");
}

#[test]
fn environment_overrides_the_file() {
    let (out, stdout, stderr) = run(tvbridge(&repo())
        .arg("check-config")
        .env("TVBRIDGE__SERVER__LISTEN", "127.0.0.1:9999"));
    assert!(out.status.success(), "{stderr}");
    let doc: toml::Value = toml::from_str(&stdout).unwrap();
    assert_eq!(
        doc["server"]["listen"].as_str(),
        Some("127.0.0.1:9999"),
        "{stdout}"
    );
    // Keys not overridden keep the file's value.
    assert_eq!(doc["server"]["max_body_bytes"].as_integer(), Some(65536));
}

#[test]
fn without_a_config_file_the_defaults_apply() {
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = run(tvbridge(dir.path()).arg("check-config"));
    assert!(out.status.success(), "{stderr}");
    let doc: toml::Value = toml::from_str(&stdout).unwrap();
    assert_eq!(doc["server"]["listen"].as_str(), Some("127.0.0.1:8080"));
    assert_eq!(doc["auth"]["token_ttl_secs"].as_integer(), Some(1200));
}

#[test]
fn an_unknown_key_in_the_file_is_named() {
    let (dir, path) = config_file("[server]\nlisten_addr = \"x\"\n");
    let stderr = config_error(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    let expected = format!(
        "tvbridge: invalid configuration: server.listen_addr: unknown key 'listen_addr' (expected one of: \
         listen, base_path, cors_origins, max_body_bytes, log_format, header_read_timeout_secs, \
         body_read_timeout_secs, idle_timeout_secs, max_connections, max_streams_per_session, \
         max_streams_per_user, shutdown_grace_secs) (in {})",
        path.display()
    );
    assert_eq!(stderr.trim(), expected);
}

#[test]
fn an_unknown_environment_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = config_error(dir.path(), &[], &[("TVBRIDGE__SERVER__BOGUS", "1")]);
    assert!(stderr.contains("unknown key 'bogus'"), "{stderr}");
    assert!(
        stderr.contains("(from environment variable TVBRIDGE__SERVER__BOGUS)"),
        "{stderr}"
    );
}

#[test]
fn a_bad_value_is_named_with_its_key() {
    let (dir, path) = config_file("[tradingview.pulling_interval]\nquotes = 5000\n");
    let stderr = config_error(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    assert!(stderr.contains("tradingview.pulling_interval.quotes"), "{stderr}");
    assert!(stderr.contains("5000"), "{stderr}");

    let (dir, path) = config_file("[server]\nlisten = \"not an address\"\n");
    let stderr = config_error(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    assert!(stderr.contains("server.listen"), "{stderr}");

    let (dir, path) = config_file("[auth]\ntoken_secret = \"short\"\n");
    let stderr = config_error(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    assert!(stderr.contains("auth.token_secret"), "{stderr}");
    assert!(
        !stderr.contains("\"short\""),
        "the rejected secret is echoed: {stderr}"
    );
}

#[test]
fn a_missing_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope").join("tvbridge.toml");
    let stderr = config_error(dir.path(), &["--config", missing.to_str().unwrap()], &[]);
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn an_unknown_backend_kind_is_named() {
    let (dir, path) = config_file("[backend]\nkind = \"nope\"\n");
    let stderr = config_error(dir.path(), &["--config", path.to_str().unwrap()], &[]);
    assert!(stderr.contains("nope"), "{stderr}");
    assert!(stderr.contains("backend.kind"), "{stderr}");
    assert!(
        stderr.contains("paper"),
        "the message should list the known kinds: {stderr}"
    );
}

#[test]
fn serve_refuses_a_bad_config_without_starting() {
    let (dir, path) = config_file("[server]\nlisten_addr = \"x\"\n");
    let mut child = tvbridge(dir.path())
        .args(["--config", path.to_str().unwrap(), "serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(10));
    let _ = child.kill();
    let status = status.expect("serve with a bad config must exit at once");
    assert_eq!(status.code(), Some(2));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("listen_addr"), "{stderr}");
}

#[test]
fn serve_names_the_missing_capital_api_key_variable() {
    let (dir, path) =
        config_file("[backend]\nkind = \"capital\"\napi_key_env = \"TVB_CLI_TEST_NO_SUCH_KEY\"\n");
    let mut child = tvbridge(dir.path())
        .args(["--config", path.to_str().unwrap(), "serve"])
        .env_remove("TVB_CLI_TEST_NO_SUCH_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(10));
    let _ = child.kill();
    let status = status.expect("serve without the API key must exit at once");
    assert!(!status.success());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("TVB_CLI_TEST_NO_SUCH_KEY"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------------------
// serve, end to end
// ---------------------------------------------------------------------------------------------------------

/// A running server; killed on drop so a failing test never leaves one behind.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    stdout: Arc<Mutex<String>>,
    /// The embedded store's directory when the test named none: each server its own, so servers
    /// started side by side never share (and lock each other out of) the repository's `data/`.
    _data: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port` on a fresh connection: (status, body), or `None` when nothing
/// answers.
pub(crate) fn http_to(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    form: Option<&str>,
) -> Option<(u16, String)> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
        port
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = form.unwrap_or_default();
    if form.is_some() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

impl Server {
    /// Starts `tvbridge <args>` in the repository (the built-in demo configuration applies) and waits
    /// until `/healthz` answers. Its embedded store is in a temp dir of its own.
    fn start(args: &[&str], port: u16) -> Server {
        Server::start_with(args, port, &[])
    }

    /// [`Server::start`] with extra environment variables (its own data dir unless they name one).
    pub(crate) fn start_with(args: &[&str], port: u16, env: &[(&str, &str)]) -> Server {
        let mut cmd = tvbridge(&repo());
        let data = if env.iter().any(|(k, _)| *k == "TVBRIDGE__STORE__DATA_DIR") {
            None
        } else {
            let dir = tempfile::tempdir().unwrap();
            cmd.env("TVBRIDGE__STORE__DATA_DIR", dir.path());
            Some(dir)
        };
        let mut child = cmd
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tvbridge starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let pipe = child.stdout.take().unwrap();
        let sink = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut server = Server {
            child,
            port,
            stdout,
            _data: data,
        };
        let start = Instant::now();
        loop {
            if let Some((200, _)) = server.http("GET", "/healthz", None, None) {
                return server;
            }
            if let Some(status) = server.child.try_wait().unwrap() {
                let mut stderr = String::new();
                let _ = server.child.stderr.take().unwrap().read_to_string(&mut stderr);
                panic!(
                    "tvbridge exited with {status} before answering:\n{stderr}\n{}",
                    server.stdout()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no /healthz answer within 20 s:\n{}",
                server.stdout()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// One HTTP/1.1 request on a fresh connection: (status, body), or `None` when nothing answers.
    pub(crate) fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        form: Option<&str>,
    ) -> Option<(u16, String)> {
        http_to(self.port, method, path, token, form)
    }

    /// The process id (to signal it from another thread).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        form: Option<&str>,
    ) -> serde_json::Value {
        let (status, body) = self
            .http(method, path, token, form)
            .unwrap_or_else(|| panic!("{method} {path}: no answer"));
        assert_eq!(status, 200, "{method} {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}"))
    }

    /// Kills the process at once (SIGKILL: no shutdown code runs) and waits for it.
    pub(crate) fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to 10 s for the exit status.
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success(), "kill -TERM {pid} failed");
        wait_timeout(&mut self.child, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("tvbridge did not stop within 10 s of SIGTERM:\n{}", self.stdout()))
    }
}

#[test]
fn serve_end_to_end_and_stop_on_sigterm() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server::start(&["serve", "--listen", &listen], port);

    let health = server.json("GET", "/healthz", None, None);
    assert_eq!(health["s"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));

    let out = server.stdout();
    assert!(
        out.contains(&format!("http://{listen}/api")) && out.contains("'demo'"),
        "stdout does not show the API address and the demo login:\n{out}"
    );

    // A real login and a real call over the socket.
    let auth = server.json(
        "POST",
        "/api/authorize",
        None,
        Some("login=demo&password=demo&locale=en"),
    );
    assert_eq!(auth["s"], "ok", "{auth}");
    let token = auth["d"]["access_token"].as_str().unwrap().to_owned();
    let accounts = server.json("GET", "/api/accounts?locale=en", Some(&token), None);
    assert_eq!(accounts["d"].as_array().map(Vec::len), Some(2), "{accounts}");
    let (status, _) = server.http("GET", "/api/accounts", None, None).unwrap();
    assert_eq!(status, 401);

    let status = server.terminate();
    assert!(
        status.success(),
        "tvbridge exited with {status} after SIGTERM:\n{}",
        server.stdout()
    );
    // Give the reader thread a moment to drain the pipe.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        server.stdout().contains("shut down cleanly"),
        "no clean-shutdown log line:\n{}",
        server.stdout()
    );
    assert!(
        server.http("GET", "/healthz", None, None).is_none(),
        "the port still answers after shutdown"
    );
}

/// `(token, orders of demo-net)` from a server.
fn demo_orders(server: &Server) -> (String, serde_json::Value) {
    let auth = server.json(
        "POST",
        "/api/authorize",
        None,
        Some("login=demo&password=demo&locale=en"),
    );
    let token = auth["d"]["access_token"].as_str().unwrap().to_owned();
    let orders = server.json(
        "GET",
        "/api/accounts/demo-net/orders?locale=en",
        Some(&token),
        None,
    );
    (token, orders["d"].clone())
}

#[test]
fn a_kill_9_loses_no_order_the_paper_broker_acknowledged() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let env = [
        ("TVBRIDGE__STORE__KIND", "embedded"),
        ("TVBRIDGE__STORE__DATA_DIR", data_dir.as_str()),
    ];
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server::start_with(&["serve", "--listen", &listen], port, &env);
    let (token, _) = demo_orders(&server);
    let mut placed = Vec::new();
    for _ in 0..5 {
        let reply = server.json(
            "POST",
            "/api/accounts/demo-net/orders?locale=en",
            Some(&token),
            Some("instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=0.5"),
        );
        placed.push(reply["d"]["orderId"].as_str().unwrap().to_owned());
    }
    // SIGKILL right after the last answer: no shutdown code runs.
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_with(&["serve", "--listen", &listen], port, &env);
    let (_, orders) = demo_orders(&server);
    let listed: Vec<&str> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, placed, "{orders}");
}

#[test]
fn serve_is_the_default_command() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server::start(&["--listen", &listen], port);
    assert_eq!(server.json("GET", "/healthz", None, None)["s"], "ok");
    let status = server.terminate();
    assert!(status.success(), "exit {status}");
}

#[test]
fn serve_names_an_address_it_cannot_listen_on() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut child = tvbridge(&repo())
        .env("TVBRIDGE__STORE__KIND", "memory")
        .args(["serve", "--listen", &addr])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_timeout(&mut child, Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    let status = status.expect("tvbridge must exit when the address is taken");
    assert!(!status.success());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains(&addr), "stderr does not name {addr}: {stderr}");
    drop(taken);
}

#[test]
fn start_up_never_prints_a_real_password() {
    const SECRET: &str = "s3cret-not-for-stdout";
    let (_dir, path) = config_file(&format!(
        "[[auth.users]]\nlogin = \"demo\"\npassword = \"{SECRET}\"\n"
    ));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server::start(&["--config", path.to_str().unwrap(), "--listen", &listen], port);
    let out = server.stdout();
    assert!(out.contains(&format!("http://{listen}/api")), "{out}");
    assert!(!out.contains(SECRET) && !out.contains("password 'demo'"), "{out}");
    assert!(server.terminate().success());
}

// ---------------------------------------------------------------------------------------------------------
// health, and SIGTERM with an open stream
// ---------------------------------------------------------------------------------------------------------

fn health(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (out, stdout, stderr) = run(tvbridge(dir.path()).args(args));
    (out.status.code(), stdout, stderr)
}

#[test]
fn health_exits_0_when_the_server_answers_and_1_when_it_does_not() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server::start(&["serve", "--listen", &listen], port);
    let readyz = format!("http://{listen}/readyz");
    let (code, stdout, stderr) = health(&["health", "--url", &readyz]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("\"ready\":true"), "{stdout}");
    // Without --url it asks the configured listen address; --live asks /healthz.
    let (code, _, stderr) = health(&["--listen", &listen, "health"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = health(&["--listen", &listen, "health", "--live"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"version\""), "{stdout}");
    assert!(server.terminate().success());

    let (code, _, stderr) = health(&["health", "--url", &readyz, "--timeout-secs", "2"]);
    assert_eq!(code, Some(1), "no server: unhealthy");
    assert!(stderr.contains(&readyz), "{stderr}");
    let (code, _, stderr) = health(&["health", "--url", &format!("http://{listen}/nothing-here")]);
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
fn sigterm_ends_open_streams_with_a_final_line_and_exits_at_once() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Server::start(&["serve", "--listen", &listen], port);
    let auth = server.json(
        "POST",
        "/api/authorize",
        None,
        Some("login=demo&password=demo&locale=en"),
    );
    let token = auth["d"]["access_token"].as_str().unwrap().to_owned();
    let mut streams = Vec::new();
    for path in ["/api/accounts/demo-net/stream/orders", "/api/streaming"] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200", "{path}");
        streams.push((path, s));
    }
    let started = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "exit {status}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?} with open streams",
        started.elapsed()
    );
    for (path, mut s) in streams {
        let mut rest = String::new();
        let _ = s.read_to_string(&mut rest);
        assert!(
            rest.contains(r#"{"errmsg":"The server is restarting; reconnect.","s":"error"}"#),
            "{path}: {rest}"
        );
        assert!(
            rest.ends_with("0\r\n\r\n"),
            "{path}: the chunked body is ended properly"
        );
    }
}

/// `check-config` on the IBKR example names each symbol's conid and where it comes from; with
/// `--upstream` it asks the (fake) gateway and adds what IBKR resolved: searched conids and each
/// contract's trading hours from its schedule.
#[tokio::test(flavor = "multi_thread")]
async fn check_config_names_the_ibkr_symbols_and_with_upstream_their_trading_hours() {
    let example = repo().join("config/ibkr.example.toml");
    let (out, stdout, stderr) = run(tvbridge(&repo())
        .arg("check-config")
        .arg("--config")
        .arg(&example));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("#   AAPL (TradingView NASDAQ:AAPL): conid 265598 (configured)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("EURUSD (TradingView FX:EURUSD): conid searched as \"EUR.USD\" (CASH)"),
        "{stdout}"
    );
    let fake =
        fakes::ibkr::FakeIbkr::start(fakes::ibkr::FakeIbkrOptions::moving_market(chrono::Utc::now())).await;
    let mut cmd = tvbridge(&repo());
    cmd.arg("check-config")
        .arg("--upstream")
        .arg("--config")
        .arg(&example)
        .env("TVBRIDGE__BACKEND__BASE_URL", &fake.base_url);
    let (out, stdout, stderr) = tokio::task::spawn_blocking(move || run(&mut cmd)).await.unwrap();
    assert!(out.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("# IBKR symbols as IBKR resolves them now"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AAPL (TradingView NASDAQ:AAPL): conid 265598 (configured); trading hours America/New_York 0930-1600:23456 (NASDAQ)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("EURUSD (TradingView FX:EURUSD): conid 12087792 (found by secdef/search); trading hours America/New_York 1700-1700:23456 (IDEALPRO)"),
        "{stdout}"
    );
    // An upstream that cannot be reached is a failure with a reason, not a silent success.
    drop(fake);
    let mut cmd = tvbridge(&repo());
    cmd.arg("check-config")
        .arg("--upstream")
        .arg("--config")
        .arg(&example)
        .env("TVBRIDGE__BACKEND__BASE_URL", "http://127.0.0.1:9/v1/api")
        .env("TVBRIDGE__BACKEND__REQUEST_TIMEOUT_MS", "2000");
    let (out, _, stderr) = tokio::task::spawn_blocking(move || run(&mut cmd)).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("tvbridge: IBKR could not resolve the symbols: "),
        "{stderr}"
    );
}
