//! Shutdown on SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).

use tracing::{error, info};

/// Completes when the process is asked to stop. If a signal handler cannot
/// be installed the error is logged and that signal is ignored, rather than
/// shutting down at once.
pub async fn signal() {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => info!(signal = "SIGINT", "shutdown requested"),
            Err(err) => {
                error!(error = %err, "cannot listen for SIGINT");
                std::future::pending::<()>().await;
            }
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
                info!(signal = "SIGTERM", "shutdown requested");
            }
            Err(err) => {
                error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
