//! `haven audit verify`: re-checks the audit log's hash chain from the first event to the head.

use crate::cli::DbArgs;
use crate::config::FileConfig;
use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Prints how many events were checked; on a broken chain, names the first broken event and
/// fails (exit status 1), so a scheduled check can alert someone.
pub async fn verify(args: DbArgs, file: FileConfig) -> Result<()> {
    let db = super::open_db(&args, &file, false).await?;
    // A bar only for a person watching; scripts and logs get the final lines alone.
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} checking audit events {bar:40} {pos}/{len} ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let report = haven_store::audit::verify(&db, |checked, total| {
        bar.set_length(total);
        bar.set_position(checked);
    })
    .await;
    bar.finish_and_clear();
    db.close().await;
    let report = report?;
    println!(
        "Checked {} of {} audit event(s).",
        report.checked, report.total
    );
    match report.broken {
        None => {
            println!("The audit log is intact.");
            Ok(())
        }
        Some(broken) => bail!("the audit log has been tampered with: {broken}"),
    }
}
