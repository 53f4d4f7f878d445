//! The generated token's file: `kernel-<name>-<pid>.token` in a folder
//! others may write to (the temporary folder), so it is created with
//! `O_EXCL` and `O_NOFOLLOW`, readable by the owner only. A file planted at
//! that name beforehand is never written through: this process's own stale
//! regular file is replaced, anything else (a symlink, another user's file)
//! is left alone and the token goes to a fresh unpredictable name.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{ServeError, control_error};

/// Writes `token` into a new owner-only file in `dir`; returns its path.
pub(crate) fn write(dir: &Path, kernel: &str, token: &str) -> Result<PathBuf, ServeError> {
    let path = dir.join(format!("kernel-{kernel}-{}.token", std::process::id()));
    let file = match create_new(&path) {
        Ok(file) => Some(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && is_own_file(&path) => {
            std::fs::remove_file(&path).map_err(|e| fail(&path, &e))?;
            create_new(&path).ok()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
        Err(e) => return Err(fail(&path, &e)),
    };
    let (path, mut file) = match file {
        Some(file) => (path, file),
        None => {
            tracing::warn!(
                path = %path.display(),
                "a file that is not this process's own is in the way of the token file; using another name"
            );
            let path = dir.join(format!(
                "kernel-{kernel}-{}-{}.token",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            let file = create_new(&path).map_err(|e| fail(&path, &e))?;
            (path, file)
        }
    };
    writeln!(file, "{token}").map_err(|e| fail(&path, &e))?;
    Ok(path)
}

fn fail(path: &Path, e: &std::io::Error) -> ServeError {
    control_error(format!(
        "cannot write the token file {}: {e}",
        path.display()
    ))
}

/// Creates `path`, failing if anything (a symlink too) is there already.
fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// A regular file (not a symlink) owned by this process's user.
fn is_own_file(path: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        meta.file_type().is_file() && meta.uid() == me
    }
    #[cfg(not(unix))]
    {
        meta.file_type().is_file()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "token-file-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    }

    fn predictable(dir: &Path) -> PathBuf {
        dir.join(format!("kernel-k-{}.token", std::process::id()))
    }

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_planted_symlink_is_not_written_through() {
        let dir = scratch("symlink");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").expect("victim");
        std::os::unix::fs::symlink(&victim, predictable(&dir)).expect("plant");
        let path = write(&dir, "k", "t0ken").expect("token file");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("victim"),
            "precious\n"
        );
        assert_ne!(path, predictable(&dir));
        assert!(std::fs::symlink_metadata(&path).expect("meta").is_file());
        assert_eq!(std::fs::read_to_string(&path).expect("token"), "t0ken\n");
        assert_eq!(mode(&path), 0o600);
        // A dangling symlink is refused the same way.
        std::fs::remove_file(&victim).expect("remove victim");
        let again = write(&dir, "k", "t1").expect("token file");
        assert!(!victim.exists(), "created through a dangling symlink");
        assert_eq!(std::fs::read_to_string(&again).expect("token"), "t1\n");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_stale_own_file_is_replaced_owner_only() {
        let dir = scratch("stale");
        let stale = predictable(&dir);
        std::fs::write(&stale, "old\n").expect("stale");
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let path = write(&dir, "k", "new").expect("token file");
        assert_eq!(path, stale);
        assert_eq!(std::fs::read_to_string(&path).expect("token"), "new\n");
        assert_eq!(mode(&path), 0o600);
        let _ = std::fs::remove_dir_all(dir);
    }
}
