//! A real `redis-server` for tests: started on a free loopback port with nothing written to disk, killed
//! when dropped. Tests can stop it, start it again on the same port (a Redis restart: every key is gone,
//! every connection dropped) and pause it with SIGSTOP (a Redis that accepts connections and never answers).
//!
//! When `redis-server` is not installed, [`RedisServer::start`] prints a `skipped: ...` line and returns
//! `None`, so the test passes without it; under `CI=true` a missing program fails the test instead, so CI
//! cannot pass by skipping.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The program started (looked up on `PATH`).
pub const PROGRAM: &str = "redis-server";

/// How long a started server has to answer PING before the test fails.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A running `redis-server` on `127.0.0.1`, killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
    extra: Vec<String>,
    dir: PathBuf,
    paused: bool,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("pid", &self.pid())
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("paused", &self.paused)
            .finish()
    }
}

/// Options of [`RedisServer::start_with`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--requirepass`: clients must AUTH with this password.
    pub password: Option<String>,
    /// More `redis-server` arguments, e.g. `["--maxmemory", "10mb"]`.
    pub args: Vec<String>,
}

impl RedisServer {
    /// A server with no password, or `None` (after printing why) when `redis-server` is not installed.
    ///
    /// # Panics
    /// When the program is missing under `CI=true`, or when it is installed but does not start.
    pub fn start() -> Option<RedisServer> {
        Self::start_with(Options::default())
    }

    /// A server with `options`; see [`RedisServer::start`].
    pub fn start_with(options: Options) -> Option<RedisServer> {
        if !installed() {
            let why = format!(
                "skipped: {PROGRAM} is not installed (Debian package redis-server); the Redis store tests need a real Redis"
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}, and CI=true does not allow skipping");
            }
            println!("{why}");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("tvbridge-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a working directory for redis-server");
        let mut server = RedisServer {
            child: None,
            port: 0,
            password: options.password,
            extra: options.args,
            dir,
            paused: false,
        };
        // A free port can be taken by someone else between the probe and redis-server's bind: try again.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port();
            match server.spawn() {
                Ok(()) => return Some(server),
                Err(e) => last = e,
            }
        }
        panic!("{PROGRAM} did not start: {last}");
    }

    /// `redis://127.0.0.1:<port>` (no password: pass it separately, as the bridge's `store.password`).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `redis://:<password>@127.0.0.1:<port>` when the server has a password, else [`Self::url`].
    pub fn url_with_password(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => self.url(),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The `--requirepass` password, if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server (SIGKILL, like a crash: nothing is saved) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused = false;
    }

    /// Stops the server and starts a new, empty one on the same port with the same options.
    ///
    /// # Panics
    /// When the new server does not start (the port was taken in between, say).
    pub fn restart_same_port(&mut self) {
        self.stop();
        if let Err(e) = self.spawn() {
            panic!("{PROGRAM} did not restart on port {}: {e}", self.port);
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung Redis.
    pub fn pause(&mut self) {
        self.signal("-STOP");
        self.paused = true;
    }

    /// Lets a paused server run again (SIGCONT); it answers what was sent meanwhile.
    pub fn resume(&mut self) {
        self.signal("-CONT");
        self.paused = false;
    }

    fn signal(&self, signal: &str) {
        let pid = self.pid().expect("the server is running");
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("the kill command runs");
        assert!(status.success(), "kill {signal} {pid} failed: {status}");
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut cmd = Command::new(PROGRAM);
        cmd.args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--loglevel", "warning"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        cmd.args(&self.extra);
        let mut child = cmd.spawn().map_err(|e| format!("spawning {PROGRAM}: {e}"))?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{PROGRAM} exited at start ({status})"));
            }
            if answers_ping(self.addr()) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer to PING within {READY_WITHIN:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `redis-server` can be run.
pub fn installed() -> bool {
    Command::new(PROGRAM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether a Redis answers on `addr`: any reply to PING counts (`-NOAUTH` included, when it has a password).
fn answers_ping(addr: SocketAddr) -> bool {
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    if conn.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut first = [0u8; 1];
    matches!(conn.read(&mut first), Ok(1) if first[0] == b'+' || first[0] == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_pauses_restarts_and_stops() {
        let Some(mut server) = RedisServer::start() else {
            return;
        };
        assert!(answers_ping(server.addr()));
        server.pause();
        assert!(!answers_ping(server.addr()), "a paused server does not answer");
        server.resume();
        assert!(answers_ping(server.addr()));
        let (port, pid) = (server.port(), server.pid());
        server.restart_same_port();
        assert_eq!(server.port(), port);
        assert_ne!(server.pid(), pid);
        assert!(answers_ping(server.addr()));
        server.stop();
        assert!(!answers_ping(server.addr()));
    }

    #[test]
    fn debug_hides_the_password() {
        let Some(server) = RedisServer::start_with(Options {
            password: Some("s3cret-pw".into()),
            ..Options::default()
        }) else {
            return;
        };
        assert!(!format!("{server:?}").contains("s3cret-pw"));
        assert!(server.url_with_password().contains("s3cret-pw"));
    }
}
