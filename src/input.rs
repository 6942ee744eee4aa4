//! Where bytes come from: files, directories, stdin; gzip undone on the fly (SPEC §1 "Inputs").

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One input as the user named it (after directory expansion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
    /// A path met while walking a directory that could not be looked at (a dangling link, a
    /// directory that cannot be listed). It stays in the list so the failure is reported, in
    /// order and with its code, like any other input's.
    Failed {
        name: String,
        message: String,
    },
}

impl Input {
    /// The name used in reports: the path as given, or `<stdin>`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::Path(p) => p.display().to_string(),
            Input::Failed { name, .. } => name.clone(),
        }
    }
}

/// An input opened for reading.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    /// Not a regular file (a pipe, terminal or socket): read what is there and process it at
    /// once instead of filling a whole block, so a live tail shows records as they arrive.
    pub streaming: bool,
}

/// What the command line's operands expand to.
#[derive(Debug, Default)]
pub struct Expanded {
    pub inputs: Vec<Input>,
    /// Paths a directory walk passed over on purpose (dangling symbolic links), for a note on
    /// stderr: like `find -type f`, a walk reads files, and a link to nothing is none.
    pub skipped: Vec<String>,
}

/// Expands the command line's operands: `-` is stdin, a directory is every regular file under
/// it sorted by path. What cannot be looked at becomes an [`Input::Failed`] next to the inputs
/// that could be, so the others still run. A walk never reads drainpipe's own temporary
/// output files (`.NAME.drainpipe-….tmp`, see [`crate::output::is_temp_name`]).
pub fn expand(operands: &[PathBuf]) -> Expanded {
    let mut out = Expanded::default();
    if operands.is_empty() {
        out.inputs.push(Input::Stdin);
        return out;
    }
    for path in operands {
        if path.as_os_str() == "-" {
            out.inputs.push(Input::Stdin);
            continue;
        }
        if path.is_dir() {
            let mut files = Vec::new();
            let mut errors = Vec::new();
            let mut seen = Vec::new();
            walk(path, &mut files, &mut errors, &mut seen, &mut out.skipped);
            files.sort();
            out.inputs.extend(files.into_iter().map(Input::Path));
            out.inputs
                .extend(errors.into_iter().map(|(name, e)| Input::Failed {
                    name,
                    message: crate::error::io_message(&e),
                }));
        } else {
            out.inputs.push(Input::Path(path.clone()));
        }
    }
    out
}

/// Collects regular files under `dir`. Symlinks to directories are followed once each (by
/// canonical path), so a link loop ends instead of recursing forever.
fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<(String, io::Error)>,
    seen: &mut Vec<PathBuf>,
    skipped: &mut Vec<String>,
) {
    match dir.canonicalize() {
        Ok(c) if seen.contains(&c) => return,
        Ok(c) => seen.push(c),
        Err(e) => {
            errors.push((dir.display().to_string(), e));
            return;
        }
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push((dir.display().to_string(), e));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push((dir.display().to_string(), e));
                continue;
            }
        };
        if crate::output::is_temp_name(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, files, errors, seen, skipped),
            Ok(m) if m.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) => {
                skipped.push(format!(
                    "{}: skipped: a broken symbolic link ({})",
                    path.display(),
                    crate::error::io_message(&e)
                ));
            }
            Err(e) => errors.push((path.display().to_string(), e)),
        }
    }
}

/// A reader that hands back a few bytes it already read, then the rest of `inner`.
struct Prefixed<R> {
    head: [u8; 2],
    pos: usize,
    len: usize,
    inner: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.len {
            let n = (self.len - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Opens an input, undoing gzip when its first bytes are the gzip magic (whatever its name).
pub fn open(input: &Input) -> io::Result<Opened> {
    open_counted(input, None)
}

/// [`open`], adding the bytes read from the file itself (before any gunzip) to `counter`,
/// for the progress line.
pub fn open_counted(input: &Input, counter: Option<Arc<AtomicU64>>) -> io::Result<Opened> {
    let (file, streaming): (Box<dyn Read + Send>, bool) = match input {
        Input::Stdin => stdin_reader()?,
        Input::Failed { message, .. } => return Err(io::Error::other(message.clone())),
        Input::Path(p) => {
            let f = File::open(p)?;
            let meta = f.metadata()?;
            if meta.is_dir() {
                return Err(io::Error::other("is a directory"));
            }
            (Box::new(f), !meta.is_file())
        }
    };
    let file: Box<dyn Read + Send> = match counter {
        Some(counter) => Box::new(Counted {
            inner: file,
            counter,
        }),
        None => file,
    };
    let mut head = Prefixed {
        head: [0; 2],
        pos: 0,
        len: 0,
        inner: file,
    };
    // Read the two magic bytes; a pipe may deliver them one at a time.
    while head.len < 2 {
        match head.inner.read(&mut head.head[head.len..]) {
            Ok(0) => break,
            Ok(n) => head.len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if head.head[..head.len] == [0x1f, 0x8b] {
        return Ok(Opened {
            reader: Box::new(MultiGzDecoder::new(io::BufReader::with_capacity(
                256 * 1024,
                head,
            ))),
            streaming,
        });
    }
    Ok(Opened {
        reader: Box::new(head),
        streaming,
    })
}

struct Counted {
    inner: Box<dyn Read + Send>,
    counter: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The total size of `inputs` when every one is a regular file (what a progress line needs),
/// otherwise `None`.
pub fn known_size(inputs: &[Input]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |sum, i| match i {
        Input::Path(p) => {
            let m = std::fs::metadata(p).ok()?;
            m.is_file().then(|| sum + m.len())
        }
        Input::Stdin => None,
        Input::Failed { .. } => Some(sum),
    })
}

/// Stdin as an unbuffered file, so we know whether it is a regular file (`< capture`) or a
/// pipe, and our own block buffer is the only one.
fn stdin_reader() -> io::Result<(Box<dyn Read + Send>, bool)> {
    use std::os::fd::AsFd;
    let fd = io::stdin().as_fd().try_clone_to_owned()?;
    let f = File::from(fd);
    let streaming = !f.metadata().map(|m| m.is_file()).unwrap_or(false);
    Ok((Box::new(f), streaming))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_detected_by_magic_and_multi_member_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.log"); // no .gz suffix on purpose
        let mut bytes = Vec::new();
        for part in [&b"first member\n"[..], b"second member\n"] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part).unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        std::fs::write(&path, bytes).unwrap();
        let mut s = String::new();
        let mut o = open(&Input::Path(path)).unwrap();
        o.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "first member\nsecond member\n");
        assert!(!o.streaming);
    }

    #[test]
    fn short_plain_files_pass_through() {
        let dir = tempfile::tempdir().unwrap();
        for content in [&b""[..], b"x", b"xy", b"xyz"] {
            let path = dir.path().join("f");
            std::fs::write(&path, content).unwrap();
            let mut v = Vec::new();
            open(&Input::Path(path))
                .unwrap()
                .reader
                .read_to_end(&mut v)
                .unwrap();
            assert_eq!(v, content);
        }
    }

    #[test]
    fn directories_expand_sorted_and_survive_link_loops() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("b")).unwrap();
        std::fs::write(d.join("b/2.drain"), "").unwrap();
        std::fs::write(d.join("a.drain"), "").unwrap();
        std::fs::write(d.join("b/1.drain"), "").unwrap();
        std::os::unix::fs::symlink(d, d.join("b/loop")).unwrap();
        let got = expand(&[d.to_path_buf()]).inputs;
        assert_eq!(
            got,
            vec![
                Input::Path(d.join("a.drain")),
                Input::Path(d.join("b/1.drain")),
                Input::Path(d.join("b/2.drain")),
            ]
        );
    }
}
