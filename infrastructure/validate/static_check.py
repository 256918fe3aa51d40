"""A static pass over the parsed Terraform against the provider schema.

`terraform validate` checks types and references as far as the schema types
them; where an attribute is typed dynamic (the generated bindings do not
expand every computed value) it accepts any reference into it. This pass
reads every module with python-hcl2 and checks, against the same schema:

- resource, data and ephemeral blocks: unknown arguments and blocks,
  missing required arguments and blocks, arguments written as blocks and
  blocks written as arguments (nested blocks included, `dynamic` blocks
  by their content);
- references `aws_x.name.attr...`, `data.aws_x.name.attr...` and
  `ephemeral.aws_x.name.attr...`: every step must exist in the schema;
- module calls: every argument is a variable of the module, every variable
  without a default is set, and every `module.name.output` exists.

Usage: static_check.py <schema.json> <infrastructure dir>
Prints one line per finding; exit status 1 if there is any.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import hcl2

META = {"count", "for_each", "provider", "depends_on", "lifecycle", "connection", "provisioner", "__is_block__", "__comments__", "__inline_comments__", "__start_line__", "__end_line__"}
MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on", "__is_block__", "__comments__", "__inline_comments__", "__start_line__", "__end_line__"}
SECTIONS = {"resource": "resource_schemas", "data": "data_source_schemas", "ephemeral": "ephemeral_resource_schemas"}
PREFIX = {"resource": "", "data": "data.", "ephemeral": "ephemeral."}
REFERENCE = re.compile(r"(?<![\w.\"])(data\.|ephemeral\.)?(aws_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\[[^\]]*\]|\.[A-Za-z_][A-Za-z0-9_]*|\.\*)*)")
MODULE_REFERENCE = re.compile(r"(?<![\w.])module\.([A-Za-z_][A-Za-z0-9_-]*)((?:\[[^\]]*\])?)\.([A-Za-z_][A-Za-z0-9_]*)")
STEP = re.compile(r"\[[^\]]*\]|\.\*|\.([A-Za-z_][A-Za-z0-9_]*)")


def unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def is_block(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and v.get("__is_block__") for v in value)


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


class Module:
    def __init__(self, directory: Path):
        self.directory = directory
        self.files: dict[Path, dict] = {}
        for path in sorted(directory.glob("*.tf")):
            with path.open(encoding="utf-8") as handle:
                self.files[path] = hcl2.load(handle)
        self.declared: dict[str, dict] = {}  # "data.aws_x.name" -> body
        self.calls: dict[str, dict] = {}
        self.variables: dict[str, dict] = {}
        self.outputs: set[str] = set()
        for path, document in self.files.items():
            for kind in SECTIONS:
                for entry in document.get(kind, []):
                    for type_name, named in entry.items():
                        for name, body in named.items():
                            self.declared[f"{PREFIX[kind]}{unquote(type_name)}.{unquote(name)}"] = (kind, unquote(type_name), body, path)
            for entry in document.get("module", []):
                for name, body in entry.items():
                    self.calls[unquote(name)] = body
            for entry in document.get("variable", []):
                for name, body in entry.items():
                    self.variables[unquote(name)] = body
            for entry in document.get("output", []):
                for name in entry:
                    self.outputs.add(unquote(name))


class Checker:
    def __init__(self, schema: dict, infrastructure: Path):
        self.schema = schema
        self.infrastructure = infrastructure
        self.modules: dict[Path, Module] = {}
        self.findings: list[str] = []

    def module(self, directory: Path) -> Module:
        directory = directory.resolve()
        if directory not in self.modules:
            self.modules[directory] = Module(directory)
        return self.modules[directory]

    def report(self, where: Path, message: str) -> None:
        self.findings.append(f"{where.relative_to(self.infrastructure.parent)}: {message}")

    # -- blocks ----------------------------------------------------------
    def check_body(self, where: Path, label: str, body: dict, block: dict) -> None:
        attributes, block_types = block.get("attributes", {}), block.get("block_types", {})
        present = set()
        for key, value in body.items():
            if key in META:
                continue
            if key == "dynamic" and isinstance(value, list):
                for dynamic in value:
                    for dyn_name, dyn_body in dynamic.items():
                        if dyn_name == "__is_block__":
                            continue
                        name = unquote(dyn_name)
                        present.add(name)
                        if name not in block_types:
                            self.report(where, f"{label}: dynamic block {name!r} is not a block of this type")
                            continue
                        for content in dyn_body.get("content", []):
                            self.check_body(where, f"{label}.{name}", content, block_types[name]["block"])
                continue
            present.add(key)
            if key in attributes:
                spec = attributes[key]
                if is_block(value) and "nested_type" not in spec:
                    self.report(where, f"{label}: {key!r} is an argument, written as a block")
                elif spec.get("computed") and not spec.get("optional") and not spec.get("required"):
                    self.report(where, f"{label}: {key!r} is read-only (computed)")
            elif key in block_types:
                if not is_block(value):
                    self.report(where, f"{label}: {key!r} is a block, written as an argument")
                    continue
                nested = block_types[key]
                if nested.get("max_items") and len(value) > nested["max_items"]:
                    self.report(where, f"{label}: at most {nested['max_items']} {key!r} block(s)")
                for item in value:
                    self.check_body(where, f"{label}.{key}", item, nested["block"])
            else:
                self.report(where, f"{label}: unknown argument or block {key!r}")
        for name, spec in attributes.items():
            if spec.get("required") and name not in present:
                self.report(where, f"{label}: missing required argument {name!r}")
        for name, nested in block_types.items():
            if nested.get("min_items", 0) > 0 and name not in present:
                self.report(where, f"{label}: missing required block {name!r}")

    # -- references ------------------------------------------------------
    def walk_reference(self, where: Path, text: str, kind: str, type_name: str, steps: list[str]) -> None:
        node = {"block": self.schema[SECTIONS[kind]][type_name]["block"]}
        path = f"{PREFIX[kind]}{type_name}"
        for step in steps:
            if step is None:  # an index or splat
                if "block" in node:
                    continue
                node = element_of(node)
                if node is None:
                    return
                continue
            if "block" in node:
                block = node["block"]
                if step in block.get("attributes", {}):
                    spec = block["attributes"][step]
                    node = {"type": spec["type"]} if "type" in spec else {"nested": spec["nested_type"]}
                elif step in block.get("block_types", {}):
                    node = {"block": block["block_types"][step]["block"]}
                else:
                    self.report(where, f"{text}: {path} has no attribute {step!r}")
                    return
            elif "nested" in node:
                if step not in node["nested"]["attributes"]:
                    self.report(where, f"{text}: {path} has no attribute {step!r}")
                    return
                spec = node["nested"]["attributes"][step]
                node = {"type": spec["type"]} if "type" in spec else {"nested": spec["nested_type"]}
            else:
                node = member_of(node["type"], step)
                if node is False:
                    self.report(where, f"{text}: {path} has no attribute {step!r}")
                    return
                if node is None:
                    return
            path += f".{step}"

    def check_references(self, module: Module) -> None:
        for path, document in module.files.items():
            # moved, import and removed blocks name resources; they read nothing.
            readable = {k: v for k, v in document.items() if k not in ("moved", "import", "removed")}
            for text in strings(readable):
                for match in REFERENCE.finditer(text):
                    prefix, type_name, name, rest = match.groups()
                    kind = {"data.": "data", "ephemeral.": "ephemeral"}.get(prefix or "", "resource")
                    key = f"{prefix or ''}{type_name}.{name}"
                    if key not in module.declared:
                        if prefix or type_name in self.schema["resource_schemas"]:
                            self.report(path, f"{match.group(0)}: {key} is not declared in this module")
                        continue
                    steps = [m.group(1) for m in STEP.finditer(rest)]
                    self.walk_reference(path, match.group(0), kind, type_name, steps)
                for match in MODULE_REFERENCE.finditer(text):
                    name, _, output = match.groups()
                    call = module.calls.get(name)
                    if call is None:
                        self.report(path, f"{match.group(0)}: no module {name!r} is called here")
                        continue
                    target = self.module(module.directory / unquote(call["source"]))
                    if output not in target.outputs:
                        self.report(path, f"{match.group(0)}: module {name!r} has no output {output!r}")

    def check_module(self, module: Module) -> None:
        for key, (kind, type_name, body, path) in module.declared.items():
            section = self.schema[SECTIONS[kind]]
            if type_name not in section:
                self.report(path, f"{key}: the provider has no {kind} type {type_name!r}")
                continue
            self.check_body(path, key, body, section[type_name]["block"])
        for name, call in module.calls.items():
            source = unquote(call.get("source", ""))
            if not source.startswith("."):
                continue
            target = self.module(module.directory / source)
            where = next(iter(module.files))
            for key in call:
                if key not in MODULE_META and key not in target.variables:
                    self.report(where, f"module {name!r}: {source} has no variable {key!r}")
            for variable, body in target.variables.items():
                if "default" not in body and variable not in call:
                    self.report(where, f"module {name!r}: required variable {variable!r} is not set")
        self.check_references(module)

    def run(self, roots: list[Path]) -> list[str]:
        pending = [self.module(root) for root in roots]
        done = set()
        while pending:
            module = pending.pop()
            if module.directory in done:
                continue
            done.add(module.directory)
            self.check_module(module)
            for call in module.calls.values():
                source = unquote(call.get("source", ""))
                if source.startswith("."):
                    pending.append(self.module(module.directory / source))
        return self.findings


def element_of(node):
    if "nested" in node:
        nested = node["nested"]
        return {"nested": {"attributes": nested["attributes"]}} if nested["nesting_mode"] != "single" else None
    t = node.get("type")
    if isinstance(t, list) and t[0] in ("list", "set", "map"):
        return {"type": t[1]}
    return None


def member_of(t, step):
    """The type of attribute `step` of a value of type t; None if unknowable, False if absent."""
    if t == "dynamic":
        return None
    if isinstance(t, list):
        if t[0] == "object":
            return {"type": t[1][step]} if step in t[1] else False
        if t[0] in ("list", "set"):
            return None  # indexing first; an attribute of a list is Terraform's own error
        if t[0] == "map":
            return {"type": t[1]}
    return False


def main() -> int:
    schema_path, infrastructure = sys.argv[1], Path(sys.argv[2]).resolve()
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    roots = [infrastructure / "bootstrap"] + sorted(p for p in (infrastructure / "env").iterdir() if p.is_dir())
    findings = Checker(schema, infrastructure).run(roots)
    for finding in findings:
        print(finding)
    if findings:
        print(f"static schema check: {len(findings)} finding(s)", file=sys.stderr)
        return 1
    print(f"static schema check: {len(roots)} roots and their modules match the provider schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
