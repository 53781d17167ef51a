//! The token server of token mode, in process (axum). It issues what distribution 2.8.2
//! accepts (docs/environment.md section 2): an ES256 JWT whose `x5c` header holds the base64 DER of a
//! self-signed certificate (its PEM is the registry's `rootcertbundle`), with claims `iss`,
//! `sub`, `aud` (a string), `exp`, `nbf`, `iat`, `jti` and `access`.
//!
//! Refusals behave like Docker Hub's auth server: a wrong password (or unknown user) gets 401
//! `{"details":"incorrect username or password"}`; a user without a right still gets 200 and a
//! token, but its `access` list omits what was not granted, so the registry answers the real
//! request with 401 `insufficient_scope`. Anonymous callers may pull repositories configured
//! public. `jsonwebtoken` signs (it sets the `x5c` header field and uses ring, which `rcgen`
//! uses too, so there is one crypto backend and no hand-written JOSE code).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use http::{header, HeaderMap, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::process::{bind_loopback, host_url, ServerTask};
use crate::seen::{RequestLog, SeenRequest};
use crate::users::{matches_any, User};

/// One entry of a token's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Access {
    pub fn repository(name: &str, actions: &[&str]) -> Access {
        Access {
            kind: "repository".to_owned(),
            name: name.to_owned(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        }
    }
}

/// What the token server is configured with.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    pub service: String,
    pub issuer: String,
    pub users: Vec<User>,
    /// Repository patterns anyone may pull (see [`User`] for the pattern syntax).
    pub public: Vec<String>,
    pub lifetime: Duration,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            service: "loopback-registry".to_owned(),
            issuer: "loopback-issuer".to_owned(),
            users: Vec::new(),
            public: Vec::new(),
            lifetime: Duration::from_secs(300),
        }
    }
}

/// One answered token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The authenticated user, `None` for anonymous (and for refused) callers.
    pub user: Option<String>,
    /// Whether the request carried Basic credentials.
    pub had_credentials: bool,
    /// The requested scopes, split on spaces.
    pub scopes: Vec<String>,
    pub granted: Vec<Access>,
    pub status: u16,
}

struct Signer {
    key: EncodingKey,
    x5c: String,
    cert_pem: String,
}

struct Shared {
    config: TokenConfig,
    signer: Signer,
    realm: Url,
    log: RequestLog,
    grants: Mutex<Vec<TokenGrant>>,
}

/// The running token server.
pub struct TokenServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _task: ServerTask,
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenServer")
            .field("addr", &self.addr)
            .field("service", &self.shared.config.service)
            .finish_non_exhaustive()
    }
}

impl TokenServer {
    pub async fn start(config: TokenConfig) -> Result<TokenServer> {
        let listener = bind_loopback().await?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("reading the token server address"))?;
        let mut realm = host_url("127.0.0.1", addr.port());
        realm.set_path("/token");
        let shared = Arc::new(Shared {
            config,
            signer: make_signer()?,
            realm,
            log: RequestLog::default(),
            grants: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/token", get(token))
            .with_state(shared.clone());
        Ok(TokenServer {
            addr,
            shared,
            _task: ServerTask::serve(listener, router),
        })
    }

    /// `http://127.0.0.1:<port>/token`.
    pub fn realm(&self) -> &Url {
        &self.shared.realm
    }

    pub fn service(&self) -> &str {
        &self.shared.config.service
    }

    pub fn issuer(&self) -> &str {
        &self.shared.config.issuer
    }

    /// The PEM of the signing certificate (the registry's `rootcertbundle`).
    pub fn root_cert_pem(&self) -> &str {
        &self.shared.signer.cert_pem
    }

    /// Signs a token for `subject` with exactly `access`, without any check (for seeding).
    pub fn mint(&self, subject: &str, access: &[Access]) -> Result<String> {
        sign(&self.shared, subject, access)
    }

    /// Every token request answered so far.
    pub fn grants(&self) -> Vec<TokenGrant> {
        self.shared
            .grants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every HTTP request seen so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.log.snapshot()
    }
}

fn make_signer() -> Result<Signer> {
    let key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(Error::crypto)?;
    let mut params = rcgen::CertificateParams::new(vec!["wharf-token-issuer".to_owned()])
        .map_err(Error::crypto)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "wharf test token issuer");
    let cert = params.self_signed(&key).map_err(Error::crypto)?;
    Ok(Signer {
        key: EncodingKey::from_ec_der(&key.serialize_der()),
        x5c: base64::engine::general_purpose::STANDARD.encode(cert.der()),
        cert_pem: cert.pem(),
    })
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: String,
    access: &'a [Access],
}

fn sign(shared: &Shared, subject: &str, access: &[Access]) -> Result<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = Claims {
        iss: &shared.config.issuer,
        sub: subject,
        aud: &shared.config.service,
        exp: now + shared.config.lifetime.as_secs(),
        nbf: now,
        iat: now,
        jti: format!("{:016x}", fastrand::u64(..)),
        access,
    };
    let mut header = Header::new(Algorithm::ES256);
    header.x5c = Some(vec![shared.signer.x5c.clone()]);
    jsonwebtoken::encode(&header, &claims, &shared.signer.key).map_err(Error::crypto)
}

/// Who is asking.
enum Caller<'a> {
    Anonymous,
    User(&'a User),
    Refused,
}

async fn token(State(shared): State<Arc<Shared>>, uri: http::Uri, headers: HeaderMap) -> Response {
    shared
        .log
        .push(SeenRequest::new(&http::Method::GET, &uri, &headers));
    let params = Params::parse(uri.query().unwrap_or_default());
    let had_credentials = basic_credentials(&headers).is_some();
    let caller = authenticate(&shared.config.users, &headers);
    let (response, user, granted) = match (&caller, &params.service) {
        (_, Some(service)) if *service != shared.config.service => {
            (bad_request("invalid service"), None, Vec::new())
        }
        (Caller::Refused, _) => (refused(&shared.realm), None, Vec::new()),
        (Caller::User(user), _) => {
            let granted = grant(Some(user), &shared.config.public, &params.scopes);
            let response = issue(&shared, user.name(), &granted);
            (response, Some(user.name().to_owned()), granted)
        }
        (Caller::Anonymous, _) => {
            let granted = grant(None, &shared.config.public, &params.scopes);
            (issue(&shared, "", &granted), None, granted)
        }
    };
    shared
        .grants
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(TokenGrant {
            user,
            had_credentials,
            scopes: params.scopes,
            granted,
            status: response.status().as_u16(),
        });
    response
}

#[derive(Default)]
struct Params {
    service: Option<String>,
    scopes: Vec<String>,
}

impl Params {
    /// `scope` may repeat and each value may hold several space-separated scopes.
    fn parse(query: &str) -> Params {
        let mut params = Params::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "service" => params.service = Some(value.into_owned()),
                "scope" => params
                    .scopes
                    .extend(value.split_whitespace().map(str::to_owned)),
                _ => {}
            }
        }
        params
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn authenticate<'a>(users: &'a [User], headers: &HeaderMap) -> Caller<'a> {
    let Some((name, password)) = basic_credentials(headers) else {
        // No credentials, or another scheme (e.g. Homebrew's `Bearer QQ==`): anonymous.
        return Caller::Anonymous;
    };
    match users.iter().find(|u| u.name() == name) {
        Some(user) if user.credentials.password.expose() == password => Caller::User(user),
        _ => Caller::Refused,
    }
}

/// The subset of the requested scopes the caller may have.
fn grant(user: Option<&User>, public: &[String], scopes: &[String]) -> Vec<Access> {
    scopes
        .iter()
        .filter_map(|scope| {
            let (kind, rest) = scope.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            if kind != "repository" || name.is_empty() {
                return None;
            }
            let allowed: Vec<&str> = actions
                .split(',')
                .filter(|action| match *action {
                    "pull" => user.is_some_and(|u| u.may_pull(name)) || matches_any(public, name),
                    "push" | "delete" => user.is_some_and(|u| u.may_push(name)),
                    _ => false,
                })
                .collect();
            (!allowed.is_empty()).then(|| Access::repository(name, &allowed))
        })
        .collect()
}

#[derive(Serialize)]
struct TokenBody {
    token: String,
    access_token: String,
    expires_in: u64,
    issued_at: String,
}

fn issue(shared: &Shared, subject: &str, granted: &[Access]) -> Response {
    let token = match sign(shared, subject, granted) {
        Ok(token) => token,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let issued_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Json(TokenBody {
        access_token: token.clone(),
        token,
        expires_in: shared.config.lifetime.as_secs(),
        issued_at,
    })
    .into_response()
}

fn refused(realm: &Url) -> Response {
    let challenge = format!("Basic realm=\"{realm}\"");
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, challenge)],
        Json(serde_json::json!({"details": "incorrect username or password"})),
    )
        .into_response()
}

fn bad_request(details: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "details": details })),
    )
        .into_response()
}

#[cfg(test)]
mod tests;
