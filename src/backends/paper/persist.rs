//! The optional state file: written atomically (temp file, fsync, rename) on a blocking thread, read back
//! at start.

use super::engine::PaperState;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the bytes reach the disk (the atomic write, or a test's stand-in).
type WriteFn = Arc<dyn Fn(&Path, &[u8]) -> anyhow::Result<()> + Send + Sync>;

/// The state file the actor saves to after every change.
#[derive(Clone)]
pub struct StateFile {
    path: PathBuf,
    write: WriteFn,
}

impl StateFile {
    /// The file at `path`, written atomically.
    pub fn new(path: PathBuf) -> StateFile {
        StateFile {
            path,
            write: Arc::new(write_atomic),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves `state`. The write and its fsync run on a blocking thread: they take milliseconds, and the
    /// async worker they would block also serves other connections. The caller awaits the save before it
    /// takes its next job, so saves stay in order and a reply never outlives an unsaved state for long.
    pub async fn save(&self, state: &PaperState) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(state)?;
        let (path, write) = (self.path.clone(), self.write.clone());
        tokio::task::spawn_blocking(move || write(&path, &bytes))
            .await
            .map_err(|e| anyhow::anyhow!("the state file writer stopped: {e}"))?
    }
}

/// Reads the state file; `Ok(None)` when it does not exist yet.
pub fn load(path: &Path) -> anyhow::Result<Option<PaperState>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let state = serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("state file {} is not valid: {e}", path.display()))?;
            Ok(Some(state))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read state file {}: {e}", path.display())),
    }
}

/// Writes `bytes` to a temp file beside `path`, syncs it and renames it over `path`, so that a crash
/// leaves either the old or the new file, never a torn one.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("tvbridge-state")
    ));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        assert!(load(&path).unwrap().is_none());
        let state = PaperState {
            next_id: 42,
            last_eval: 7,
            ..Default::default()
        };
        write_atomic(&path, &serde_json::to_vec(&state).unwrap()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(state));
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("is not valid"));
    }

    #[tokio::test]
    async fn saves_in_order_without_blocking_the_async_loop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = std::sync::Mutex::new(rx);
        // The write waits for a signal that only a task on this (single-threaded) runtime sends: were it
        // run on the async loop, that task could never run and the write would give up.
        let file = StateFile {
            path: path.clone(),
            write: Arc::new(move |path, bytes| {
                let signal = rx.lock().unwrap().recv_timeout(std::time::Duration::from_secs(5));
                anyhow::ensure!(signal.is_ok(), "the async loop was blocked during the write");
                write_atomic(path, bytes)
            }),
        };
        for next_id in [1, 2] {
            let state = PaperState {
                next_id,
                ..Default::default()
            };
            let (saved, ()) = tokio::join!(file.save(&state), async { tx.send(()).unwrap() });
            saved.unwrap();
            assert_eq!(load(&path).unwrap(), Some(state), "the newest save is the file");
        }
    }
}
