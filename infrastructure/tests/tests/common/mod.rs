//! A throw-away copy of `infrastructure/` for planting violations.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use infrastructure_policy::{Violation, default_root};

static COPIES: AtomicUsize = AtomicUsize::new(0);

/// A copy of the Terraform tree under the system temp directory, removed on drop.
pub struct Copy {
    pub root: PathBuf,
}

impl Copy {
    pub fn new() -> Copy {
        let root = std::env::temp_dir().join(format!(
            "infrastructure-policy-{}-{}",
            std::process::id(),
            COPIES.fetch_add(1, Ordering::SeqCst)
        ));
        if root.exists() {
            fs::remove_dir_all(&root).expect("remove a stale copy");
        }
        copy_dir(&default_root(), &root);
        Copy { root }
    }

    /// Replaces `from` with `to` in `file` (relative to `infrastructure/`);
    /// panics when `from` is missing, so a plant cannot silently miss.
    pub fn edit(&self, file: &str, from: &str, to: &str) -> &Copy {
        let path = self.root.join(file);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            text.contains(from),
            "{file} no longer contains {from:?}; update the planted violation"
        );
        fs::write(&path, text.replacen(from, to, 1)).expect("write the planted violation");
        self
    }

    /// Appends `text` to `file`.
    pub fn append(&self, file: &str, text: &str) -> &Copy {
        let path = self.root.join(file);
        let mut content = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        content.push_str(text);
        fs::write(&path, content).expect("append the planted violation");
        self
    }

    /// Runs `rule` on the copy and asserts it reports a violation whose text contains `expect`.
    pub fn assert_caught(&self, rule: fn(&Path) -> Vec<Violation>, expect: &str) {
        let violations = rule(&self.root);
        assert!(
            violations.iter().any(|v| v.to_string().contains(expect)),
            "expected a violation mentioning {expect:?}, got {violations:#?}"
        );
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the copy");
    for entry in fs::read_dir(from).expect("read the tree") {
        let entry = entry.expect("read an entry");
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        let source = entry.path();
        if source.is_dir() {
            // The policy crate and Terraform's working directories are not configuration.
            if name_text == "tests" || name_text.starts_with('.') {
                continue;
            }
            copy_dir(&source, &to.join(&name));
        } else {
            fs::copy(&source, to.join(&name)).expect("copy a file");
        }
    }
}

/// Asserts `rule` holds on the real tree.
pub fn assert_holds(rule: fn(&Path) -> Vec<Violation>) {
    let violations = rule(&default_root());
    assert!(
        violations.is_empty(),
        "policy violated:\n{}",
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
