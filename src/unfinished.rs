//! Downloads that were running when the tab went away: what the page remembers of each (in
//! localStorage, see `hooks::use_unfinished`) so that, opened again, it lists them and offers to
//! resume from the bytes staged so far. Pure: the list and its text form.

use serde::{Deserialize, Serialize};
use wharf_oci::{Digest, Reference};

/// Where the list is kept in localStorage.
pub const STORAGE_KEY: &str = "wharf.unfinished";

/// What a blob download needs to start again. The reference is kept as text and parsed when
/// the list is read: an entry that no longer parses is dropped, never trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub reference: String,
    pub digest: Digest,
    pub size: u64,
    pub file_name: String,
    /// For a whole-image archive (`digest` is then the manifest's or index's it is pinned by,
    /// and `size` 0): how to start it again on the file it staged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<RememberedExport>,
}

/// What an archive export needs to go on where a closed tab left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedExport {
    pub format: crate::download::ExportFormat,
    #[serde(default)]
    pub platforms: Vec<Digest>,
    pub staged_name: String,
}

impl Remembered {
    pub fn new(reference: &Reference, digest: &Digest, size: u64, file_name: &str) -> Self {
        Remembered {
            reference: reference.to_string(),
            digest: digest.clone(),
            size,
            file_name: file_name.to_owned(),
            export: None,
        }
    }

    /// The staged file that holds its bytes.
    pub fn staged_name(&self) -> String {
        match &self.export {
            Some(export) => export.staged_name.clone(),
            None => crate::download::staged_name(&self.digest),
        }
    }

    pub fn parsed_reference(&self) -> Option<Reference> {
        self.reference.parse().ok()
    }
}

/// An unfinished download as the page lists it: what it was and how much of it is staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    pub download: Remembered,
    pub staged: u64,
}

/// Reads the stored list; anything unreadable is left out (a list written by another version,
/// or edited by hand, costs those entries, not the page).
pub fn parse(text: Option<&str>) -> Vec<Remembered> {
    let Some(text) = text else {
        return Vec::new();
    };
    let values: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    values
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Remembered>(v).ok())
        .filter(|r| r.parsed_reference().is_some() && !r.file_name.is_empty())
        .collect()
}

pub fn to_text(list: &[Remembered]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

/// `list` with `entry` in it (replacing one for the same digest).
pub fn with(list: Vec<Remembered>, entry: Remembered) -> Vec<Remembered> {
    let mut list = without(list, &entry.digest);
    list.push(entry);
    list
}

pub fn without(list: Vec<Remembered>, digest: &Digest) -> Vec<Remembered> {
    list.into_iter().filter(|r| &r.digest != digest).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seed: u8, name: &str) -> Remembered {
        let reference: Reference = "ghcr.io/homebrew/core/vim:9.0".parse().unwrap();
        Remembered::new(&reference, &Digest::sha256_of(&[seed]), 42, name)
    }

    #[test]
    fn round_trip_and_replacement() {
        let list = with(with(Vec::new(), entry(1, "a")), entry(2, "b"));
        let list = with(list, entry(1, "a again"));
        assert_eq!(list.len(), 2);
        let text = to_text(&list);
        assert_eq!(parse(Some(&text)), list);
        assert_eq!(
            parse(Some(&text)).last().map(|r| r.file_name.as_str()),
            Some("a again")
        );
        let one = without(list, &entry(1, "").digest);
        assert_eq!(one, vec![entry(2, "b")]);
    }

    #[test]
    fn exports_keep_how_to_go_on() {
        let mut export = entry(4, "app_1_linux-amd64.tar");
        export.export = Some(RememberedExport {
            format: crate::download::ExportFormat::Oci,
            platforms: vec![Digest::sha256_of(b"arm64")],
            staged_name: "export-ab-oci-17.tar".into(),
        });
        let list = with(vec![entry(5, "layer")], export.clone());
        let back = parse(Some(&to_text(&list)));
        assert_eq!(back, list);
        assert_eq!(back[1].staged_name(), "export-ab-oci-17.tar");
        assert_eq!(
            back[0].staged_name(),
            crate::download::staged_name(&back[0].digest)
        );
    }

    #[test]
    fn unreadable_entries_are_left_out() {
        let good = to_text(&[entry(3, "c")]);
        let good = good.trim_start_matches('[').trim_end_matches(']');
        let cases: &[(Option<&str>, usize)] = &[
            (None, 0),
            (Some(""), 0),
            (Some("not json"), 0),
            (Some("{}"), 0),
            (Some(r#"[{"reference":"x"}]"#), 0),
            (Some(&format!("[{good}]")), 1),
            (
                Some(&format!(r#"[{good}, 7, {{"digest":"sha256:zz"}}]"#)),
                1,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(*text).len(), *want, "{text:?}");
        }
        let bad_reference = format!(
            "[{}]",
            good.replace("ghcr.io/homebrew/core/vim:9.0", "UPPER CASE")
        );
        assert!(parse(Some(&bad_reference)).is_empty());
        let no_name = format!("[{}]", good.replace("\"c\"", "\"\""));
        assert!(parse(Some(&no_name)).is_empty());
    }
}
