//! The verified candidates in the kernel's state directory, so that they
//! survive a restart: JSON in [`FILE_NAME`], replaced atomically (written to
//! a temporary file, flushed, renamed over the old one).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use crate::candidate::{self, Candidate};
use crate::error::NetError;

/// The cache file in the state directory.
pub const FILE_NAME: &str = "probe-candidates.json";

/// The cache file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cached {
    /// When the candidates were saved, milliseconds since the Unix epoch.
    pub saved_at_ms: u64,
    /// Best first.
    pub candidates: Vec<Candidate>,
}

/// The cache file in `state_dir`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// The cached candidates, if there is a readable cache. A missing file is
/// normal; a corrupt one is logged and ignored (the next report rewrites it).
pub fn load(state_dir: &Path) -> Option<Cached> {
    let path = path(state_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            debug!(path = %path.display(), "no candidate cache yet");
            return None;
        }
        Err(e) => {
            warn!(path = %path.display(), error = %e, "cannot read the candidate cache; ignoring it");
            return None;
        }
    };
    match serde_json::from_str::<Cached>(&text) {
        Ok(mut cached) => {
            // Recompute priorities: the file may come from an older formula.
            for c in &mut cached.candidates {
                *c = Candidate::new(c.proto, c.addr, c.verified_at_ms);
            }
            candidate::sort(&mut cached.candidates);
            Some(cached)
        }
        Err(e) => {
            warn!(path = %path.display(), error = %e, "corrupt candidate cache; ignoring it");
            None
        }
    }
}

/// Replaces the cache with `cached` (creating the state directory).
pub fn save(state_dir: &Path, cached: &Cached) -> Result<(), NetError> {
    let path = path(state_dir);
    std::fs::create_dir_all(state_dir).map_err(NetError::io(format!(
        "creating state directory {}",
        state_dir.display()
    )))?;
    let json = serde_json::to_vec_pretty(cached)
        .map_err(|e| NetError::io("encoding the candidate cache")(e.into()))?;
    // A per-process temporary name: two kernels sharing a directory do not
    // write into each other's temporary file.
    let tmp = state_dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        NetError::io(format!("writing {}", path.display()))(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidate::Proto;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("net-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn saved_candidates_load_back_sorted() {
        let dir = dir("roundtrip");
        assert_eq!(load(&dir), None);
        let cached = Cached {
            saved_at_ms: 42,
            candidates: vec![
                Candidate::new(Proto::Udp, "127.0.0.1:7000".parse().unwrap(), 1),
                Candidate::new(Proto::Tcp, "10.0.0.1:7000".parse().unwrap(), 2),
            ],
        };
        save(&dir, &cached).unwrap();
        let loaded = load(&dir).unwrap();
        assert_eq!(loaded.saved_at_ms, 42);
        assert_eq!(loaded.candidates[0].addr.to_string(), "10.0.0.1:7000");
        assert_eq!(loaded.candidates.len(), 2);
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "the temporary file is renamed away");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_corrupt_cache_is_ignored() {
        let dir = dir("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(path(&dir), b"{\"saved_at_ms\": 1, \"candidates\": [{").unwrap();
        assert_eq!(load(&dir), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
