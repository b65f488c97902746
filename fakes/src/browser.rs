//! A real headless Chromium driven over WebDriver (`chromedriver`), for the browser tests of the login page.
//!
//! [`Browser::start`] runs `chromedriver` on a free loopback port (in a process group of its own, so the
//! Chromium it launches goes with it), waits until it is ready, and opens a session with headless
//! Chromium; dropping the [`Browser`] kills the whole group. When `chromedriver` or `chromium` is not
//! installed (Debian packages `chromium-driver` and `chromium`), `start` prints a `skipped: ...` line and
//! returns `None`; under `CI=true` a missing program fails the test instead, so CI cannot pass by
//! skipping.
//!
//! The WebDriver client is fantoccini without any TLS feature: chromedriver speaks plain HTTP on
//! loopback, so neither OpenSSL nor a TLS stack is linked for it.

/// The WebDriver client crate, for tests that need its types (`Locator`, `Key`) without depending on it.
pub use fantoccini;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The WebDriver server started (looked up on `PATH`).
pub const DRIVER: &str = "chromedriver";
/// The browsers looked up on `PATH`, first found wins (Debian calls it `chromium`).
pub const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// The window every session starts with: a laptop screen's CSS pixels.
pub const WINDOW: (u32, u32) = (1280, 900);

/// How long chromedriver has to answer `/status` as ready before the test fails.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A chromedriver and its headless Chromium with one open WebDriver session, killed on drop.
pub struct Browser {
    client: Client,
    driver: Child,
    port: u16,
    profile: PathBuf,
}

/// Options of [`Browser::start_with`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Pages see `prefers-color-scheme: dark`.
    pub dark: bool,
    /// More Chromium arguments.
    pub args: Vec<String>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("port", &self.port)
            .field("driver_pid", &self.driver.id())
            .finish()
    }
}

impl Browser {
    /// A headless Chromium session, or `None` (after printing why) when chromedriver or Chromium is not
    /// installed.
    ///
    /// # Panics
    /// When a program is missing under `CI=true`, or when they are installed but no session opens.
    pub async fn start() -> Option<Browser> {
        Self::start_with(Options::default()).await
    }

    /// A session with `options`; see [`Browser::start`].
    pub async fn start_with(options: Options) -> Option<Browser> {
        let (Some(driver), Some(browser)) = (on_path(DRIVER), BROWSERS.iter().find_map(|b| on_path(b)))
        else {
            let why = "skipped: chromedriver or chromium is not installed (Debian packages chromium-driver and chromium); the browser tests need a real Chromium";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}, and CI=true does not allow skipping");
            }
            println!("{why}");
            return None;
        };
        let profile =
            std::env::temp_dir().join(format!("tvbridge-chromium-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).expect("a profile directory for chromium");
        // A free port can be taken by someone else between the probe and chromedriver's bind: try again.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = match spawn_driver(&driver, port, &profile) {
                Ok(child) => child,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            match open_session(&browser, port, &profile, &options).await {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver: child,
                        port,
                        profile,
                    })
                }
                Err(e) => {
                    last = e;
                    kill_group(&mut child);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&profile);
        panic!("no WebDriver session with headless Chromium: {last}");
    }

    /// The WebDriver client of the session.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// chromedriver's port on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Types `text` into whatever has the keyboard focus, one key press per character (the focus is not
    /// moved, unlike element send-keys).
    pub async fn type_text(&self, text: &str) -> Result<(), fantoccini::error::CmdError> {
        let mut keys = KeyActions::new("keyboard".into());
        for c in text.chars() {
            keys = keys
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(keys).await
    }

    /// Presses and releases `key` (Tab, Enter, ...) on whatever has the keyboard focus.
    pub async fn press(&self, key: Key) -> Result<(), fantoccini::error::CmdError> {
        let c = char::from(key);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
        self.client.perform_actions(keys).await
    }

    /// Saves a PNG of the viewport as `target/test-artifacts/<name>` and returns its path. `name` is a
    /// plain file name (`oauth-login.png`).
    ///
    /// # Panics
    /// When `name` is not a plain file name, or the screenshot cannot be taken or written.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        assert!(
            plain_name(name),
            "a screenshot name is a plain file name, not {name:?}"
        );
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let png = self
            .client
            .screenshot()
            .await
            .expect("a screenshot from chromium");
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Ends the WebDriver session politely, then kills chromedriver and Chromium as drop does.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `target/test-artifacts`, under `CARGO_TARGET_DIR` when it is set.
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target"));
    target.join("test-artifacts")
}

/// Whether `name` is a file name with no directory part (stays inside the artifacts directory).
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != ".." && Path::new(name).file_name().is_some_and(|f| f == name)
}

/// Whether chromedriver and a Chromium are installed.
pub fn installed() -> bool {
    on_path(DRIVER).is_some() && BROWSERS.iter().any(|b| on_path(b).is_some())
}

/// The executable `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Starts chromedriver on `port` in a new process group and waits until `/status` says it is ready.
fn spawn_driver(driver: &Path, port: u16, profile: &Path) -> Result<Child, String> {
    let log = std::fs::File::create(profile.join("chromedriver.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        // Chromium and its helpers inherit the group, so one kill ends them all.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawning {}: {e}", driver.display()))?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(profile.join("chromedriver.log")).unwrap_or_default();
            return Err(format!("{DRIVER} exited at start ({status}): {log}"));
        }
        if is_ready(addr) {
            return Ok(child);
        }
        if Instant::now() > deadline {
            kill_group(&mut child);
            return Err(format!("{DRIVER} was not ready within {READY_WITHIN:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A session with headless Chromium at `browser`, profile in `profile`.
async fn open_session(
    browser: &Path,
    port: u16,
    profile: &Path,
    options: &Options,
) -> Result<Client, String> {
    let mut args = vec![
        "--headless=new".to_owned(),
        // Tests run as root in containers, where Chromium's sandbox cannot start.
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        // Containers give /dev/shm 64 MB, too little for Chromium's shared memory.
        "--disable-dev-shm-usage".to_owned(),
        format!("--window-size={},{}", WINDOW.0, WINDOW.1),
        format!("--user-data-dir={}", profile.join("profile").display()),
        "--no-first-run".to_owned(),
        "--no-default-browser-check".to_owned(),
        "--disable-extensions".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-sync".to_owned(),
        "--lang=en-US".to_owned(),
        "--hide-scrollbars".to_owned(),
        "--force-color-profile=srgb".to_owned(),
    ];
    if options.dark {
        // The page sees `prefers-color-scheme: dark`.
        args.push("--force-dark-mode".to_owned());
    }
    args.extend(options.args.iter().cloned());
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": browser.display().to_string(), "args": args }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|e| format!("opening a WebDriver session: {e}"))?;
    Ok(client)
}

/// SIGKILL to the process group led by `child` (chromedriver, Chromium and its helpers), then reaps it.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Whether a process of group `pgid` still runs (zombies do not count: in a container without an init
/// that reaps, the killed Chromium helpers stay zombies of PID 1).
pub fn group_alive(pgid: u32) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses, so split after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let group = fields.nth(1);
        state.is_some_and(|s| s != "Z" && s != "X") && group == Some(pgid.to_string().as_str())
    })
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether chromedriver on `addr` answers `GET /status` with `"ready": true`.
fn is_ready(addr: SocketAddr) -> bool {
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_millis(1000)));
    if conn
        .write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    answer.replace(' ', "").contains("\"ready\":true")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fantoccini::Locator;

    #[tokio::test]
    async fn opens_a_page_types_and_cleans_up() {
        let Some(browser) = Browser::start().await else {
            return;
        };
        let client = browser.client();
        client
            .goto("data:text/html,<input id=a autofocus><input id=b>")
            .await
            .expect("a data: page loads");
        browser.type_text("hé").await.expect("typing");
        browser.press(Key::Tab).await.expect("tab");
        browser.type_text("x").await.expect("typing");
        let a = client.find(Locator::Id("a")).await.expect("a");
        let b = client.find(Locator::Id("b")).await.expect("b");
        assert_eq!(a.prop("value").await.expect("value").as_deref(), Some("hé"));
        assert_eq!(b.prop("value").await.expect("value").as_deref(), Some("x"));
        let shot = browser.screenshot("fakes-browser-selftest.png").await;
        let png = std::fs::read(&shot).expect("the screenshot is written");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let _ = std::fs::remove_file(shot);
        let (driver, profile) = (browser.driver.id(), browser.profile.clone());
        drop(browser);
        assert!(!profile.exists(), "the profile is removed");
        // SIGKILL reaches the group at once, but a busy machine may take a moment to end every Chromium
        // helper (only chromedriver itself is waited for).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while group_alive(driver) && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            !group_alive(driver),
            "something of chromedriver's group {driver} still runs 10 s after it was killed"
        );
    }

    #[test]
    fn a_screenshot_name_cannot_leave_the_artifacts_dir() {
        assert!(plain_name("oauth-login.png"));
        for name in ["", "../x.png", "a/b.png", "/tmp/x.png", ".."] {
            assert!(!plain_name(name), "{name:?}");
        }
    }
}
