//! (tests) The proxy's top-level modules form layers: no module imports another that imports
//! it back, however far round (read from the code's own `crate::` paths, comments left out),
//! and only the store writes SQL. ARCHITECTURE.md draws the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `crate::name` a top-level module's files mention, by module (`lib.rs` and `main.rs`,
/// the roots, and this test, left out): other modules, and items of the crate's root.
fn mentions(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        let relative = path.strip_prefix(src).unwrap();
        let module = relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if path.extension().is_none_or(|ext| ext != "rs") || ["lib", "main", "layers"].contains(&module.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code: String = text.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let named = modules.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            for name in first_names(&code[at + 7..]) {
                if name != module {
                    named.insert(name);
                }
            }
        }
    }
    modules
}

/// The first name of a path after `crate::`: `store` of `store::orders`, and each first name
/// of a group, `{checkout, merchant::read, AppState}`.
fn first_names(path: &str) -> Vec<String> {
    let name = |text: &str| text.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    match path.strip_prefix('{') {
        Some(group) => group[..group.find('}').unwrap_or(group.len())].split(',').map(name).filter(|n| !n.is_empty()).collect(),
        None => vec![name(path)].into_iter().filter(|n| !n.is_empty()).collect(),
    }
}

/// The other top-level modules each top-level module imports.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules = mentions(src);
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    for named in modules.values_mut() {
        named.retain(|name| known.contains(name));
    }
    modules
}

/// A loop of modules, if there is one: each imports the next, the last the first.
fn a_loop(modules: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        modules: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            return Some(path[start..].to_vec());
        }
        if !done.insert(at.to_owned()) {
            return None;
        }
        path.push(at.to_owned());
        for next in &modules[at] {
            if let Some(found) = visit(next, modules, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    modules.keys().find_map(|start| visit(start, modules, &mut Vec::new(), &mut done))
}

#[test]
fn the_top_level_modules_import_each_other_round_no_loop() {
    let modules = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // The store stands on the invoice numbers and the secret types alone.
    let below_the_store: BTreeSet<String> = ["invoice", "secrets"].map(str::to_owned).into();
    assert!(modules.len() > 20 && modules["store"].is_subset(&below_the_store), "the store imports {:?}", modules["store"]);
    if let Some(found) = a_loop(&modules) {
        panic!("these modules import each other round a loop: {}", found.join(" -> "));
    }
}

/// The crate's root (`lib.rs`: the router and the state's opening) stands above every module:
/// none reaches up to it. `params!` is the one exception, the store's macro, which Rust puts
/// at the root because tests and benches use it.
#[test]
fn no_module_reaches_up_to_the_crate_root() {
    let mentions = mentions(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let known: BTreeSet<&String> = mentions.keys().collect();
    let up: Vec<String> = mentions
        .iter()
        .flat_map(|(module, named)| {
            named.iter().filter(|n| !known.contains(n) && *n != "params").map(move |n| format!("{module} -> crate::{n}"))
        })
        .collect();
    assert!(up.is_empty(), "modules that name the crate root's items: {up:?}");
}

/// An order's state, and an operation's, change in one place each, which writes the history
/// and the event with the change (`store/orders/change.rs`, `store/operations.rs`'s
/// `set_status`): no other statement sets a status or writes either.
#[test]
fn every_state_change_is_written_by_its_one_writer() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut files = vec![store.clone()];
    let mut found: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        let text: String = std::fs::read_to_string(&path).unwrap().lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        // One spelling of every statement: lower case, one space, none around `=` and `,`.
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase().replace(" = ", "=").replace(", ", ",");
        let name = path.strip_prefix(&store).unwrap().display().to_string();
        for (what, statement) in [
            ("an order's status", "update orders set "),
            ("an operation's status", "update operations set "),
            ("a history row", "insert into order_history"),
            ("an event", "insert into webhook_events"),
            ("an order", "insert into orders"),
        ] {
            for (at, _) in text.match_indices(statement) {
                let set = &text[at..];
                let set = &set[..set.find("where").unwrap_or(set.len())];
                let writes = !statement.starts_with("update") || set.contains("set status=") || set.contains(",status=");
                // Files, not statements: `change` writes a move alone and several at once.
                let files = found.entry(what).or_default();
                if writes && !files.contains(&name) {
                    files.push(name.clone());
                }
            }
        }
    }
    let one = |file: &str| vec![file.to_owned()];
    assert_eq!(found.remove("an order's status"), Some(one("orders/change.rs")));
    assert_eq!(found.remove("a history row"), Some(one("orders/change.rs")));
    assert_eq!(found.remove("an event"), Some(one("orders/change.rs")));
    assert_eq!(found.remove("an operation's status"), Some(one("operations.rs")));
    // The one insert of an order writes its first history row.
    assert_eq!(found.remove("an order"), Some(one("orders/invoice_ids.rs")));
    let insert = std::fs::read_to_string(store.join("orders/invoice_ids.rs")).unwrap();
    assert!(
        insert.contains("record_history(tx, id, status, created_at)") && insert.contains("with_first_history(insert_order!"),
        "an order stored without its first history row"
    );
    // Moves are written by `change` alone; a `Move` sets other columns, never the status.
    for file in ["orders/transitions.rs", "orders/merchant.rs", "orders/begin.rs", "operations.rs"] {
        let text = std::fs::read_to_string(store.join(file)).unwrap().to_lowercase().replace(' ', "");
        assert!(!text.contains("set:\"status=") && !text.contains(",status=?,"), "{file}: a Move sets the status itself");
    }
}

/// SQL lives under `store/` and nowhere else: no other file of the proxy holds a statement.
#[test]
fn statements_are_written_in_the_store_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.clone()];
    let mut found = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            if path != src.join("store") {
                files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            }
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "rs") || path.ends_with("layers.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate().filter(|(_, line)| !line.trim_start().starts_with("//")) {
            if [
                "SELECT ",
                "INSERT INTO ",
                "DELETE FROM ",
                "UPDATE orders",
                "UPDATE operations",
                "UPDATE webhook_events",
                "\"WHERE ",
                "ORDER BY ",
            ]
            .iter()
            .any(|sql| line.contains(sql))
            {
                found.push(format!("{}:{}", path.strip_prefix(&src).unwrap().display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "SQL outside store/: {found:?}");
}

#[test]
fn a_loop_is_found_however_far_round() {
    let modules: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec![])]
        .into_iter()
        .map(|(m, to)| (m.to_owned(), to.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(a_loop(&modules), Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]));
}
