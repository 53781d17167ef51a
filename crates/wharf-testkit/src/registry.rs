//! CNCF distribution (Debian `docker-registry` 2.8.2) on a free loopback port, in a temp dir,
//! in one of four modes. The process is killed and reaped when the [`Registry`] is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;
use url::Url;
use wharf_oci::Digest;

use crate::cdn::{blob_path, CdnServer};
use crate::error::{Error, Result};
use crate::process::{free_port, host_url, log_tail, ChildGuard};
use crate::token::{TokenConfig, TokenServer};
use crate::users::{admin_user, default_users, Credentials, User};

/// How the registry authenticates and serves blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// No authentication.
    Anonymous,
    /// htpasswd (bcrypt): every valid user may pull and push everything.
    Basic,
    /// Bearer tokens from the kit's [`TokenServer`], with per-repository rights.
    Token,
    /// No authentication; blob GETs answer 307 to the kit's [`CdnServer`] (another host).
    Redirect,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Anonymous, Mode::Basic, Mode::Token, Mode::Redirect];
}

/// Header distribution adds to every response, so we know the port answers with our process.
const INSTANCE_HEADER: &str = "X-Wharf-Instance";
const START_ATTEMPTS: usize = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// bcrypt cost of the htpasswd file: the minimum, so that each request checks fast.
const BCRYPT_COST: u32 = 4;

/// Options for [`Registry`]; `Registry::builder(mode)`.
#[derive(Debug, Clone)]
pub struct RegistryBuilder {
    mode: Mode,
    users: Vec<User>,
    public: Vec<String>,
    redirect: bool,
    token_lifetime: Duration,
}

impl RegistryBuilder {
    /// Replaces the default users (`alice`/`s3cret` pull `*`, `bob`/`hunter2` pull `bob/*`).
    pub fn users(mut self, users: Vec<User>) -> Self {
        self.users = users;
        self
    }

    /// Adds a user.
    pub fn user(mut self, user: User) -> Self {
        self.users.push(user);
        self
    }

    /// Token mode: a repository pattern anonymous callers may pull (default `public/*`).
    pub fn public(mut self, pattern: &str) -> Self {
        self.public.push(pattern.to_owned());
        self
    }

    /// Also redirect blob GETs to a CDN server (any mode; [`Mode::Redirect`] sets it).
    pub fn redirect(mut self, on: bool) -> Self {
        self.redirect = on;
        self
    }

    /// Token mode: how long tokens live (default 300 s).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    pub async fn start(self) -> Result<Registry> {
        Registry::start_with(self).await
    }
}

/// A running registry and the servers of its mode.
// Field order is drop order: the process dies before its directory is removed.
#[derive(Debug)]
pub struct Registry {
    process: ChildGuard,
    mode: Mode,
    port: u16,
    users: Vec<User>,
    admin: User,
    token: Option<TokenServer>,
    cdn: Option<CdnServer>,
    started_in: Duration,
    pub(crate) http: reqwest::Client,
    dir: TempDir,
}

impl Registry {
    /// Starts a registry in `mode` with the default users.
    pub async fn start(mode: Mode) -> Result<Registry> {
        Registry::builder(mode).start().await
    }

    pub fn builder(mode: Mode) -> RegistryBuilder {
        let private = matches!(mode, Mode::Basic | Mode::Token);
        RegistryBuilder {
            mode,
            users: if private { default_users() } else { Vec::new() },
            public: vec!["public/*".to_owned()],
            redirect: mode == Mode::Redirect,
            token_lifetime: Duration::from_secs(300),
        }
    }

    async fn start_with(builder: RegistryBuilder) -> Result<Registry> {
        let began = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("wharf-registry-")
            .tempdir()
            .map_err(Error::io("creating a temp dir"))?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).map_err(Error::io("creating the storage dir"))?;
        let admin = admin_user();
        let mut everyone = builder.users.clone();
        everyone.push(admin.clone());
        let token = match builder.mode {
            Mode::Token => Some(start_token_server(&builder, everyone.clone()).await?),
            _ => None,
        };
        let cdn = match builder.redirect {
            true => Some(CdnServer::start(&data).await?),
            false => None,
        };
        let auth = auth_config(builder.mode, dir.path(), &everyone, token.as_ref())?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::http("building a client"))?;
        let (process, port) =
            spawn_until_ready(dir.path(), &data, auth, cdn.as_ref(), &http).await?;
        Ok(Registry {
            process,
            mode: builder.mode,
            port,
            users: builder.users,
            admin,
            token,
            cdn,
            started_in: began.elapsed(),
            http,
            dir,
        })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        host_url("127.0.0.1", self.port)
    }

    /// `127.0.0.1:<port>`, as image references and skopeo want it.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `/v2/<repo>/...` URL of a path below `/v2/`.
    pub fn v2_url(&self, path: &str) -> Url {
        let mut url = self.base_url();
        url.set_path(&format!("/v2/{}", path.trim_start_matches('/')));
        url
    }

    /// The registry's storage root (`rootdirectory`).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The temp dir holding config, logs and storage (removed on drop).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where the filesystem driver keeps `digest`'s bytes.
    pub fn blob_file(&self, digest: &Digest) -> PathBuf {
        self.storage_dir().join(blob_path(digest))
    }

    /// Overwrites a stored blob with other bytes of the same length (tamper tests): the
    /// registry keeps serving it under its old digest.
    pub fn tamper_blob(&self, digest: &Digest) -> Result<()> {
        let path = self.blob_file(digest);
        let mut bytes =
            std::fs::read(&path).map_err(Error::io(format!("reading {}", path.display())))?;
        match bytes.first_mut() {
            Some(first) => *first ^= 0xff,
            None => return Err(Error::protocol("cannot tamper with an empty blob")),
        }
        std::fs::write(&path, bytes).map_err(Error::io(format!("writing {}", path.display())))
    }

    /// The users of the private modes (without the seeding admin).
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Credentials of a configured user.
    pub fn credentials(&self, username: &str) -> Option<Credentials> {
        self.users
            .iter()
            .find(|u| u.name() == username)
            .map(|u| u.credentials.clone())
    }

    /// The seeding user (push rights on everything in the private modes).
    pub fn admin(&self) -> &Credentials {
        &self.admin.credentials
    }

    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token.as_ref()
    }

    pub fn cdn(&self) -> Option<&CdnServer> {
        self.cdn.as_ref()
    }

    /// Whether the mode needs credentials for private repositories.
    pub fn is_private(&self) -> bool {
        matches!(self.mode, Mode::Basic | Mode::Token)
    }

    /// Wall time from `start` to the first answer of `GET /v2/`.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The registry's log output so far.
    pub fn log(&self) -> String {
        log_tail(&self.dir.path().join("registry.log"), 64 * 1024)
    }

    /// The registry process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

async fn start_token_server(builder: &RegistryBuilder, users: Vec<User>) -> Result<TokenServer> {
    TokenServer::start(TokenConfig {
        users,
        public: builder.public.clone(),
        lifetime: builder.token_lifetime,
        ..TokenConfig::default()
    })
    .await
}

/// The `auth` section of the config (writing the htpasswd file or the root cert).
fn auth_config(
    mode: Mode,
    dir: &Path,
    users: &[User],
    token: Option<&TokenServer>,
) -> Result<Value> {
    match (mode, token) {
        (Mode::Basic, _) => {
            let path = dir.join("htpasswd");
            std::fs::write(&path, htpasswd(users)?).map_err(Error::io("writing htpasswd"))?;
            Ok(json!({"htpasswd": {"realm": "wharf-basic", "path": path}}))
        }
        (Mode::Token, Some(token)) => {
            let path = dir.join("rootcert.pem");
            std::fs::write(&path, token.root_cert_pem())
                .map_err(Error::io("writing the root cert"))?;
            Ok(json!({"token": {
                "realm": token.realm().as_str(),
                "service": token.service(),
                "issuer": token.issuer(),
                "rootcertbundle": path,
            }}))
        }
        _ => Ok(Value::Null),
    }
}

fn htpasswd(users: &[User]) -> Result<String> {
    let mut out = String::new();
    for user in users {
        let hash =
            bcrypt::hash(user.credentials.password.expose(), BCRYPT_COST).map_err(Error::crypto)?;
        out.push_str(&format!("{}:{hash}\n", user.name()));
    }
    Ok(out)
}

/// The whole config. distribution reads YAML, and JSON is YAML, so serde_json writes it.
fn config(data: &Path, port: u16, instance: &str, auth: &Value, cdn: Option<&CdnServer>) -> Value {
    let mut config = json!({
        "version": "0.1",
        "log": {"level": "warn", "accesslog": {"disabled": true}},
        "storage": {
            "filesystem": {"rootdirectory": data},
            "delete": {"enabled": true},
            "redirect": {"disable": false},
        },
        "http": {
            "addr": format!("127.0.0.1:{port}"),
            "secret": format!("wharf-{instance}"),
            "headers": {INSTANCE_HEADER: [instance]},
        },
        "compatibility": {"schema1": {"enabled": true}},
    });
    if !auth.is_null() {
        config["auth"] = auth.clone();
    }
    if let Some(cdn) = cdn {
        config["middleware"] = json!({"storage": [
            {"name": "redirect", "options": {"baseurl": cdn.base_url().as_str()}}
        ]});
    }
    config
}

/// Picks a port, starts the process and waits for `GET /v2/`; retries when another process
/// took the port between our probe and the registry's bind.
async fn spawn_until_ready(
    dir: &Path,
    data: &Path,
    auth: Value,
    cdn: Option<&CdnServer>,
    http: &reqwest::Client,
) -> Result<(ChildGuard, u16)> {
    let log = dir.join("registry.log");
    let config_path = dir.join("config.yml");
    let mut last = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        let instance = format!("{:016x}", fastrand::u64(..));
        let text = serde_json::to_string_pretty(&config(data, port, &instance, &auth, cdn))?;
        std::fs::write(&config_path, text).map_err(Error::io("writing config.yml"))?;
        let mut command = Command::new("docker-registry");
        command.arg("serve").arg(&config_path).current_dir(dir);
        let mut child = ChildGuard::spawn(command, &log)?;
        match wait_ready(&mut child, port, &instance, http).await {
            Ok(()) => return Ok((child, port)),
            Err(reason) => last = reason,
        }
    }
    Err(Error::Startup {
        reason: last,
        log: log_tail(&log, 4096),
    })
}

async fn wait_ready(
    child: &mut ChildGuard,
    port: u16,
    instance: &str,
    http: &reqwest::Client,
) -> std::result::Result<(), String> {
    let url = format!("http://127.0.0.1:{port}/v2/");
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Some(status) = child.exited() {
            return Err(format!("docker-registry exited ({status})"));
        }
        if let Ok(response) = http.get(&url).send().await {
            let ours = response
                .headers()
                .get(INSTANCE_HEADER)
                .is_some_and(|v| v.as_bytes() == instance.as_bytes());
            if !ours {
                return Err(format!("port {port} answered by another process"));
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(format!("no answer on port {port} within {READY_TIMEOUT:?}"))
}
