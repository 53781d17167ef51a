//! `WWW-Authenticate` parsing (RFC 9110 section 11.6.1, grammar in 11.2):
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param  = token BWS "=" BWS ( token / quoted-string )
//! token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! Hand-written because no maintained pure crate covers this whole grammar: the small parsers on
//! crates.io either read a single challenge per value, skip token68, or are tied to an old hyper.
//! The one subtle point is that challenges and their parameters are both comma-separated: after a
//! comma, `token BWS "="` continues the current challenge, anything else starts a new one.

use url::Url;

use crate::error::{Error, Result};

/// One authentication challenge of a 401 answer, checked for what this crate needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// The token flow of the distribution spec (RFC 6750 challenge).
    Bearer {
        /// The token endpoint: an absolute http(s) URL.
        realm: Url,
        /// The `service` to name in the token request (absent or empty -> `None`).
        service: Option<String>,
        /// The scopes the registry asks for, split on whitespace (one `scope` may hold several).
        scope: Vec<String>,
        /// Set when a token was sent and refused (`invalid_token`, `insufficient_scope`).
        error: Option<String>,
    },
    /// HTTP Basic (RFC 7617), e.g. a registry in htpasswd mode.
    Basic { realm: Option<String> },
    /// Any other scheme (Digest, Negotiate, ...), kept so that errors can name it.
    Other { scheme: String },
}

impl Challenge {
    /// Parses every `WWW-Authenticate` value of one answer (a header may be repeated, and one
    /// value may hold several challenges), in order. Empty list elements are skipped, as RFC 9110
    /// section 5.6.1 asks; no values at all gives an empty list.
    pub fn parse_all<V: AsRef<[u8]>>(values: &[V]) -> Result<Vec<Challenge>> {
        let mut out = Vec::new();
        for value in values {
            out.extend(Self::parse_value(value.as_ref())?);
        }
        Ok(out)
    }

    /// Parses one `WWW-Authenticate` value (which may hold several challenges).
    pub fn parse_value(value: impl AsRef<[u8]>) -> Result<Vec<Challenge>> {
        let input = value.as_ref();
        parse_raw(input)?
            .into_iter()
            .map(|raw| Challenge::from_raw(raw, input))
            .collect()
    }

    /// The scheme name as it is usually written (`Bearer`, `Basic`) or as the server sent it.
    pub fn scheme(&self) -> &str {
        match self {
            Challenge::Bearer { .. } => "Bearer",
            Challenge::Basic { .. } => "Basic",
            Challenge::Other { scheme } => scheme,
        }
    }

    fn from_raw(raw: RawChallenge, input: &[u8]) -> Result<Challenge> {
        if raw.scheme.eq_ignore_ascii_case("bearer") {
            bearer_from_raw(raw, input)
        } else if raw.scheme.eq_ignore_ascii_case("basic") {
            // RFC 7617 wants a realm, but nothing below depends on it: stay lenient.
            Ok(Challenge::Basic {
                realm: raw.param("realm").map(str::to_owned),
            })
        } else {
            Ok(Challenge::Other { scheme: raw.scheme })
        }
    }
}

fn bearer_from_raw(raw: RawChallenge, input: &[u8]) -> Result<Challenge> {
    if raw.token68.is_some() {
        return Err(invalid(
            input,
            "Bearer challenge has a token68 instead of parameters",
        ));
    }
    let realm = raw
        .param("realm")
        .ok_or_else(|| invalid(input, "Bearer challenge without realm"))?;
    let realm = Url::parse(realm)
        .map_err(|e| invalid(input, &format!("Bearer realm {realm:?} is not a URL: {e}")))?;
    if !matches!(realm.scheme(), "http" | "https") || !realm.has_host() {
        return Err(invalid(
            input,
            "Bearer realm is not an absolute http(s) URL",
        ));
    }
    Ok(Challenge::Bearer {
        realm,
        service: raw
            .param("service")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        scope: raw
            .param("scope")
            .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        error: raw.param("error").map(str::to_owned),
    })
}

/// A challenge as the grammar sees it, before scheme-specific checks. Parameter names are
/// lowercased (they are case-insensitive); values are unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawChallenge {
    scheme: String,
    token68: Option<String>,
    params: Vec<(String, String)>,
}

impl RawChallenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_raw(input: &[u8]) -> Result<Vec<RawChallenge>> {
    let mut p = Parser { input, pos: 0 };
    let mut out = Vec::new();
    loop {
        p.skip_separators();
        if p.at_end() {
            return Ok(out);
        }
        out.push(p.challenge()?);
    }
}

/// Longest part of the header quoted back in an error message.
const ERROR_INPUT_LIMIT: usize = 200;

fn invalid(input: &[u8], reason: &str) -> Error {
    let mut shown = String::from_utf8_lossy(input).into_owned();
    if shown.len() > ERROR_INPUT_LIMIT {
        let mut cut = ERROR_INPUT_LIMIT;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
        shown.push('…');
    }
    Error::InvalidChallenge {
        input: shown,
        reason: reason.to_owned(),
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// End of a list element: end of input or a comma.
    fn at_element_end(&self) -> bool {
        matches!(self.peek(), None | Some(b','))
    }

    fn fail(&self, what: &str) -> Error {
        invalid(self.input, &format!("{what} at byte {}", self.pos))
    }

    /// Skips optional whitespace; says whether there was any.
    fn skip_ows(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips whitespace and commas (list separators and empty list elements).
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.input.get(start..self.pos).unwrap_or_default()
    }

    fn token(&mut self) -> Option<&'a [u8]> {
        Some(self.take_while(is_tchar)).filter(|t| !t.is_empty())
    }

    fn challenge(&mut self) -> Result<RawChallenge> {
        let scheme = self
            .token()
            .ok_or_else(|| self.fail("expected an authentication scheme"))?;
        let mut challenge = RawChallenge {
            scheme: ascii(scheme),
            token68: None,
            params: Vec::new(),
        };
        let spaced = self.skip_ows();
        if self.at_element_end() {
            return Ok(challenge);
        }
        if !spaced {
            return Err(self.fail("expected a space after the scheme"));
        }
        if let Some(token68) = self.token68() {
            challenge.token68 = Some(token68);
            return Ok(challenge);
        }
        self.params(&mut challenge)?;
        Ok(challenge)
    }

    /// A token68, but only when it is the whole list element; otherwise nothing is consumed.
    fn token68(&mut self) -> Option<String> {
        let start = self.pos;
        if self.take_while(is_token68_char).is_empty() {
            return None;
        }
        self.take_while(|b| b == b'=');
        let text = self.input.get(start..self.pos).map(ascii);
        self.skip_ows();
        if self.at_element_end() {
            text
        } else {
            self.pos = start;
            None
        }
    }

    fn params(&mut self, challenge: &mut RawChallenge) -> Result<()> {
        loop {
            let at = self.pos;
            let (name, value) = self.param()?;
            if challenge.param(&name).is_some() {
                self.pos = at;
                return Err(self.fail(&format!("parameter {name:?} repeated")));
            }
            challenge.params.push((name, value));
            self.skip_ows();
            if self.at_end() {
                return Ok(());
            }
            if self.peek() != Some(b',') {
                return Err(self.fail("expected ',' after a parameter"));
            }
            self.skip_separators();
            if self.at_end() || !self.param_ahead() {
                return Ok(());
            }
        }
    }

    /// Whether `token BWS "="` follows (a parameter), as opposed to the next challenge.
    fn param_ahead(&self) -> bool {
        let mut probe = Parser {
            input: self.input,
            pos: self.pos,
        };
        probe.token().is_some() && {
            probe.skip_ows();
            probe.peek() == Some(b'=')
        }
    }

    fn param(&mut self) -> Result<(String, String)> {
        let name = self
            .token()
            .ok_or_else(|| self.fail("expected a parameter name"))?;
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Err(self.fail("expected '=' after a parameter name"));
        }
        self.pos += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted_string()?
        } else {
            self.token()
                .ok_or_else(|| self.fail("expected a token or a quoted string"))?
                .to_vec()
        };
        let value = String::from_utf8(value).map_err(|_| self.fail("value is not UTF-8"))?;
        Ok((ascii(name).to_ascii_lowercase(), value))
    }

    /// A quoted string (the opening quote is next), unescaped.
    fn quoted_string(&mut self) -> Result<Vec<u8>> {
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.fail("unterminated quoted string"));
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) if is_quotable(c) => out.push(c),
                        Some(_) => return Err(self.fail("invalid escaped character")),
                        None => return Err(self.fail("unterminated quoted string")),
                    }
                }
                Some(c) if is_qdtext(c) => out.push(c),
                Some(_) => return Err(self.fail("control character in quoted string")),
            }
            self.pos += 1;
        }
    }
}

/// Only ever called on tchar/token68 bytes, which are ASCII.
fn ascii(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
fn is_qdtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5B | 0x5D..=0x7E | 0x80..=0xFF)
}

/// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
fn is_quotable(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21..=0x7E | 0x80..=0xFF)
}

#[cfg(test)]
mod tests;
