//! Tag lists (`GET /v2/<name>/tags/list`) and their pagination.
//!
//! A page is `{"name": "...", "tags": [...]}`; registries send `"tags": null` for a repository
//! without tags. The next page is named by a `Link: <url>; rel="next"` header (RFC 8288), whose
//! URL is usually relative (`/v2/<name>/tags/list?last=b&n=2`) and is resolved against the
//! URL of the request that was answered.
//!
//! Hand-written: `oci_spec::distribution::TagList` refuses `"tags": null`, and no small crate
//! parses `Link` headers without pulling an HTTP stack in.

use http::header::LINK;
use http::HeaderMap;
use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::reference::Tag;
use crate::request::Request;

/// One page of a tag list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagList {
    /// The repository, as the registry names it (`library/alpine`).
    pub name: String,
    pub tags: Vec<Tag>,
}

#[derive(Deserialize)]
struct RawTagList {
    name: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// Decodes one page. Every tag is validated: a registry that lists a tag outside the grammar
/// is answering something other than a tag list, and such a tag could not be requested anyway.
pub fn decode_tag_list(body: &[u8]) -> Result<TagList> {
    let raw: RawTagList = serde_json::from_slice(body).map_err(|e| Error::InvalidTagList {
        reason: e.to_string(),
    })?;
    let tags = raw
        .tags
        .unwrap_or_default()
        .iter()
        .map(|t| {
            t.parse::<Tag>().map_err(|_| Error::InvalidTagList {
                reason: format!("{t:?} is not a valid tag"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TagList {
        name: raw.name,
        tags,
    })
}

/// One link of a `Link` header: its target (as written) and its parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkValue {
    pub target: String,
    pub params: Vec<(String, String)>,
}

impl LinkValue {
    /// Whether `rel` (a space-separated list of relation types) includes `relation`.
    pub fn has_rel(&self, relation: &str) -> bool {
        self.params
            .iter()
            .filter(|(name, _)| name == "rel")
            .flat_map(|(_, value)| value.split_ascii_whitespace())
            .any(|r| r.eq_ignore_ascii_case(relation))
    }
}

fn bad_link(reason: impl Into<String>) -> Error {
    Error::InvalidLink {
        reason: reason.into(),
    }
}

/// Parses one `Link` header value: `<url>; rel="next"; title=x, <url2>; rel=prev`.
pub fn parse_link(value: &str) -> Result<Vec<LinkValue>> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Ok(links);
        }
        let inner = rest
            .strip_prefix('<')
            .ok_or_else(|| bad_link(format!("expected '<' at {rest:?}")))?;
        let (target, after) = inner
            .split_once('>')
            .ok_or_else(|| bad_link("a '<' is not closed by '>'"))?;
        let (params, after) = parse_params(after)?;
        links.push(LinkValue {
            target: target.trim().to_owned(),
            params,
        });
        rest = after;
    }
}

type Params<'a> = (Vec<(String, String)>, &'a str);

/// Reads `; name[=value]` parameters up to the next `,` or the end.
fn parse_params(mut rest: &str) -> Result<Params<'_>> {
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        let Some(after_semicolon) = rest.strip_prefix(';') else {
            if rest.is_empty() || rest.starts_with(',') {
                return Ok((params, rest));
            }
            return Err(bad_link(format!("unexpected text {rest:?} after a link")));
        };
        rest = after_semicolon.trim_start_matches([' ', '\t']);
        let name_len = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let (name, after_name) = rest.split_at(name_len);
        if name.is_empty() {
            return Err(bad_link(format!("expected a parameter name at {rest:?}")));
        }
        rest = after_name.trim_start_matches([' ', '\t']);
        let value = match rest.strip_prefix('=') {
            Some(after_eq) => {
                let (value, after_value) = parse_value(after_eq.trim_start_matches([' ', '\t']))?;
                rest = after_value;
                value
            }
            None => String::new(),
        };
        params.push((name.to_ascii_lowercase(), value));
    }
}

/// A token or a quoted string (with `\` escapes).
fn parse_value(rest: &str) -> Result<(String, &str)> {
    let Some(quoted) = rest.strip_prefix('"') else {
        let len = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let (value, after) = rest.split_at(len);
        return Ok((value.to_owned(), after));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, quoted.get(i + 1..).unwrap_or_default())),
            '\\' => match chars.next() {
                Some((_, escaped)) => value.push(escaped),
                None => break,
            },
            c => value.push(c),
        }
    }
    Err(bad_link("a quoted string is not closed"))
}

/// RFC 9110 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The `rel="next"` target among `Link` header values, resolved against `base` (the URL that
/// was requested). Refuses a next page on another origin (credentials are scoped to the
/// registry) and one that names the page just read (it would never end).
pub fn next_link<'a>(values: impl IntoIterator<Item = &'a str>, base: &Url) -> Result<Option<Url>> {
    for value in values {
        if let Some(link) = parse_link(value)?.into_iter().find(|l| l.has_rel("next")) {
            let next = base
                .join(&link.target)
                .map_err(|e| bad_link(format!("{:?} is not a URL: {e}", link.target)))?;
            if next.origin() != base.origin() {
                return Err(bad_link(format!(
                    "the next page {next} is on another origin"
                )));
            }
            if &next == base {
                return Err(bad_link("the next page is the page just read"));
            }
            return Ok(Some(next));
        }
    }
    Ok(None)
}

/// The request for the page after `previous`, from the answer's headers; None on the last page.
pub fn next_page(previous: &Request, headers: &HeaderMap) -> Result<Option<Request>> {
    let values = headers
        .get_all(LINK)
        .iter()
        .map(|v| {
            v.to_str()
                .map_err(|_| bad_link("the header is not visible ASCII"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(next_link(values, &previous.url)?.map(|url| Request {
        url,
        ..previous.clone()
    }))
}

/// The `last` parameter of a next-page URL (the tag the next page starts after).
pub fn last_of(url: &Url) -> Result<Option<Tag>> {
    url.query_pairs()
        .find(|(name, _)| name == "last")
        .map(|(_, value)| value.parse::<Tag>())
        .transpose()
}

#[cfg(test)]
mod tests;
