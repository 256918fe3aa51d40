//! A small model of Terraform configuration on top of `hcl-rs`: modules read
//! from directories, module calls followed from an environment root, and
//! expressions resolved through `var.`, `local.` and `module.` references to
//! literal values or to the resource they name.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use hcl::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::structure::{Block, Body};
use hcl::template::{Element, Template};

/// One parsed `.tf` file.
pub struct SourceFile {
    pub path: PathBuf,
    pub body: Body,
}

/// All `.tf` files of one directory (one Terraform module).
pub struct Module {
    pub dir: PathBuf,
    pub files: Vec<SourceFile>,
}

impl Module {
    /// Parses every `.tf` file directly inside `dir`.
    pub fn load(dir: &Path) -> Result<Module, String> {
        let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "tf"))
            .collect();
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let body = hcl::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            files.push(SourceFile { path, body });
        }
        Ok(Module {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// Top-level blocks with the given identifier (`resource`, `variable` …).
    pub fn blocks<'a>(
        &'a self,
        identifier: &'a str,
    ) -> impl Iterator<Item = (&'a SourceFile, &'a Block)> + 'a {
        self.files.iter().flat_map(move |file| {
            file.body
                .blocks()
                .filter(move |block| block.identifier() == identifier)
                .map(move |block| (file, block))
        })
    }

    /// `resource "<kind>" "<name>"` blocks: (file, name, body).
    pub fn resources<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a SourceFile, &'a str, &'a Body)> + 'a {
        self.labelled("resource", kind)
    }

    /// `data "<kind>" "<name>"` blocks: (file, name, body).
    pub fn data_sources<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a SourceFile, &'a str, &'a Body)> + 'a {
        self.labelled("data", kind)
    }

    fn labelled<'a>(
        &'a self,
        identifier: &'a str,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a SourceFile, &'a str, &'a Body)> + 'a {
        self.blocks(identifier).filter_map(move |(file, block)| {
            let labels = block.labels();
            (labels.len() == 2 && labels[0].as_str() == kind)
                .then(|| (file, labels[1].as_str(), block.body()))
        })
    }

    /// The expression of `locals { <name> = … }`.
    pub fn local(&self, name: &str) -> Option<&Expression> {
        self.blocks("locals")
            .find_map(|(_, block)| attribute(block.body(), name))
    }

    /// The `value` of `output "<name>"`.
    pub fn output(&self, name: &str) -> Option<&Expression> {
        self.single_labelled("output", name)
            .and_then(|body| attribute(body, "value"))
    }

    /// The `default` of `variable "<name>"`.
    pub fn variable_default(&self, name: &str) -> Option<&Expression> {
        self.single_labelled("variable", name)
            .and_then(|body| attribute(body, "default"))
    }

    fn single_labelled<'a>(&'a self, identifier: &'a str, name: &str) -> Option<&'a Body> {
        self.blocks(identifier).find_map(|(_, block)| {
            (block.labels().first().map(|label| label.as_str()) == Some(name)).then(|| block.body())
        })
    }
}

/// The expression of attribute `key` in `body`.
pub fn attribute<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|attr| attr.key() == key)
        .map(|attr| attr.expr())
}

/// Nested blocks named `identifier` inside `body`.
pub fn nested<'a>(body: &'a Body, identifier: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks()
        .filter(move |block| block.identifier() == identifier)
}

/// The value of `key` inside an object expression (`{ key = … }`).
pub fn object_field<'a>(expr: &'a Expression, key: &str) -> Option<&'a Expression> {
    match expr {
        Expression::Object(object) => object.iter().find_map(|(k, v)| {
            let name = match k {
                ObjectKey::Identifier(id) => id.as_str().to_string(),
                ObjectKey::Expression(Expression::String(s)) => s.clone(),
                ObjectKey::Expression(other) => other.to_string(),
                other => other.to_string(),
            };
            (name == key).then_some(v)
        }),
        _ => None,
    }
}

/// Calls `visit` for `expr` and every expression nested in it.
pub fn walk_expression(expr: &Expression, visit: &mut dyn FnMut(&Expression)) {
    visit(expr);
    match expr {
        Expression::Array(items) => items.iter().for_each(|e| walk_expression(e, visit)),
        Expression::Object(object) => object.values().for_each(|e| walk_expression(e, visit)),
        Expression::FuncCall(call) => call.args.iter().for_each(|e| walk_expression(e, visit)),
        Expression::Parenthesis(inner) => walk_expression(inner, visit),
        Expression::Conditional(c) => {
            walk_expression(&c.cond_expr, visit);
            walk_expression(&c.true_expr, visit);
            walk_expression(&c.false_expr, visit);
        }
        Expression::ForExpr(f) => {
            walk_expression(&f.collection_expr, visit);
            walk_expression(&f.value_expr, visit);
        }
        Expression::Traversal(t) => walk_expression(&t.expr, visit),
        _ => {}
    }
}

/// Calls `visit` for every attribute expression in `body`, at any depth.
pub fn walk_body(body: &Body, visit: &mut dyn FnMut(&Expression)) {
    for attr in body.attributes() {
        walk_expression(attr.expr(), visit);
    }
    for block in body.blocks() {
        walk_body(block.body(), visit);
    }
}

fn element_text(element: &Element) -> String {
    Template::new().add_element(element.clone()).to_string()
}

/// What an expression comes to once references are followed.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Val>),
    /// A resource or data source of a module instance, e.g.
    /// `aws_security_group.this` with `attr` `id`.
    Ref {
        instance: usize,
        address: String,
        attr: String,
    },
    /// Anything not statically known; holds the expression's text.
    Unknown(String),
}

impl Val {
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// (instance, resource address) of a reference.
    pub fn resource(&self) -> Option<(usize, &str)> {
        match self {
            Val::Ref {
                instance, address, ..
            } => Some((*instance, address)),
            _ => None,
        }
    }
}

/// One module as instantiated by a root: the environment itself, or a
/// `module` block inside it (recursively).
pub struct Instance {
    pub module: Module,
    /// Human-readable address, e.g. `env/production module.stack.module.web`.
    pub path: String,
    parent: Option<usize>,
    args: HashMap<String, Expression>,
    children: HashMap<String, usize>,
}

/// An environment root and every module instance below it.
pub struct Tree {
    pub instances: Vec<Instance>,
}

const META_ARGUMENTS: [&str; 6] = [
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];
const MAX_DEPTH: usize = 32;

impl Tree {
    /// Loads the root module in `dir` and every local module it calls.
    pub fn load(dir: &Path, label: &str) -> Result<Tree, String> {
        let mut tree = Tree {
            instances: Vec::new(),
        };
        tree.instantiate(dir, label.to_string(), None, HashMap::new(), 0)?;
        Ok(tree)
    }

    fn instantiate(
        &mut self,
        dir: &Path,
        path: String,
        parent: Option<usize>,
        args: HashMap<String, Expression>,
        depth: usize,
    ) -> Result<usize, String> {
        if depth > 8 {
            return Err(format!("{path}: modules nested too deeply"));
        }
        let module = Module::load(dir)?;
        let calls: Vec<(String, PathBuf, HashMap<String, Expression>)> = module
            .blocks("module")
            .filter_map(|(_, block)| {
                let name = block.labels().first()?.as_str().to_string();
                let source = match attribute(block.body(), "source")? {
                    Expression::String(s) if s.starts_with('.') => s.clone(),
                    _ => return None,
                };
                let args = block
                    .body()
                    .attributes()
                    .filter(|attr| !META_ARGUMENTS.contains(&attr.key()))
                    .map(|attr| (attr.key().to_string(), attr.expr().clone()))
                    .collect();
                Some((name, dir.join(source), args))
            })
            .collect();
        let index = self.instances.len();
        self.instances.push(Instance {
            module,
            path: path.clone(),
            parent,
            args,
            children: HashMap::new(),
        });
        for (name, child_dir, child_args) in calls {
            let child_path = format!("{path} module.{name}");
            let child =
                self.instantiate(&child_dir, child_path, Some(index), child_args, depth + 1)?;
            self.instances[index].children.insert(name, child);
        }
        Ok(index)
    }

    /// Every `resource "<kind>"` of every instance: (instance, file, name, body).
    pub fn resources<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (usize, &'a SourceFile, &'a str, &'a Body)> + 'a {
        self.instances
            .iter()
            .enumerate()
            .flat_map(move |(index, instance)| {
                instance
                    .module
                    .resources(kind)
                    .map(move |(file, name, body)| (index, file, name, body))
            })
    }

    /// Resolves `expr` as written in instance `index`.
    pub fn resolve(&self, index: usize, expr: &Expression) -> Val {
        self.resolve_at(index, expr, 0)
    }

    /// Resolves attribute `key` of `body` (in instance `index`); `None` when absent.
    pub fn attr(&self, index: usize, body: &Body, key: &str) -> Option<Val> {
        attribute(body, key).map(|expr| self.resolve(index, expr))
    }

    /// Follows `var.`/`local.`/`module.` references from `expr` to the
    /// expression that finally defines it, without evaluating it (for
    /// expressions such as `for` that are checked by their shape).
    pub fn definition<'a>(&'a self, index: usize, expr: &'a Expression) -> (usize, &'a Expression) {
        let (mut index, mut expr) = (index, expr);
        for _ in 0..MAX_DEPTH {
            match self.step(index, expr) {
                Some(next) => (index, expr) = next,
                None => break,
            }
        }
        (index, expr)
    }

    fn step<'a>(&'a self, index: usize, expr: &'a Expression) -> Option<(usize, &'a Expression)> {
        let Expression::Traversal(traversal) = expr else {
            return None;
        };
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let names: Vec<&str> = traversal
            .operators
            .iter()
            .map_while(|op| match op {
                TraversalOperator::GetAttr(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        let instance = &self.instances[index];
        match (root.as_str(), names.as_slice()) {
            ("var", [name]) if traversal.operators.len() == 1 => {
                match (instance.parent, instance.args.get(*name)) {
                    (Some(parent), Some(arg)) => Some((parent, arg)),
                    _ => instance.module.variable_default(name).map(|d| (index, d)),
                }
            }
            ("local", [name]) if traversal.operators.len() == 1 => {
                instance.module.local(name).map(|e| (index, e))
            }
            ("module", [child, output]) if traversal.operators.len() == 2 => {
                let child = *instance.children.get(*child)?;
                self.instances[child]
                    .module
                    .output(output)
                    .map(|e| (child, e))
            }
            _ => None,
        }
    }

    fn resolve_at(&self, index: usize, expr: &Expression, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::Unknown(expr.to_string());
        }
        match expr {
            Expression::Null => Val::Null,
            Expression::Bool(b) => Val::Bool(*b),
            Expression::Number(n) => n.as_f64().map_or(Val::Unknown(n.to_string()), Val::Num),
            Expression::String(s) => Val::Str(s.clone()),
            Expression::Array(items) => Val::List(
                items
                    .iter()
                    .map(|item| self.resolve_at(index, item, depth + 1))
                    .collect(),
            ),
            Expression::Parenthesis(inner) => self.resolve_at(index, inner, depth + 1),
            Expression::TemplateExpr(template) => Template::from_expr(template)
                .ok()
                .and_then(|t| self.render(index, &t, depth))
                .map_or_else(|| Val::Unknown(expr.to_string()), Val::Str),
            Expression::Conditional(c) => match self.resolve_at(index, &c.cond_expr, depth + 1) {
                Val::Bool(true) => self.resolve_at(index, &c.true_expr, depth + 1),
                Val::Bool(false) => self.resolve_at(index, &c.false_expr, depth + 1),
                _ => Val::Unknown(expr.to_string()),
            },
            Expression::Traversal(traversal) => {
                if let Some((next_index, next)) = self.step(index, expr) {
                    return self.resolve_at(next_index, next, depth + 1);
                }
                let Expression::Variable(root) = &traversal.expr else {
                    return Val::Unknown(expr.to_string());
                };
                let root = root.as_str();
                if [
                    "var",
                    "local",
                    "module",
                    "each",
                    "count",
                    "path",
                    "self",
                    "terraform",
                ]
                .contains(&root)
                {
                    return Val::Unknown(expr.to_string());
                }
                let take = if root == "data" || root == "ephemeral" {
                    2
                } else {
                    1
                };
                let mut address = vec![root.to_string()];
                let mut attr = Vec::new();
                for (position, op) in traversal.operators.iter().enumerate() {
                    let text = match op {
                        TraversalOperator::GetAttr(id) => id.as_str().to_string(),
                        TraversalOperator::Index(e) => format!("[{e}]"),
                        TraversalOperator::LegacyIndex(i) => format!("[{i}]"),
                        TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {
                            "[*]".to_string()
                        }
                    };
                    if position < take {
                        address.push(text);
                    } else {
                        attr.push(text);
                    }
                }
                Val::Ref {
                    instance: index,
                    address: address.join("."),
                    attr: attr.join(".").replace(".[", "["),
                }
            }
            _ => Val::Unknown(expr.to_string()),
        }
    }

    fn render(&self, index: usize, template: &Template, depth: usize) -> Option<String> {
        let mut out = String::new();
        for element in template.elements() {
            match element {
                Element::Literal(text) => out.push_str(text),
                Element::Interpolation(interpolation) => {
                    match self.resolve_at(index, &interpolation.expr, depth + 1) {
                        Val::Str(s) => out.push_str(&s),
                        Val::Num(n) => out.push_str(&n.to_string()),
                        Val::Bool(b) => out.push_str(&b.to_string()),
                        _ => return None,
                    }
                }
                Element::Directive(_) => return None,
            }
        }
        Some(out)
    }

    /// Text of `expr` with every reference that can be resolved filled in and
    /// the others left as `${…}`; for strings whose shape matters even when
    /// parts of them are inputs (e.g. `oidc.circleci.com/org/${var.org}:aud`).
    pub fn text(&self, index: usize, expr: &Expression) -> String {
        self.text_at(index, expr, 0)
    }

    fn text_at(&self, index: usize, expr: &Expression, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return expr.to_string();
        }
        if let Some((next_index, next)) = self.step(index, expr) {
            return self.text_at(next_index, next, depth + 1);
        }
        match expr {
            Expression::TemplateExpr(template) => match Template::from_expr(template) {
                Ok(template) => template
                    .elements()
                    .iter()
                    .map(|element| match element {
                        Element::Literal(text) => text.clone(),
                        Element::Interpolation(i) => {
                            match self.resolve_at(index, &i.expr, depth + 1) {
                                Val::Str(s) => s,
                                Val::Num(n) => n.to_string(),
                                Val::Bool(b) => b.to_string(),
                                _ => match self.definition(index, &i.expr) {
                                    (def_index, def @ Expression::TemplateExpr(_)) => {
                                        self.text_at(def_index, def, depth + 1)
                                    }
                                    (_, def) => format!("${{{def}}}"),
                                },
                            }
                        }
                        Element::Directive(_) => element_text(element),
                    })
                    .collect(),
                Err(_) => expr.to_string(),
            },
            other => match self.resolve_at(index, other, depth + 1) {
                Val::Str(s) => s,
                Val::Num(n) => n.to_string(),
                Val::Bool(b) => b.to_string(),
                _ => other.to_string(),
            },
        }
    }

    /// Directory of instance `index`'s module.
    pub fn dir(&self, index: usize) -> &Path {
        &self.instances[index].module.dir
    }
}
