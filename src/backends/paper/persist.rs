//! The state file of earlier versions (`backend.state_file`), read once to import it into the state store;
//! it is no longer written.

use super::engine::PaperState;
use std::path::Path;

/// Reads the state file; `Ok(None)` when it does not exist.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_file_and_reports_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(load(&path).unwrap().is_none());
        let state = PaperState {
            next_id: 42,
            last_eval: 7,
            ..Default::default()
        };
        std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(state));
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("is not valid"));
    }
}
