//! The shape of the crate, checked: its modules import one another without
//! a loop, and the domain (`auth/`) stays free of the web framework and of
//! the application state.
//!
//! The import graph is read from the source, one node per file: an edge
//! from a file to every module that a `use`, an inline `crate::` or
//! `super::` path, or a child module's bare name (`login::routes()`) in it
//! names. A re-export counts as an import; a `mod` declaration does not;
//! `#[cfg(test)]` modules and comments are left out. A path is resolved to
//! the deepest module file it reaches, and the crate root's re-exports
//! (`crate::ApiError`) to the module they come from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every source file, by module path (`routes/account/mod.rs` is
/// `["routes", "account"]`), with its text, tests left out.
fn sources() -> BTreeMap<Vec<String>, String> {
    fn walk(dir: &Path, module: &[String], out: &mut BTreeMap<Vec<String>, String>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut inner = module.to_vec();
                inner.push(name);
                walk(&path, &inner, out);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let mut key = module.to_vec();
                if !matches!(stem, "mod" | "lib" | "main") {
                    key.push(stem.to_string());
                }
                if stem == "main" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("a source file");
                let code = match text.find("#[cfg(test)]\nmod ") {
                    Some(at) => &text[..at],
                    None => &text,
                };
                // Comments name modules without importing them.
                let code: String = code
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("//"))
                    .map(|line| format!("{line}\n"))
                    .collect();
                out.insert(key, code);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut out,
    );
    out
}

/// The paths a `use` tree names, e.g. `a::{b, c::{d, e}}` gives `a::b`,
/// `a::c::d` and `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or(tree).trim().to_string()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| match p.as_str() {
            "self" => prefix.to_string(),
            _ => format!("{prefix}::{p}"),
        })
        .collect()
}

/// Every `crate::`, `super::` and `self::` path of `code`.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    // `use` statements, which may span lines and hold trees.
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let statement_start = before.is_none_or(|c| c == '\n' || c == ' ' || c == ')');
        rest = &rest[at + 4..];
        if !statement_start {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        let tree = &rest[..end];
        // Prose that happens to hold "use " is no tree.
        let well_formed = tree
            .chars()
            .all(|c| c.is_alphanumeric() || "_:{}, *\n".contains(c))
            && tree.matches('{').count() == tree.matches('}').count();
        if well_formed {
            found.extend(expand(tree));
        }
    }
    // Paths written inline in code.
    for root in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let path = tail[..end].trim_end_matches(':');
            // `super::{a, b}` is a `use` tree, read above, naming no module
            // by itself.
            let names_something = path.len() > root.len();
            if names_something
                && before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
            {
                found.push(path.to_string());
            }
            rest = &rest[at + root.len()..];
        }
    }
    found
}

/// The module file `path`, written in `from`, names.
fn resolve(
    path: &str,
    from: &[String],
    modules: &BTreeSet<Vec<String>>,
    root_exports: &BTreeMap<String, Vec<String>>,
) -> Option<Vec<String>> {
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    // `a/b.rs` is module a::b and `a/mod.rs` module a: either way `super`
    // drops the last segment of the file's module.
    let mut base: Vec<String> = match segments.peek().copied() {
        Some("crate") => {
            segments.next();
            Vec::new()
        }
        Some("self" | "super") => from.to_vec(),
        Some(child) if modules.contains(&[from, &[child.to_string()]].concat()) => from.to_vec(),
        _ => return None,
    };
    while let Some(&segment) = segments.peek() {
        match segment {
            "self" => {
                segments.next();
            }
            "super" => {
                segments.next();
                base.pop();
            }
            _ => break,
        }
    }
    let rest: Vec<&str> = segments.collect();
    let mut deepest = base.clone();
    let mut current = base;
    for segment in &rest {
        current.push(segment.to_string());
        if modules.contains(&current) {
            deepest = current.clone();
        } else {
            break;
        }
    }
    if deepest.is_empty()
        && let Some(first) = rest.first()
    {
        return root_exports.get(*first).cloned();
    }
    Some(deepest)
}

/// The import graph: for every file, the other files it imports from.
fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.keys().cloned().collect();
    let mut root_exports = BTreeMap::new();
    for line in sources[&Vec::new()].lines() {
        if let Some(export) = line
            .strip_prefix("pub use ")
            .and_then(|l| l.strip_suffix(';'))
        {
            let mut segments: Vec<String> = export.split("::").map(String::from).collect();
            let name = segments.pop().expect("a name");
            root_exports.insert(name, segments);
        }
    }
    sources
        .iter()
        .map(|(module, code)| {
            let mut named = paths(code);
            // Child modules named by their bare name in code.
            for child in &modules {
                let Some((last, parent)) = child.split_last() else {
                    continue;
                };
                if parent != module.as_slice() {
                    continue;
                }
                let needle = format!("{last}::");
                let used = code.match_indices(&needle).any(|(at, _)| {
                    code[..at]
                        .chars()
                        .last()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
                });
                if used {
                    named.push(format!("self::{last}"));
                }
            }
            let targets = named
                .iter()
                .filter_map(|p| resolve(p, module, &modules, &root_exports))
                .filter(|target| target != module && !target.is_empty())
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

/// The loops of `graph`: its strongly connected components of more than
/// one file (Tarjan's algorithm).
fn loops(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'g Vec<String>, usize>,
        low: BTreeMap<&'g Vec<String>, usize>,
        stack: Vec<&'g Vec<String>>,
        on_stack: BTreeSet<&'g Vec<String>>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g Vec<String>) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.join("::"));
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.found
}

#[test]
fn the_modules_import_one_another_without_a_loop() {
    let graph = graph();
    let found = loops(&graph);
    assert!(found.is_empty(), "import loops: {found:#?}");
    // The reader itself: edges it must see.
    let edge = |from: &str, to: &str| {
        let key = |m: &str| -> Vec<String> {
            m.split("::")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        graph[&key(from)].contains(&key(to))
    };
    assert!(edge("routes::login", "auth::session"));
    assert!(edge("routes::login", "error"), "crate::error::ApiError");
    assert!(edge("audit", "error"), "a root re-export, crate::ApiError");
    assert!(edge("routes::account::create", "routes::extract"));
    assert!(edge("routes", "routes::login"), "a table named by path");
}

#[test]
fn the_domain_knows_nothing_of_routes_or_state() {
    for (module, code) in sources() {
        if module.first().map(String::as_str) != Some("auth") {
            continue;
        }
        let name = module.join("::");
        for banned in ["axum", "crate::state", "crate::routes", "AppState"] {
            assert!(!code.contains(banned), "{name} names {banned}");
        }
    }
}

#[test]
fn a_loop_is_found() {
    let key = |m: &str| vec![m.to_string()];
    let graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = [
        (key("a"), [key("b")].into()),
        (key("b"), [key("c")].into()),
        (key("c"), [key("a")].into()),
        (key("d"), [key("a")].into()),
    ]
    .into();
    assert_eq!(loops(&graph), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        expand("super::{a, b::{c, self}}"),
        vec!["super::a", "super::b::c", "super::b"]
    );
}
