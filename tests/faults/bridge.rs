//! The bridge under test as a child process (the built binary, its embedded store in a temp dir, one port
//! for its whole life) so that a campaign can kill it with SIGKILL and start it again; and what /proc says
//! about it (resident memory, open file descriptors) for the soak.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tvbridge");
/// The last lines of the bridge's log kept for a failure's evidence.
const LOG_LINES: usize = 20_000;

/// A bridge process and what it needs to be restarted exactly as it was.
pub struct Bridge {
    child: Option<Child>,
    pub port: u16,
    config: PathBuf,
    env: Vec<(String, String)>,
    /// The embedded store (kept across restarts) and the config file.
    pub dir: tempfile::TempDir,
    /// The last lines of its log (stdout and stderr), for a failure's evidence.
    log: Arc<Mutex<Vec<String>>>,
    pub restarts: u32,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.kill_9();
    }
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl Bridge {
    /// Writes `config_toml` and starts the bridge on it with `env`, listening on `port` (from
    /// [`free_port`]); returns once `/healthz` answers.
    pub async fn start(port: u16, config_toml: &str, env: &[(&str, &str)]) -> Bridge {
        let dir = tempfile::tempdir().expect("a temp dir");
        let config = dir.path().join("tvbridge.toml");
        std::fs::write(&config, config_toml).expect("config written");
        let mut bridge = Bridge {
            child: None,
            port,
            config,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            dir,
            log: Arc::new(Mutex::new(Vec::new())),
            restarts: 0,
        };
        bridge.spawn().await;
        bridge
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    async fn spawn(&mut self) {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("TVBRIDGE__") || k == "RUST_LOG" {
                cmd.env_remove(&key);
            }
        }
        let listen = format!("127.0.0.1:{}", self.port);
        let data = self.dir.path().join("data");
        cmd.current_dir(self.dir.path())
            .args(["--config", self.config.to_str().expect("utf-8 path")])
            .args(["serve", "--listen", &listen])
            .env("TVBRIDGE__STORE__DATA_DIR", &data)
            // `TVBRIDGE_FAULTS_BRIDGE_LOG` (e.g. `info`) to see more of what the bridge did.
            .env(
                "RUST_LOG",
                std::env::var("TVBRIDGE_FAULTS_BRIDGE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("tvbridge starts");
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = self.log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap_or_else(|e| e.into_inner());
                    if l.len() >= LOG_LINES {
                        l.remove(0);
                    }
                    l.push(line);
                }
            });
        }
        self.child = Some(child);
        let http = reqwest::Client::new();
        let start = Instant::now();
        loop {
            let url = format!("http://127.0.0.1:{}/healthz", self.port);
            if let Ok(r) = http.get(&url).timeout(Duration::from_millis(500)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("tvbridge exited with {status}:\n{}", self.log_tail());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no /healthz within 30 s:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL (no chance to flush or say goodbye), then the same binary on the same store and port.
    pub async fn restart_kill_9(&mut self) {
        self.kill_9();
        self.restarts += 1;
        self.spawn().await;
    }

    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log_tail(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
    }

    /// (VmRSS in KiB, open file descriptors) of the running process.
    /// What /proc says about the process now, and the size of its store file.
    pub fn resources(&self) -> Option<Resources> {
        let pid = self.pid()?;
        let kib = |text: &str, key: &str| -> Option<u64> {
            text.lines()
                .find_map(|l| l.strip_prefix(key))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        Some(Resources {
            rss_kib: kib(&status, "VmRSS:")?,
            anon_kib: kib(&rollup, "Anonymous:").unwrap_or(0),
            fds: std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count(),
            store_bytes: std::fs::metadata(self.dir.path().join("data").join("tvbridge.redb"))
                .map(|m| m.len())
                .unwrap_or(0),
        })
    }
}

/// One soak sample. Resident memory mixes the heap (`Anonymous` in smaps_rollup) with pages of the
/// binary and libraries read in as code paths are first used; the heap is what a leak grows.
#[derive(Clone, Copy, Debug)]
pub struct Resources {
    pub rss_kib: u64,
    pub anon_kib: u64,
    pub fds: usize,
    pub store_bytes: u64,
}
