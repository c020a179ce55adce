//! The `# Ports` section of every use case names exactly the ports its code calls: the lists are
//! derived here from the source (each `self.ports.<field>` in the method and in the methods of
//! the same service it calls), so a use case that starts calling a port fails this test until
//! its documentation says so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Wired in every `Ports`: never listed.
const ALWAYS_WIRED: [&str; 2] = ["clock", "ids"];
const SERVICES: [&str; 2] = ["OrderService", "WebhookService"];

struct Method {
    public: bool,
    documented: Option<BTreeSet<String>>,
    ports: BTreeSet<String>,
    calls: BTreeSet<String>,
}

/// `(service, method)` → what the method's own body calls.
fn methods() -> BTreeMap<(String, String), Method> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/use_cases");
    let mut methods = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src/use_cases is readable") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).expect("a source file");
            read_methods(&source, &mut methods);
        }
    }
    methods
}

fn read_methods(source: &str, methods: &mut BTreeMap<(String, String), Method>) {
    let lines: Vec<&str> = source.lines().collect();
    let mut service: Option<String> = None;
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = line.strip_prefix("impl ") {
            service = SERVICES
                .iter()
                .find(|s| rest.starts_with(&format!("{s} ")))
                .map(|s| (*s).to_owned());
            continue;
        }
        let Some(service) = &service else { continue };
        let Some((public, name)) = method_name(trimmed) else {
            continue;
        };
        let body = body_from(&lines[index..].join("\n"));
        let (ports, calls) = uses(&body);
        methods.insert(
            (service.clone(), name),
            Method {
                public,
                documented: documented_ports(&lines[..index]),
                ports,
                calls,
            },
        );
    }
}

/// The name of the method declared on `line`, and whether it is `pub`.
fn method_name(line: &str) -> Option<(bool, String)> {
    let (public, rest) = match line.strip_prefix("pub ") {
        Some(rest) => (true, rest),
        // `pub(crate)`, `pub(super)`: helpers, not use cases.
        None => match line.strip_prefix("pub(") {
            Some(rest) => (false, rest.split_once(") ")?.1),
            None => (false, line),
        },
    };
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let rest = rest.strip_prefix("fn ")?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    Some((public, name))
}

/// The text from the first `{` to the brace that closes it.
fn body_from(text: &str) -> String {
    let start = text.find('{').expect("a method has a body");
    let mut depth = 0_usize;
    for (offset, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return text[start..=start + offset].to_owned();
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces after {}", &text[..start]);
}

/// The `self.ports.<field>` fields and the `self.<method>(` calls in `body`, whitespace ignored
/// (rustfmt breaks long chains across lines).
fn uses(body: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let ports = compact.split("self.ports.").skip(1).map(ident).collect();
    let calls = compact
        .split("self.")
        .skip(1)
        .filter_map(|rest| {
            let name = ident(rest);
            rest[name.len()..].starts_with('(').then_some(name)
        })
        .collect();
    (ports, calls)
}

/// The backticked names of the `# Ports` section of the doc comment that ends above the
/// method (attributes between them skipped).
fn documented_ports(above: &[&str]) -> Option<BTreeSet<String>> {
    let docs: Vec<&str> = above
        .iter()
        .rev()
        .map(|l| l.trim())
        .skip_while(|l| l.starts_with("#["))
        .take_while(|l| l.starts_with("///") || l.starts_with("#["))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let section = docs.iter().position(|l| *l == "/// # Ports")?;
    let text: String = docs[section + 1..]
        .iter()
        .take_while(|l| **l != "///")
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    Some(
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect(),
    )
}

fn reached(
    methods: &BTreeMap<(String, String), Method>,
    key: &(String, String),
    seen: &mut BTreeSet<(String, String)>,
) -> BTreeSet<String> {
    if !seen.insert(key.clone()) {
        return BTreeSet::new();
    }
    let Some(method) = methods.get(key) else {
        return BTreeSet::new();
    };
    let mut ports = method.ports.clone();
    for call in &method.calls {
        ports.extend(reached(methods, &(key.0.clone(), call.clone()), seen));
    }
    ports
}

#[test]
fn every_use_case_documents_exactly_the_ports_it_calls() {
    let methods = methods();
    assert!(
        methods.len() > 50,
        "the use cases were found ({} methods)",
        methods.len()
    );
    let mut wrong = Vec::new();
    for (key, method) in &methods {
        if !method.public {
            continue;
        }
        let called: BTreeSet<String> = reached(&methods, key, &mut BTreeSet::new())
            .into_iter()
            .filter(|p| !ALWAYS_WIRED.contains(&p.as_str()))
            .collect();
        let documented = method.documented.clone().unwrap_or_default();
        if called != documented {
            wrong.push(format!(
                "{}::{}: calls {called:?}, documents {documented:?}",
                key.0, key.1
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "fix the `# Ports` sections:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_derivation_sees_ports_through_helpers_and_line_breaks() {
    let source = r#"
impl OrderService {
    /// Reads.
    ///
    /// # Ports
    /// `orders`, `tickets`.
    pub async fn outer(&self) {
        self
            .ports
            .orders
            .find();
        self.helper().await;
    }

    async fn helper(&self) {
        self.ports.tickets.hold({ 1 });
        self.ports.clock.now();
    }
}
"#;
    let mut methods = BTreeMap::new();
    read_methods(source, &mut methods);
    let key = ("OrderService".to_owned(), "outer".to_owned());
    let reached = reached(&methods, &key, &mut BTreeSet::new());
    assert_eq!(
        reached,
        BTreeSet::from(["clock".into(), "orders".into(), "tickets".into()])
    );
    assert_eq!(
        methods[&key].documented,
        Some(BTreeSet::from(["orders".into(), "tickets".into()]))
    );
}
