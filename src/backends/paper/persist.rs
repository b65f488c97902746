//! The optional state file: written atomically (temp file, fsync, rename), read back at start.

use super::engine::PaperState;
use std::io::Write;
use std::path::Path;

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

/// Writes `state` so that a crash leaves either the old or the new file, never a torn one.
pub fn save(path: &Path, state: &PaperState) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec(state)?;
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
        file.write_all(&bytes)?;
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
        save(&path, &state).unwrap();
        assert_eq!(load(&path).unwrap(), Some(state));
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("is not valid"));
    }
}
