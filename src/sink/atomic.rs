//! Files that appear only when complete (`-o`, `--rejects`, `--report-json`), and the checks
//! that keep them from overwriting an input or each other.

use crate::diag::quote::shown_path;
use crate::source::{Input, TEMP_MARK};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file that appears under its name only when complete: written to a temporary file in the
/// same directory and renamed over the destination by [`AtomicFile::commit`]. Dropped without
/// a commit, the temporary file is removed, so a failed run leaves no half-written output.
///
/// The temporary file is created exclusively under a random name (`tempfile`: `O_EXCL`, so a
/// link planted in a shared directory is never followed), readable only by its owner while it
/// is written; the finished file gets the mode of the file it replaces, or the mode a new file
/// gets under the umask. A destination that is a symbolic link is written through it: the
/// temporary file goes beside the link's target and replaces the target. A signal that ends the
/// run removes the temporary file ([`cleanup_on_signals`]).
///
/// A destination that exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`)
/// is written directly: renaming over it would replace a device or a pipe with a file.
pub struct AtomicFile {
    /// The file the output ends up as (symbolic links resolved).
    dest: PathBuf,
    /// The temporary file while writing atomically; `None` when writing directly.
    tmp: Option<tempfile::TempPath>,
    /// Mode for the finished file.
    mode: u32,
    file: Option<BufWriter<File>>,
}

/// Temporary files of this process, removed if a signal ends it.
static TEMP_FILES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn temp_files() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes this process's temporary files when SIGINT, SIGTERM or SIGHUP arrives, then lets the
/// signal end the process as it would have (so the exit status still shows the signal).
pub fn cleanup_on_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGALRM, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    // Every signal whose default action ends the process and that a user or a supervisor
    // sends (SIGKILL cannot be caught; SIGPIPE is ignored by Rust's runtime: a write error).
    let mut signals = signal_hook::iterator::Signals::new([
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
    ])?;
    std::thread::Builder::new()
        .name("drainpipe-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                for p in temp_files().drain(..) {
                    let _ = std::fs::remove_file(p);
                }
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

/// Follows symbolic links from `path` to the file they lead to (which need not exist yet), as
/// `open` would, so the output replaces the target and the link stays.
pub fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The process's umask (Linux tells it in /proc; 022 where it cannot be read).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// A handle on stdout or stderr (the same open file, sharing its offset) when `dest` is the
/// file one of them writes to.
fn std_stream_file(dest: &Path) -> Option<File> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let target = std::fs::metadata(dest).ok()?;
    let streams = [
        io::stdout().as_fd().try_clone_to_owned(),
        io::stderr().as_fd().try_clone_to_owned(),
    ];
    streams.into_iter().flatten().map(File::from).find(|f| {
        f.metadata()
            .is_ok_and(|m| m.dev() == target.dev() && m.ino() == target.ino())
    })
}

impl AtomicFile {
    /// Starts writing `dest`.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::PermissionsExt;
        if dest.as_os_str().as_bytes().ends_with(b"/") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a path ending in / names a directory, not a file",
            ));
        }
        // The file behind this process's stdout or stderr (`--report-json /dev/stdout >
        // out.txt`): written through that stream, never replaced: a rename would throw away
        // what the stream wrote, and opening it anew would write over it from its start.
        if let Some(file) = std_stream_file(dest) {
            return Ok(AtomicFile {
                dest: dest.to_path_buf(),
                tmp: None,
                mode: 0,
                file: Some(BufWriter::with_capacity(1 << 20, file)),
            });
        }
        // Not a regular file (a pipe, a terminal, /dev/null; /dev/stdout, whose link leads to
        // something like `pipe:[1234]` that is no path): written directly, through the name
        // as given.
        if std::fs::metadata(dest).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new().write(true).open(dest)?;
            return Ok(AtomicFile {
                dest: dest.to_path_buf(),
                tmp: None,
                mode: 0,
                file: Some(BufWriter::with_capacity(1 << 20, file)),
            });
        }
        let dest = resolve_links(dest)?;
        let existing = std::fs::metadata(&dest).ok();
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new().write(true).open(&dest)?;
            return Ok(AtomicFile {
                dest,
                tmp: None,
                mode: 0,
                file: Some(BufWriter::with_capacity(1 << 20, file)),
            });
        }
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::other("output path names no file"))?;
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(TEMP_MARK);
        let mut registry = temp_files();
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .rand_bytes(8)
            .tempfile_in(&dir)?;
        let (file, tmp) = tmp.into_parts();
        registry.push(tmp.to_path_buf());
        drop(registry);
        let mode = match existing {
            Some(m) => m.permissions().mode() & 0o7777,
            None => 0o666 & !umask(),
        };
        Ok(AtomicFile {
            dest,
            tmp: Some(tmp),
            mode,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// Puts the complete file in place.
    pub fn commit(mut self) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let file = self.file.take().expect("not yet committed");
        let file = file.into_inner().map_err(|e| e.into_error())?;
        match self.tmp.take() {
            Some(tmp) => {
                file.set_permissions(std::fs::Permissions::from_mode(self.mode))?;
                file.sync_all()?;
                let path = tmp.to_path_buf();
                let kept = tmp.keep().map_err(|e| e.error)?;
                let renamed = std::fs::rename(&kept, &self.dest);
                if renamed.is_err() {
                    let _ = std::fs::remove_file(&kept);
                }
                temp_files().retain(|p| *p != path);
                renamed
            }
            None => Ok(()),
        }
    }
}

/// Whether `a` and `b` are the same regular file: the same device and inode when both exist
/// (hard links and other spellings included), the same place when neither does yet. Devices and
/// FIFOs are written in place and may be shared (`-o /dev/null --rejects /dev/null`).
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.is_file() && x.dev() == y.dev() && x.ino() == y.ino(),
        (Err(_), Err(_)) => match (place(a), place(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Where a file that does not exist yet would be created: its directory's canonical path and
/// its name.
fn place(p: &Path) -> Option<PathBuf> {
    let p = resolve_links(p).ok()?;
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(dir.canonicalize().ok()?.join(p.file_name()?))
}

/// Refuses outputs (`(option, path)`) that would destroy an input or each other, before
/// anything is touched: the message says which.
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[Input]) -> Result<(), String> {
    for (k, (flag, out)) in outputs.iter().enumerate() {
        for (flag2, out2) in &outputs[k + 1..] {
            if same_file(out, out2) {
                return Err(format!(
                    "{flag} {} and {flag2} {} are the same file",
                    shown_path(out),
                    shown_path(out2)
                ));
            }
        }
        for i in inputs {
            let hit = match i {
                Input::Path(p) => same_file(out, p),
                Input::Stdin => is_stdin(out),
                Input::Failed { .. } => false,
            };
            if hit {
                return Err(format!(
                    "{flag} {} is also an input ({}): refusing to overwrite it",
                    shown_path(out),
                    shown_path(Path::new(&i.name()))
                ));
            }
        }
    }
    Ok(())
}

/// This process's standard output streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdStream {
    /// File descriptor 1.
    Stdout,
    /// File descriptor 2.
    Stderr,
}

/// Whether `stream` writes to the file or pipe at `p`. A terminal or a device such as
/// /dev/null does not count: output interleaved there loses nothing.
pub fn is_std_stream(p: &Path, stream: StdStream) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(target) = std::fs::metadata(p) else {
        return false;
    };
    if target.file_type().is_char_device() || target.file_type().is_block_device() {
        return false;
    }
    let fd = match stream {
        StdStream::Stdout => io::stdout().as_fd().try_clone_to_owned(),
        StdStream::Stderr => io::stderr().as_fd().try_clone_to_owned(),
    };
    fd.ok()
        .and_then(|fd| File::from(fd).metadata().ok())
        .is_some_and(|m| m.dev() == target.dev() && m.ino() == target.ino())
}

/// Whether `p` is what stdin reads from, whatever it is (a file, a pipe: `/dev/stdin`).
pub fn is_stdin_stream(p: &Path) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(fd) = io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    match (File::from(fd).metadata(), std::fs::metadata(p)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Whether stdin is the regular file at `p` (`drainpipe -o x < x`).
pub fn is_stdin(p: &Path) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(fd) = io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    match (File::from(fd).metadata(), std::fs::metadata(p)) {
        (Ok(x), Ok(y)) => x.is_file() && x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open").write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.as_mut().expect("open").write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let path = tmp.to_path_buf();
            self.file.take();
            drop(tmp); // removes the file
            temp_files().retain(|p| *p != path);
        }
    }
}
