//! `wharf-relay [--listen ADDR] [--dist DIR] [--allow-host H]... [--allow-origin O]...`
//!
//! Prints `wharf-relay listening on http://<addr>` on stdout once it accepts connections (tests and
//! scripts read the port from it when listening on port 0).

use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use wharf_relay::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let listen = cli.listen.clone();
    let config = match cli.into_config(PathBuf::from("dist")) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("wharf-relay: {e}");
            return ExitCode::from(2);
        }
    };
    let dist = config.dist.clone();
    let app = match wharf_relay::try_app(config) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("wharf-relay: cannot build the upstream client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("wharf-relay: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or(listen);
    tracing::info!(%addr, dist = ?dist, "listening");
    println!("wharf-relay listening on http://{addr}");
    // A closed stdout must not stop the relay.
    let _ = std::io::stdout().flush();
    // Connection info gives the per-client limits their key.
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    match axum::serve(listener, service)
        .with_graceful_shutdown(shutdown())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wharf-relay: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
