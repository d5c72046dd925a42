//! Placeholder: implemented by its own issue.
fn main() {
    eprintln!("not implemented yet");
    std::process::exit(1);
}
