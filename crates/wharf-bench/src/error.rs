//! The bench's one error type.

/// Why a measurement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Testkit(#[from] wharf_testkit::Error),
    #[error("webdriver: {0}")]
    Webdriver(String),
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// For `map_err`: an IO error with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub fn webdriver(context: &str) -> impl FnOnce(fantoccini::error::CmdError) -> Error + '_ {
        move |e| Error::Webdriver(format!("{context}: {e}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
