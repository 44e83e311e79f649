//! A one-line path field with Tab completion from the file system, and the
//! listing of a folder (subfolders and `.db` files) for browsing a USB stick.

use std::path::{Path, PathBuf};

/// A path being typed. `cursor` counts chars.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathInput {
    pub text: String,
    pub cursor: usize,
    /// The names that matched the last Tab, when it could not pick one.
    pub choices: Vec<String>,
}

impl PathInput {
    pub fn new(text: &str) -> PathInput {
        PathInput { text: text.to_string(), cursor: text.chars().count(), choices: Vec::new() }
    }

    pub fn set(&mut self, text: &str) {
        *self = PathInput::new(text);
    }

    fn byte_at(&self, cursor: usize) -> usize {
        self.text.char_indices().nth(cursor).map_or(self.text.len(), |(i, _)| i)
    }

    pub fn insert(&mut self, c: char) {
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
        self.choices.clear();
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
        self.choices.clear();
    }

    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
        self.choices.clear();
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// Completes the file or folder name before the cursor (the whole text
    /// is taken as the path): one match is completed whole (a folder gets a
    /// `/`), several are completed to their common start and listed.
    pub fn complete(&mut self, home: &Path) {
        self.end();
        if self.text == "~" {
            self.set("~/");
            return;
        }
        let (dir_part, prefix) = match self.text.rfind('/') {
            Some(i) => (self.text[..=i].to_string(), self.text[i + 1..].to_string()),
            None => (String::new(), self.text.clone()),
        };
        let dir = if dir_part.is_empty() { PathBuf::from(".") } else { expand(&dir_part, home) };
        let Ok(rd) = std::fs::read_dir(&dir) else {
            self.choices.clear();
            return;
        };
        let mut matches: Vec<(String, bool)> = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let hidden = name.starts_with('.') && !prefix.starts_with('.');
                (!hidden && name.starts_with(&prefix)).then(|| (name, e.path().is_dir()))
            })
            .collect();
        matches.sort();
        match matches.as_slice() {
            [] => self.choices.clear(),
            [(name, is_dir)] => {
                self.text = format!("{dir_part}{name}{}", if *is_dir { "/" } else { "" });
                self.choices.clear();
            }
            _ => {
                let common = common_prefix(matches.iter().map(|(n, _)| n.as_str()));
                self.text = format!("{dir_part}{common}");
                self.choices = matches.into_iter().map(|(n, d)| if d { format!("{n}/") } else { n }).collect();
            }
        }
        self.end();
    }
}

/// The longest common start of some names, in whole chars.
fn common_prefix<'a>(mut names: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = names.next() else { return String::new() };
    let mut n = first.chars().count();
    for name in names {
        n = first.chars().zip(name.chars()).take(n).take_while(|(a, b)| a == b).count();
    }
    first.chars().take(n).collect()
}

/// A path as typed, with a leading `~` meaning the home folder.
pub fn expand(text: &str, home: &Path) -> PathBuf {
    if text == "~" {
        return home.to_path_buf();
    }
    match text.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(text),
    }
}

/// A path for people: under the home folder it starts with `~`.
pub fn tilde(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) if rest.as_os_str().is_empty() => "~".to_string(),
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub is_dir: bool,
    /// Bytes, for files.
    pub size: u64,
}

/// The subfolders and `.db` files of a folder, folders first, by name; the
/// parent folder first of all (named `..`). Hidden entries are left out.
pub fn list_dir(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)?.flatten() {
        let Ok(name) = e.file_name().into_string() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        let is_dir = path.is_dir();
        let is_db = path.extension().is_some_and(|x| x.eq_ignore_ascii_case("db"));
        if is_dir || is_db {
            let size = if is_dir { 0 } else { e.metadata().map(|m| m.len()).unwrap_or(0) };
            out.push(Entry { name, path, is_dir, size });
        }
    }
    out.sort_by(|a, b| (!a.is_dir, &a.name).cmp(&(!b.is_dir, &b.name)));
    if let Some(parent) = dir.parent() {
        out.insert(0, Entry { name: "..".into(), path: parent.to_path_buf(), is_dir: true, size: 0 });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_one_match_whole_and_several_to_their_common_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("乡镇甲")).unwrap();
        std::fs::write(dir.path().join("crew-荷塘.db"), b"").unwrap();
        std::fs::write(dir.path().join("crew-仙庾.db"), b"").unwrap();
        let base = format!("{}/", dir.path().display());
        let mut p = PathInput::new(&format!("{base}乡"));
        p.complete(Path::new("/nowhere"));
        assert_eq!(p.text, format!("{base}乡镇甲/"));
        assert!(p.choices.is_empty());
        let mut p = PathInput::new(&format!("{base}c"));
        p.complete(Path::new("/nowhere"));
        assert_eq!(p.text, format!("{base}crew-"));
        assert_eq!(p.choices, ["crew-仙庾.db", "crew-荷塘.db"]);
        assert_eq!(p.cursor, p.text.chars().count());
        // Through the home folder.
        let mut p = PathInput::new("~/crew-荷");
        p.complete(dir.path());
        assert_eq!(p.text, "~/crew-荷塘.db");
        let mut p = PathInput::new("~");
        p.complete(dir.path());
        assert_eq!(p.text, "~/");
        // Nothing matches: nothing changes.
        let mut p = PathInput::new(&format!("{base}zz"));
        p.complete(Path::new("/nowhere"));
        assert_eq!(p.text, format!("{base}zz"));
        assert!(p.choices.is_empty());
    }

    #[test]
    fn a_folder_lists_subfolders_and_db_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("a.db"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        std::fs::write(dir.path().join(".hidden.db"), b"x").unwrap();
        let names: Vec<String> = list_dir(dir.path()).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["..", "b", "a.db"]);
    }
}
