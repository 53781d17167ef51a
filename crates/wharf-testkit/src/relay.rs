//! What every running relay under test offers, whichever driver it is (the binary in-process or
//! as a subprocess, the Worker on workerd): where it answers and which process carries it.

/// A running relay.
pub trait RunningRelay: Send + Sync {
    /// `http://<addr>`, without a trailing slash.
    fn base(&self) -> String;

    /// The process that carries the relay (for `/proc/<pid>/...`).
    fn pid(&self) -> u32;

    /// `<base>/relay/<target>`.
    fn relay_url(&self, target: &str) -> String {
        format!("{}/relay/{target}", self.base())
    }
}
