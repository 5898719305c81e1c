//! The `fieldgate` command-line tool.

fn main() -> std::process::ExitCode {
    fieldgate::cli::main()
}
