//! Where the importer reads files and expands `include` patterns: the disk, or an in-memory set of
//! files (tests, fuzzing: nothing outside the set is ever opened).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub trait Files {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// The regular files `pattern` (a glob) matches, sorted.
    fn glob(&self, pattern: &Path) -> Result<Vec<PathBuf>, String>;
}

/// The file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

impl Files for Disk {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn glob(&self, pattern: &Path) -> Result<Vec<PathBuf>, String> {
        let text = pattern.to_string_lossy();
        let paths = glob::glob(&text).map_err(|e| include_pattern(&text, &e))?;
        let mut files: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        Ok(files)
    }
}

/// Files held in memory, by path; a glob matches their paths as the disk's glob would.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryFiles {
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl Files for MemoryFiles {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }

    fn glob(&self, pattern: &Path) -> Result<Vec<PathBuf>, String> {
        let text = pattern.to_string_lossy();
        let pattern = glob::Pattern::new(&text).map_err(|e| include_pattern(&text, &e))?;
        // As glob::glob walks directories: `*` never matches across a `/`.
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        Ok(self
            .files
            .keys()
            .filter(|path| pattern.matches_path_with(path, options))
            .cloned()
            .collect())
    }
}

fn include_pattern(text: &str, error: &glob::PatternError) -> String {
    format!("include pattern `{text}`: {error}")
}
