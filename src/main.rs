fn main() -> std::process::ExitCode {
    ruralsan::cli::main()
}
