//! The script security check: when the daemon runs as root, a script that a non-root user could
//! change, or swap for another, would run that user's code as root. [`check_script`] refuses such
//! scripts (keepalived's `enable_script_security`, always on).
//!
//! The rule, simple and strict. Every entry the kernel goes through to reach the file must be
//! root's to change:
//!
//! - every directory from `/` down, including the directories symlinks lead through: owned by
//!   uid 0 (an owner can always `chmod` itself write access, so a non-root owner is refused
//!   whatever the mode), not group-writable unless the group is gid 0, not writable by others;
//! - a directory writable by others with the sticky bit (`/tmp`) is accepted above the file's
//!   own directory (the sticky bit keeps others from renaming the root-owned entry below), but
//!   never as the file's own directory;
//! - every symlink followed: owned by uid 0 (in a sticky directory its owner could replace it);
//! - the file: a regular file, owned by uid 0, not group-writable unless gid 0, not writable by
//!   others, with an execute bit.
//!
//! Not covered: what a script itself reads or runs, and, in shell mode, anything but `/bin/sh`
//! and the text's first word.

use std::ffi::OsString;
use std::fmt;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::{MINIMAL_PATH, SHELL};

/// How many symlinks a resolution follows before it calls it a loop (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// Why a script is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsecureScript {
    /// The script as configured (the program, or the shell text).
    pub script: String,
    /// The entry that is the problem.
    pub path: PathBuf,
    pub problem: Problem,
}

/// What is wrong with [`InsecureScript::path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    /// A name (no `/`) not found in [`MINIMAL_PATH`].
    NotInPath,
    /// A path component that has to be a directory is not one.
    NotADirectory,
    NotARegularFile,
    NotExecutable,
    SymlinkLoop,
    /// Reading the entry failed: the OS error.
    Unreadable(String),
    Writable {
        entry: Entry,
        by: Writer,
    },
}

/// The kind of entry that is writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    File,
    Directory,
    Symlink,
}

/// Who, besides root, can change an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Its non-root owner.
    Owner(u32),
    /// The members of its non-root group.
    Group(u32),
    Everyone,
}

impl fmt::Display for InsecureScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        write!(f, "{}: ", self.script)?;
        match &self.problem {
            Problem::Missing => write!(f, "{path} does not exist"),
            Problem::NotInPath => write!(f, "{path} is not found in {MINIMAL_PATH}"),
            Problem::NotADirectory => write!(f, "{path} is not a directory"),
            Problem::NotARegularFile => write!(f, "{path} is not a regular file"),
            Problem::NotExecutable => write!(f, "{path} is not executable"),
            Problem::SymlinkLoop => write!(f, "{path}: too many levels of symbolic links"),
            Problem::Unreadable(err) => write!(f, "{path}: {err}"),
            Problem::Writable { entry, by } => {
                let entry = match entry {
                    Entry::File => "the file",
                    Entry::Directory => "the directory",
                    Entry::Symlink => "the symlink",
                };
                match by {
                    Writer::Owner(uid) => {
                        write!(f, "{entry} {path} is writable by uid {uid} (its owner)")
                    }
                    Writer::Group(gid) => write!(f, "{entry} {path} is writable by group {gid}"),
                    Writer::Everyone => write!(f, "{entry} {path} is writable by everyone"),
                }
            }
        }
    }
}

impl std::error::Error for InsecureScript {}

/// Checks that a script is root's alone (the rule in the module doc) and returns the program that
/// will be executed: `argv0_or_path` itself if it has a `/` (a relative one taken from `/`, where
/// [`super::run`] starts scripts), else its first hit in [`MINIMAL_PATH`] (not canonicalized:
/// multi-call binaries read their `argv[0]`), or `/bin/sh` in shell mode. (`run` still starts the
/// configured name, looked up in the same fixed `PATH`.)
///
/// A name's earlier `PATH` directories are checked too: a file planted there would shadow it. In
/// shell mode, `argv0_or_path` is the script text: `/bin/sh` is checked, and the text's first
/// word if it is a path, or a name found in `PATH` (a name not found is taken for a shell
/// builtin; an assignment `VAR=...` is skipped).
///
/// Call it when the daemon runs as root; for anyone else the scripts run with no more rights than
/// the daemon's.
pub fn check_script(argv0_or_path: &str, shell: bool) -> Result<PathBuf, InsecureScript> {
    let refuse = |path: PathBuf, problem: Problem| InsecureScript {
        script: argv0_or_path.to_owned(),
        path,
        problem,
    };
    if !shell {
        return check_program(argv0_or_path).map_err(|(path, problem)| refuse(path, problem));
    }
    let shell_path = check_program(SHELL).map_err(|(path, problem)| refuse(path, problem))?;
    if let Some(word) = first_word(argv0_or_path) {
        let checked = if word.contains('=') {
            Ok(())
        } else if word.contains('/') || find_in_path(&word).is_some() {
            check_program(&word).map(drop)
        } else {
            Ok(())
        };
        checked.map_err(|(path, problem)| refuse(path, problem))?;
    }
    Ok(shell_path)
}

/// Checks a whole command: the program as [`check_script`] does, and every path-like token of every
/// word (the shell text split at its operators `; & | < > ( ) $ \``, quotes and whitespace, then at
/// `=` and `:`; a token with a `/` is a path, a relative one taken from `/` where scripts start):
/// an existing file or directory must be root's alone, and for one that does not exist yet, the
/// nearest existing directory above it must be writable by root only (sticky or not: anyone may
/// create a file in `/tmp`). A root script handed something others can change or create
/// (`sh /home/u/x`, `exec /tmp/x`, `LC_ALL=C /tmp/x`, `. /tmp/x`, `$(/tmp/x)`, `PATH=/tmp:/bin`)
/// would run their code. Every token is checked even when the program has a problem, and a
/// writable one wins: a missing program must not hide an insecure argument.
pub fn check_command(words: &[String], shell: bool) -> Result<PathBuf, InsecureScript> {
    let script = words.join(" ");
    let refuse = |(path, problem): Fault| InsecureScript {
        script: script.clone(),
        path,
        problem,
    };
    let Some(first) = words.first() else {
        return Err(refuse((PathBuf::new(), Problem::Missing)));
    };
    let program = check_script(first, shell);
    let tokens = path_tokens(if shell { &words[..1] } else { words });
    let insecure = tokens
        .iter()
        .filter_map(|token| check_path_token(token).err())
        .find(|(_, problem)| matches!(problem, Problem::Writable { .. }));
    match (program, insecure) {
        (_, Some(fault)) => Err(refuse(fault)),
        (program, None) => program,
    }
}

/// The path-like tokens of `words`: split at shell operators, quotes and whitespace, then at `=`
/// and `:`; those with a `/`.
fn path_tokens(words: &[String]) -> Vec<String> {
    let operator = |c: char| c.is_whitespace() || ";&|<>()$`'\"\\".contains(c);
    words
        .iter()
        .flat_map(|word| word.split(operator))
        .flat_map(|piece| piece.split(['=', ':']))
        .filter(|token| token.contains('/'))
        .map(str::to_owned)
        .collect()
}

/// A path token: what exists must be root's alone (files and directories, and the directories to
/// them); what does not exist yet must not be creatable by others.
fn check_path_token(token: &str) -> Result<(), Fault> {
    let path = Path::new("/").join(token);
    match std::fs::symlink_metadata(&path) {
        Ok(_) => {
            let resolved = resolve(&path)?;
            check_chain(&resolved, resolved.target.parent())?;
            let meta = metadata(&resolved.target)?;
            let entry = match () {
                () if meta.is_dir() => Entry::Directory,
                () if meta.is_file() => Entry::File,
                // Devices, FIFOs and sockets (`2>/dev/null`) are not code.
                () => return Ok(()),
            };
            check_writers(&resolved.target, &meta, entry, false)
        }
        Err(_) => {
            let Some(existing) = path.ancestors().skip(1).find(|a| a.is_dir()) else {
                return Ok(());
            };
            let resolved = resolve(existing)?;
            check_chain(&resolved, None)?;
            let meta = metadata(&resolved.target)?;
            check_writers(&resolved.target, &meta, Entry::Directory, false)
        }
    }
}

/// The entry at fault and what is wrong with it.
type Fault = (PathBuf, Problem);

/// Checks a program as [`check_script`] does outside shell mode.
fn check_program(program: &str) -> Result<PathBuf, Fault> {
    if program.contains('/') {
        let path = Path::new("/").join(program);
        check_file(&path)?;
        return Ok(path);
    }
    for dir in MINIMAL_PATH.split(':') {
        let candidate = Path::new(dir).join(program);
        if is_executable_file(&candidate) {
            check_file(&candidate)?;
            return Ok(candidate);
        }
        check_searched_dir(Path::new(dir))?;
    }
    Err((PathBuf::from(program), Problem::NotInPath))
}

/// A `PATH` directory searched before the hit: no one but root may add a file to it. A missing
/// one is skipped (creating it would need a write to a parent we do not see; accepted).
fn check_searched_dir(dir: &Path) -> Result<(), Fault> {
    let resolved = match resolve(dir) {
        Ok(resolved) => resolved,
        Err((_, Problem::Missing)) => return Ok(()),
        Err(fault) => return Err(fault),
    };
    check_chain(&resolved, None)?;
    let meta = metadata(&resolved.target)?;
    check_writers(&resolved.target, &meta, Entry::Directory, false)
}

/// Checks the file at `path` and everything leading to it.
fn check_file(path: &Path) -> Result<(), Fault> {
    let resolved = resolve(path)?;
    check_chain(&resolved, resolved.target.parent())?;
    let meta = metadata(&resolved.target)?;
    if !meta.is_file() {
        return Err((resolved.target, Problem::NotARegularFile));
    }
    check_writers(&resolved.target, &meta, Entry::File, false)?;
    if meta.mode() & 0o111 == 0 {
        return Err((resolved.target, Problem::NotExecutable));
    }
    Ok(())
}

/// Checks the directories and symlinks a resolution went through; `own_dir` (the target's
/// directory) gets no sticky-bit exemption.
fn check_chain(resolved: &Resolved, own_dir: Option<&Path>) -> Result<(), Fault> {
    for dir in &resolved.dirs {
        let meta = metadata(dir)?;
        let sticky_ok = Some(dir.as_path()) != own_dir;
        check_writers(dir, &meta, Entry::Directory, sticky_ok)?;
    }
    for link in &resolved.links {
        let meta = std::fs::symlink_metadata(link).map_err(|err| io_fault(link, &err))?;
        if meta.uid() != 0 {
            let by = Writer::Owner(meta.uid());
            let problem = Problem::Writable {
                entry: Entry::Symlink,
                by,
            };
            return Err((link.clone(), problem));
        }
    }
    Ok(())
}

fn check_writers(path: &Path, meta: &Metadata, entry: Entry, sticky_ok: bool) -> Result<(), Fault> {
    match writer(meta, sticky_ok) {
        None => Ok(()),
        Some(by) => Err((path.to_owned(), Problem::Writable { entry, by })),
    }
}

/// Who besides root can change an entry with this metadata.
fn writer(meta: &Metadata, sticky_ok: bool) -> Option<Writer> {
    let mode = meta.mode();
    if meta.uid() != 0 {
        Some(Writer::Owner(meta.uid()))
    } else if mode & 0o020 != 0 && meta.gid() != 0 {
        Some(Writer::Group(meta.gid()))
    } else if mode & 0o002 != 0 && !(sticky_ok && mode & 0o1000 != 0) {
        Some(Writer::Everyone)
    } else {
        None
    }
}

fn metadata(path: &Path) -> Result<Metadata, Fault> {
    std::fs::metadata(path).map_err(|err| io_fault(path, &err))
}

fn io_fault(path: &Path, err: &io::Error) -> Fault {
    let problem = match err.kind() {
        io::ErrorKind::NotFound => Problem::Missing,
        io::ErrorKind::NotADirectory => Problem::NotADirectory,
        _ => Problem::Unreadable(err.to_string()),
    };
    (path.to_owned(), problem)
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
}

/// The first hit of a name in [`MINIMAL_PATH`], as `execvp` would find it.
fn find_in_path(name: &str) -> Option<PathBuf> {
    MINIMAL_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| is_executable_file(candidate))
}

/// The first word of shell text, unquoted the way the shell would (or split on blanks if the
/// text does not parse, e.g. it continues with shell syntax `shell-words` rejects).
fn first_word(text: &str) -> Option<String> {
    match shell_words::split(text) {
        Ok(words) => words.into_iter().next(),
        Err(_) => text.split_whitespace().next().map(str::to_owned),
    }
}

/// What resolving a path went through.
#[derive(Debug)]
struct Resolved {
    /// Every directory entered, as a physical path (no symlinks in it), `/` first.
    dirs: Vec<PathBuf>,
    /// Every symlink followed, as a physical path.
    links: Vec<PathBuf>,
    /// The physical path of what the path names.
    target: PathBuf,
}

/// Resolves `path` (relative ones from `/`) one component at a time, as the kernel does, noting
/// every directory and symlink on the way: `canonicalize` gives only the end, and a writable
/// directory holding an intermediate symlink matters as much as the target's own.
fn resolve(path: &Path) -> Result<Resolved, Fault> {
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, path);
    let mut current = PathBuf::from("/");
    let mut resolved = Resolved {
        dirs: vec![current.clone()],
        links: Vec::new(),
        target: current.clone(),
    };
    while let Some(name) = pending.pop() {
        if name == ".." {
            current.pop();
            continue;
        }
        let next = current.join(&name);
        let meta = std::fs::symlink_metadata(&next).map_err(|err| io_fault(&next, &err))?;
        if meta.file_type().is_symlink() {
            if resolved.links.len() >= MAX_SYMLINKS {
                return Err((next, Problem::SymlinkLoop));
            }
            let target = std::fs::read_link(&next).map_err(|err| io_fault(&next, &err))?;
            if target.is_absolute() {
                current = PathBuf::from("/");
            }
            push_components(&mut pending, &target);
            resolved.links.push(next);
            continue;
        }
        current = next;
        if !pending.is_empty() {
            if !meta.is_dir() {
                return Err((current, Problem::NotADirectory));
            }
            resolved.dirs.push(current.clone());
        }
    }
    resolved.target = current;
    Ok(resolved)
}

/// Pushes `path`'s components onto the stack so the first one pops first (`.` and `/` dropped).
fn push_components(pending: &mut Vec<OsString>, path: &Path) {
    let names = path.components().filter_map(|component| match component {
        Component::Normal(name) => Some(name.to_owned()),
        Component::ParentDir => Some(OsString::from("..")),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    });
    let names: Vec<OsString> = names.collect();
    pending.extend(names.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, chown, lchown, symlink};

    use super::*;
    use crate::exec::test_dir::TempDir;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A root-owned script `name` in `dir` with this mode.
    fn script(dir: &TempDir, name: &str, mode: u32) -> PathBuf {
        let path = dir.file(name);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
        chmod(&path, mode);
        path
    }

    fn check(path: &Path) -> Result<PathBuf, InsecureScript> {
        check_script(path.to_str().unwrap(), false)
    }

    fn writable(entry: Entry, by: Writer) -> Problem {
        Problem::Writable { entry, by }
    }

    #[test]
    fn a_root_script_in_a_root_directory_is_accepted() {
        let dir = TempDir::new("sec-ok");
        chmod(dir.path(), 0o755);
        let path = script(&dir, "check.sh", 0o755);
        // The temp dir's parent, /tmp, is sticky and writable by all: fine above the own dir.
        assert_eq!(check(&path), Ok(path.clone()));
        // Group-writable is fine when the group is root's.
        chmod(&path, 0o775);
        assert_eq!(check(&path), Ok(path));
    }

    #[test]
    fn a_script_in_a_world_writable_directory_is_refused_naming_it() {
        let dir = TempDir::new("sec-777");
        let path = script(&dir, "check.sh", 0o755);
        chmod(dir.path(), 0o777);
        let err = check(&path).unwrap_err();
        assert_eq!(err.path, dir.path());
        assert_eq!(err.problem, writable(Entry::Directory, Writer::Everyone));
        let expected = format!(
            "{}: the directory {} is writable by everyone",
            path.display(),
            dir.path().display()
        );
        assert_eq!(err.to_string(), expected);
        // Sticky does not save the script's own directory.
        chmod(dir.path(), 0o1777);
        assert_eq!(check(&path).unwrap_err().path, dir.path());
    }

    #[test]
    fn a_group_writable_file_with_a_non_root_group_is_refused() {
        let dir = TempDir::new("sec-group");
        chmod(dir.path(), 0o755);
        let path = script(&dir, "check.sh", 0o775);
        chown(&path, None, Some(65534)).unwrap();
        let err = check(&path).unwrap_err();
        assert_eq!(err.path, path);
        assert_eq!(err.problem, writable(Entry::File, Writer::Group(65534)));
        assert!(
            err.to_string().ends_with("is writable by group 65534"),
            "{err}"
        );
        // The same group without the write bit is fine.
        chmod(&path, 0o755);
        assert_eq!(check(&path), Ok(path));
    }

    #[test]
    fn a_non_root_owner_is_refused_whatever_the_mode() {
        let dir = TempDir::new("sec-owner");
        chmod(dir.path(), 0o755);
        let path = script(&dir, "check.sh", 0o555);
        chown(&path, Some(1000), None).unwrap();
        let err = check(&path).unwrap_err();
        assert_eq!(err.problem, writable(Entry::File, Writer::Owner(1000)));
        assert!(err.to_string().contains("writable by uid 1000"), "{err}");

        let sub = dir.file("sub");
        std::fs::create_dir(&sub).unwrap();
        chown(&sub, Some(1000), None).unwrap();
        let inner = sub.join("check.sh");
        std::fs::write(&inner, "").unwrap();
        chmod(&inner, 0o755);
        let err = check(&inner).unwrap_err();
        assert_eq!(
            (err.path, err.problem),
            (sub, writable(Entry::Directory, Writer::Owner(1000)))
        );
    }

    #[test]
    fn missing_and_non_executable_files_are_refused() {
        let dir = TempDir::new("sec-missing");
        chmod(dir.path(), 0o755);
        let missing = dir.file("nope.sh");
        let err = check(&missing).unwrap_err();
        assert_eq!(
            (err.path.clone(), err.problem.clone()),
            (missing.clone(), Problem::Missing)
        );
        assert!(err.to_string().ends_with("nope.sh does not exist"), "{err}");

        let plain = script(&dir, "plain.sh", 0o644);
        assert_eq!(check(&plain).unwrap_err().problem, Problem::NotExecutable);
        let sub = dir.file("sub");
        std::fs::create_dir(&sub).unwrap();
        chmod(&sub, 0o755);
        assert_eq!(check(&sub).unwrap_err().problem, Problem::NotARegularFile);
        let through_file = plain.join("x");
        assert_eq!(
            check(&through_file).unwrap_err().problem,
            Problem::NotADirectory
        );
    }

    #[test]
    fn symlinks_are_followed_and_their_whole_chain_checked() {
        let safe = TempDir::new("sec-link-safe");
        chmod(safe.path(), 0o755);
        let unsafe_dir = TempDir::new("sec-link-unsafe");
        let target = script(&unsafe_dir, "real.sh", 0o755);
        chmod(unsafe_dir.path(), 0o777);
        let link = safe.file("check.sh");
        symlink(&target, &link).unwrap();
        let err = check(&link).unwrap_err();
        assert_eq!(err.path, unsafe_dir.path());
        assert_eq!(err.problem, writable(Entry::Directory, Writer::Everyone));

        // A link to a safe script is accepted, and the link (not its target) is returned.
        let good = script(&safe, "real.sh", 0o755);
        let relative = safe.file("relative.sh");
        symlink("real.sh", &relative).unwrap();
        assert_eq!(check(&relative), Ok(relative.clone()));
        assert!(check(&good).is_ok());

        // A link owned by a user is refused (in a sticky directory its owner could swap it).
        lchown(&relative, Some(1000), None).unwrap();
        let err = check(&relative).unwrap_err();
        assert_eq!(err.problem, writable(Entry::Symlink, Writer::Owner(1000)));

        let looping = safe.file("loop");
        symlink("loop", &looping).unwrap();
        assert_eq!(check(&looping).unwrap_err().problem, Problem::SymlinkLoop);
    }

    #[test]
    fn names_are_looked_up_in_the_minimal_path() {
        let expected = find_in_path("sh").unwrap();
        assert!(expected.starts_with("/usr") || expected.starts_with("/bin"));
        assert_eq!(check_script("sh", false), Ok(expected));
        let err = check_script("keepvip-no-such-program", false).unwrap_err();
        assert_eq!(err.problem, Problem::NotInPath);
    }

    #[test]
    fn shell_mode_checks_the_shell_and_the_first_word() {
        assert_eq!(check_script("exit 0", true), Ok(PathBuf::from(SHELL)));
        assert_eq!(
            check_script("FOO=/x/y true", true),
            Ok(PathBuf::from(SHELL))
        );
        assert_eq!(
            check_script("test -f /etc/passwd", true),
            Ok(PathBuf::from(SHELL))
        );

        let dir = TempDir::new("sec-shell");
        let path = script(&dir, "check.sh", 0o755);
        chmod(dir.path(), 0o777);
        let text = format!("'{}' --quiet && echo ok", path.display());
        let err = check_script(&text, true).unwrap_err();
        assert_eq!(err.script, text);
        assert_eq!(err.path, dir.path());
        let missing = check_script("/nonexistent/keepvip-check arg", true).unwrap_err();
        assert_eq!(missing.problem, Problem::Missing);
    }
}
