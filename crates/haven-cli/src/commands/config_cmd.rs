//! `haven config default|check`.

use crate::cli::ConfigCommand;
use crate::config::{FileConfig, DEFAULT_TOML};
use anyhow::Result;

pub fn run(command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Default => {
            print!("{DEFAULT_TOML}");
            Ok(())
        }
        ConfigCommand::Check { file } => {
            FileConfig::load(&file)?;
            println!("{}: OK", file.display());
            Ok(())
        }
    }
}
