// The migrations are embedded with sqlx::migrate!, which cannot tell cargo
// to watch their folder on stable Rust: without this line a new migration
// would not rebuild the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
