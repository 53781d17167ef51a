//! The relay's two drivers behind one handle, so that a test runs against both: the axum relay
//! (in-process, from a [`Config`]) and the Worker on workerd (from the same config's flags).
//! [`both_drivers!`] makes a `binary` and a `worker` test from one `async fn(Driver)`.

use super::InProcess;
use wharf_relay::Config;
use wharf_testkit::{RunningRelay, WorkerdRelay};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// `wharf-relay`'s axum app.
    Binary,
    /// `wharf-relay-worker` on workerd.
    Worker,
}

/// A relay under test, whichever driver.
pub type Relay = Box<dyn RunningRelay>;

/// The relay for `config`. The Worker gets what maps to its vars (allowed hosts, public hosts,
/// origins, redirect limit); the rest (resolver, timeouts, limits) is the binary's.
pub async fn relay(driver: Driver, config: Config) -> Relay {
    match driver {
        Driver::Binary => Box::new(InProcess::start(config).await),
        Driver::Worker => {
            let flags = worker_flags(&config);
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            Box::new(WorkerdRelay::start(&flags).await.expect("workerd relay"))
        }
    }
}

/// `cargo xtask worker` flags for what `config` sets.
fn worker_flags(config: &Config) -> Vec<String> {
    let mut flags = Vec::new();
    for host in &config.allow_hosts {
        flags.extend(["--allow-host".to_owned(), host.to_string()]);
    }
    for host in &config.allow_public_hosts {
        flags.extend(["--allow-public-host".to_owned(), host.to_string()]);
    }
    for origin in &config.allow_origins {
        flags.extend(["--allow-origin".to_owned(), origin.to_string()]);
    }
    flags.extend([
        "--max-redirects".to_owned(),
        config.max_redirects.to_string(),
    ]);
    flags
}

/// Repeated header fields as they arrive: the binary keeps each field; Fetch's `Headers` (the
/// Worker's side) join them with ", " (RFC 9110 5.3 makes both mean the same list), so for the
/// Worker the list and its order are compared.
pub fn assert_fields<S: AsRef<str>>(driver: Driver, got: &[S], want: &[&str]) {
    let got: Vec<&str> = got.iter().map(AsRef::as_ref).collect();
    match driver {
        Driver::Binary => assert_eq!(got, want),
        Driver::Worker => assert_eq!(got.join(", "), want.join(", ")),
    }
}

/// `both_drivers!(name, ...)`: for each `async fn name(driver: Driver)`, a module `name` with the
/// tests `binary` and `worker`.
#[macro_export]
macro_rules! both_drivers {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn binary() {
                    super::$name($crate::common::Driver::Binary).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn worker() {
                    super::$name($crate::common::Driver::Worker).await
                }
            }
        )*
    };
}
