//! Atomic file writes: a file is either its old self or the complete new one.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static TEMPORARY_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes `path` atomically: `write` fills a new temporary file beside `path`
/// (`.{name}.tmp-{pid}-{n}`), which is flushed, synced and renamed over `path`. If
/// anything fails, the temporary file is removed and an existing file at `path` is
/// left as it was. OS errors are turned into the caller's error type by `io_error`.
///
/// ```
/// use std::io::Write;
/// use uisrnn_data::atomic::write_atomically;
///
/// let path = std::env::temp_dir().join(format!("uisrnn-doc-{}.txt", std::process::id()));
/// write_atomically(&path, |e| e, |out| out.write_all(b"hello"))?;
/// assert_eq!(std::fs::read(&path)?, b"hello");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_atomically<E>(
    path: &Path,
    io_error: impl Fn(io::Error) -> E,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E> {
    let file_name = path.file_name().ok_or_else(|| {
        io_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        ))
    })?;
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temporary = temporary_path(directory, file_name);
    let result = write_and_sync(&temporary, &io_error, write)
        .and_then(|()| fs::rename(&temporary, path).map_err(&io_error));
    match result {
        Ok(()) => {
            sync_directory(directory);
            Ok(())
        }
        Err(error) => {
            // Best effort: the temporary may not exist if creating it failed.
            let _ = fs::remove_file(&temporary);
            Err(error)
        }
    }
}

fn write_and_sync<E>(
    temporary: &Path,
    io_error: &impl Fn(io::Error) -> E,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temporary)
        .map_err(io_error)?;
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    writer.flush().map_err(io_error)?;
    let file = writer.into_inner().map_err(|e| io_error(e.into_error()))?;
    file.sync_all().map_err(io_error)
}

/// A fresh temporary path beside the target.
fn temporary_path(directory: &Path, file_name: &std::ffi::OsStr) -> PathBuf {
    let mut name = OsString::from(".");
    name.push(file_name);
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TEMPORARY_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    directory.join(name)
}

/// Makes a completed rename durable; best effort, as not every platform can sync a
/// directory.
fn sync_directory(directory: &Path) {
    if cfg!(unix)
        && let Ok(handle) = File::open(directory)
    {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("uisrnn-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = scratch("fail");
        let target = dir.join("model.bin");
        fs::write(&target, b"old").unwrap();
        let result: Result<(), io::Error> = write_atomically(
            &target,
            |e| e,
            |out| {
                out.write_all(b"partial")?;
                Err(io::Error::other("interrupted"))
            },
        );
        assert!(result.is_err());
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_directory_is_an_error() {
        let target = Path::new("/nonexistent-uisrnn-dir/model.bin");
        let result = write_atomically(target, |e| e, |out| out.write_all(b"x"));
        assert!(result.is_err());
        assert!(write_atomically(Path::new("/"), |e| e, |out| out.write_all(b"x")).is_err());
    }

    #[test]
    fn success_replaces_the_file() {
        let dir = scratch("ok");
        let target = dir.join("out.txt");
        fs::write(&target, b"old").unwrap();
        write_atomically(&target, |e| e, |out| out.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
