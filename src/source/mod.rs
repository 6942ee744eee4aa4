//! Where bytes come from: files, directories, stdin; gzip undone on the fly (README "Inputs").
//!
//! Also here: which format an input is ([`detect`]) and the reader that lets a live pipe be
//! waited on with a timeout ([`pump`]). Nothing in this module knows what a frame is.

pub mod detect;
pub mod pump;

use flate2::bufread::GzDecoder;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One input as the user named it (after directory expansion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file (or FIFO, or device) by path.
    Path(PathBuf),
    /// A path met while walking a directory that could not be looked at (a directory that
    /// cannot be listed). It stays in the list so the failure is reported, in order and with
    /// its code, like any other input's.
    Failed {
        /// The path, for reports.
        name: String,
        /// Why it could not be looked at.
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
    /// The bytes, gzip undone.
    pub reader: Box<dyn Read + Send>,
    /// Not a regular file (a pipe, terminal or socket): read what is there and process it at
    /// once instead of filling a whole block, so a live tail shows records as they arrive.
    pub streaming: bool,
    /// The bytes are gzip undone: reading costs real CPU (inflate), so whoever reads should do
    /// little else.
    pub inflating: bool,
}

/// What the command line's operands expand to.
#[derive(Debug, Default)]
pub struct Expanded {
    /// The inputs, in order.
    pub inputs: Vec<Input>,
    /// Paths a directory walk passed over on purpose (broken symbolic links), for a note on
    /// stderr: like `find -type f`, a walk reads files, and a link to nothing is none.
    pub skipped: Vec<String>,
}

/// What every temporary output file's name holds (`.NAME.drainpipe-RANDOM.tmp`): a directory
/// walk never reads such a file as an input, even one a killed run left behind.
pub const TEMP_MARK: &str = ".drainpipe-";

/// Whether `name` is one of drainpipe's temporary output files.
pub fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    use std::os::unix::ffi::OsStrExt;
    // `.NAME.drainpipe-` and 8 random letters or digits, then `.tmp`: exactly what
    // `AtomicFile` creates, nothing more.
    let n = name.as_bytes();
    let Some(stem) = n.strip_suffix(b".tmp") else {
        return false;
    };
    let Some(head) = stem.len().checked_sub(8).map(|k| &stem[..k]) else {
        return false;
    };
    n.starts_with(b".")
        && stem[head.len()..].iter().all(u8::is_ascii_alphanumeric)
        && head.ends_with(TEMP_MARK.as_bytes())
        && head.len() > TEMP_MARK.len()
}

/// Expands the command line's operands: `-` is stdin, a directory is every regular file under
/// it sorted by path (`walkdir`, symbolic links followed, each directory once, loops cut).
/// What cannot be looked at becomes an [`Input::Failed`] next to the inputs that could be, so
/// the others still run.
pub fn expand(operands: &[PathBuf]) -> Expanded {
    let mut out = Expanded::default();
    if operands.is_empty() {
        out.inputs.push(Input::Stdin);
        return out;
    }
    for path in operands {
        if path.as_os_str() == "-" {
            out.inputs.push(Input::Stdin);
        } else if path.is_dir() {
            walk(path, &mut out);
        } else {
            out.inputs.push(Input::Path(path.clone()));
        }
    }
    out
}

/// The paths a manifest lists (`--files-from`): one a line (a CR before the LF is dropped), or
/// separated by NUL bytes (`nul`, as `find -print0` writes them). Empty entries are skipped.
/// Paths are bytes: any file name a Unix system allows can be listed.
pub fn file_list(bytes: &[u8], nul: bool) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let sep = if nul { b'\0' } else { b'\n' };
    bytes
        .split(|&b| b == sep)
        .map(|p| {
            if nul {
                p
            } else {
                p.strip_suffix(b"\r").unwrap_or(p)
            }
        })
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(std::ffi::OsString::from_vec(p.to_vec())))
        .collect()
}

/// Adds the regular files under `dir` to `out`, in path order.
fn walk(dir: &Path, out: &mut Expanded) {
    let mut files = Vec::new();
    let mut failed = Vec::new();
    // Directories already walked, by canonical path: two links to one directory read it once.
    let mut seen = std::collections::HashSet::new();
    let entries = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !(e.depth() > 0 && is_temp_name(e.file_name()))
                && (!e.file_type().is_dir()
                    || e.path().canonicalize().map_or(true, |c| seen.insert(c)))
        });
    for entry in entries {
        match entry {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(_) => {}
            // A link back into the walk: its files are read where the walk meets them.
            Err(e) if e.loop_ancestor().is_some() => {}
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let message = e
                    .io_error()
                    .map_or_else(|| e.to_string(), crate::diag::messages::io_message);
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink())
                    && std::fs::metadata(&path).is_err()
                {
                    out.skipped.push(format!(
                        "{}: skipped: a broken symbolic link ({message})",
                        crate::diag::quote::shown_path(&path)
                    ));
                } else {
                    failed.push(Input::Failed {
                        name: path.display().to_string(),
                        message,
                    });
                }
            }
        }
    }
    files.sort();
    if files.is_empty() && failed.is_empty() {
        // A walk that finds nothing must not pass for a check that found nothing wrong.
        failed.push(Input::Failed {
            name: dir.display().to_string(),
            message: "a directory with no regular file under it".into(),
        });
    }
    out.inputs.extend(files.into_iter().map(Input::Path));
    out.inputs.extend(failed);
}

/// gzip members one after another (`cat a.gz b.gz`), as `gzip -d` reads them. Zero bytes after
/// the last member (padding a tape or block device added) are ignored, as gzip ignores them;
/// any other bytes after it are an error.
struct Members<R: BufRead> {
    /// The member being read; `None` once the input is done.
    member: Option<GzDecoder<R>>,
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member is done: what follows it?
            let mut rest = self.member.take().expect("just read").into_inner();
            let next = rest.fill_buf()?;
            if next.is_empty() {
                return Ok(0);
            }
            if next[0] == 0x1f {
                // Another member (whose header the decoder checks).
                self.member = Some(GzDecoder::new(rest));
                continue;
            }
            if next[0] != 0 {
                return Err(trailing_bytes());
            }
            loop {
                let b = rest.fill_buf()?;
                if b.is_empty() {
                    return Ok(0);
                }
                if b.iter().any(|&c| c != 0) {
                    return Err(trailing_bytes());
                }
                let n = b.len();
                rest.consume(n);
            }
        }
    }
}

/// Bytes after the last gzip member that are neither another member nor zero padding.
fn trailing_bytes() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "bytes after the gzip data that are neither a gzip member nor zero padding",
    )
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
            reader: Box::new(Members {
                member: Some(GzDecoder::new(io::BufReader::with_capacity(
                    256 * 1024,
                    head,
                ))),
            }),
            streaming,
            inflating: true,
        });
    }
    Ok(Opened {
        reader: Box::new(head),
        streaming,
        inflating: false,
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
    fn manifests_list_one_path_a_line_or_nul_separated() {
        let l = file_list(b"a.gz\r\nb c.gz\n\nd\xff\n", false);
        assert_eq!(l.len(), 3);
        assert_eq!(l[1], PathBuf::from("b c.gz"));
        let l = file_list(b"new\nline\0x\0", true);
        assert_eq!(l, [PathBuf::from("new\nline"), PathBuf::from("x")]);
    }

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
