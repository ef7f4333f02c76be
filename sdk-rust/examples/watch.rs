//! Connects to a Vexil server and prints a flag's value every time the
//! environment changes, plus every provider state change.
//!
//! ```text
//! VEXIL_URL=http://127.0.0.1:8080 VEXIL_SDK_KEY=... \
//!     cargo run -p vexil-sdk --example watch -- new-checkout user-1
//! ```
//!
//! Arguments: the flag key (default `new-checkout`) and the context key
//! (default `user-1`). Stop with Ctrl-C; the client then sends its last
//! usage report.

use std::time::Duration;

use vexil_sdk::{Client, Context};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("VEXIL_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let key = std::env::var("VEXIL_SDK_KEY").map_err(|_| "set VEXIL_SDK_KEY to an SDK key")?;
    let mut args = std::env::args().skip(1);
    let flag = args.next().unwrap_or_else(|| "new-checkout".into());
    let context = Context::new(args.next().unwrap_or_else(|| "user-1".into()));

    let client = Client::builder(key)
        .url(url)
        .init_timeout(Duration::from_secs(5))
        .build()
        .await?;
    println!("state {}", client.state());
    print_value(&client, &flag, &context);

    let mut changes = client.changes();
    let mut states = client.state_changes();
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(event) => {
                    println!("version {}: changed {:?}", event.version, event.flags);
                    print_value(&client, &flag, &context);
                }
                // Fell behind: the client serves the newest snapshot anyway.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    print_value(&client, &flag, &context);
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            Ok(()) = states.changed() => println!("state {}", *states.borrow_and_update()),
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    client.close().await;
    Ok(())
}

fn print_value(client: &Client, flag: &str, context: &Context) {
    let result = client.evaluate(flag, context);
    println!(
        "{flag} = {} (variant {:?}, reason {:?}{})",
        result
            .value
            .map_or_else(|| "<default>".into(), |v| v.to_string()),
        result.variant,
        result.reason,
        result
            .error_code
            .map_or_else(String::new, |code| format!(", error {code}")),
    );
}
