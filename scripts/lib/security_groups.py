"""The security group rules of infrastructure/modules, read from the Terraform.

Prints one JSON document: {"groups": [...], "rules": [...]}, where each rule is
{"group", "direction" (ingress|egress), "protocol", "from_port", "to_port",
"peer": {"cidr": ...} | {"group": ...}, "where"}. Groups are named after the
module that owns them (load_balancer, web, database).

References are resolved the way Terraform would for the `stack` module, which
wires the modules together: `aws_security_group.this.id` is the module's own
group, `var.NAME` is the argument the stack passes to the module (itself
`module.OTHER.security_group_id`, an output that is `aws_security_group.this.id`
of OTHER, or `var.NAME` of the stack with its default), a number is a number.
Anything else (an inline ingress/egress block, an IPv6 or prefix-list rule,
a reference that cannot be resolved) is an error: the rehearsal must not
silently drop a rule.

Usage: python3 security_groups.py INFRASTRUCTURE_MODULES_DIR
(needs python-hcl2, as in checkov's virtualenv).
"""

import json
import os
import re
import sys

import hcl2

RULE_TYPES = {
    "aws_vpc_security_group_ingress_rule": "ingress",
    "aws_vpc_security_group_egress_rule": "egress",
}
REFERENCE = re.compile(r"^\$\{(.+)\}$")


class Unsupported(Exception):
    pass


def load_dir(path):
    documents = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".tf"):
            with open(os.path.join(path, name)) as handle:
                documents[name] = hcl2.load(handle)
    return documents


def blocks(documents, kind):
    for name, document in documents.items():
        for block in document.get(kind, []):
            yield name, block


def single(value):
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


class Stack:
    def __init__(self, modules_dir):
        self.modules_dir = modules_dir
        self.stack = load_dir(os.path.join(modules_dir, "stack"))
        self.stack_variables = {}
        for _, block in blocks(self.stack, "variable"):
            for name, body in block.items():
                self.stack_variables[name] = single(body.get("default"))
        # module name in the stack -> (module folder, its arguments)
        self.instances = {}
        for _, block in blocks(self.stack, "module"):
            for name, body in block.items():
                source = single(body["source"])
                folder = os.path.basename(os.path.normpath(source))
                self.instances[name] = (folder, body)
        self.folder_to_instance = {f: n for n, (f, _) in self.instances.items()}
        self.loaded = {}

    def module(self, folder):
        if folder not in self.loaded:
            self.loaded[folder] = load_dir(os.path.join(self.modules_dir, folder))
        return self.loaded[folder]

    def output(self, instance, output_name):
        folder, _ = self.instances[instance]
        for _, block in blocks(self.module(folder), "output"):
            if output_name in block:
                return self.resolve(folder, single(block[output_name]["value"]))
        raise Unsupported(f"module {instance} has no output {output_name}")

    def resolve(self, folder, value):
        """A value in module `folder`: a number, a string, or ("group", name)."""
        value = single(value)
        if isinstance(value, (int, float)):
            return value
        match = REFERENCE.match(str(value))
        if not match:
            return value
        expression = match.group(1)
        if expression == "aws_security_group.this.id":
            return ("group", folder)
        if expression.startswith("var."):
            name = expression[4:]
            if folder == "stack":
                if self.stack_variables.get(name) is None:
                    raise Unsupported(f"stack variable {name} has no default")
                return self.stack_variables[name]
            instance = self.folder_to_instance.get(folder)
            if instance is None:
                raise Unsupported(f"module {folder} is not used by the stack")
            arguments = self.instances[instance][1]
            if name in arguments:
                return self.resolve("stack", arguments[name])
            for _, block in blocks(self.module(folder), "variable"):
                if name in block and block[name].get("default") is not None:
                    return single(block[name]["default"])
            raise Unsupported(f"var.{name} of module {folder} is not set by the stack")
        if expression.startswith("module.") and folder == "stack":
            _, instance, output_name = expression.split(".", 2)
            return self.output(instance, output_name)
        raise Unsupported(f"cannot resolve {value} in module {folder}")


def rules(modules_dir):
    stack = Stack(modules_dir)
    groups, found = set(), []
    for folder in sorted(os.listdir(modules_dir)):
        if not os.path.isdir(os.path.join(modules_dir, folder)) or folder == "stack":
            continue
        for file_name, block in blocks(stack.module(folder), "resource"):
            for resource_type, instances in block.items():
                for name, body in instances.items():
                    where = f"infrastructure/modules/{folder}/{file_name}: {resource_type}.{name}"
                    if resource_type == "aws_security_group":
                        for inline in ("ingress", "egress"):
                            if inline in body:
                                raise Unsupported(f"{where}: inline {inline} blocks are not read here")
                        groups.add(folder)
                        continue
                    if resource_type not in RULE_TYPES:
                        continue
                    for unsupported in ("cidr_ipv6", "prefix_list_id"):
                        if unsupported in body:
                            raise Unsupported(f"{where}: {unsupported} is not rehearsed")
                    group = stack.resolve(folder, body["security_group_id"])
                    protocol = str(stack.resolve(folder, body["ip_protocol"]))
                    if protocol not in ("tcp", "udp"):
                        raise Unsupported(f"{where}: ip_protocol {protocol} is not rehearsed")
                    if "cidr_ipv4" in body:
                        peer = {"cidr": stack.resolve(folder, body["cidr_ipv4"])}
                    elif "referenced_security_group_id" in body:
                        referenced = stack.resolve(folder, body["referenced_security_group_id"])
                        peer = {"group": referenced[1]}
                    else:
                        raise Unsupported(f"{where}: no peer (cidr_ipv4 or referenced_security_group_id)")
                    if not (isinstance(group, tuple) and group[0] == "group"):
                        raise Unsupported(f"{where}: security_group_id is not a group")
                    found.append({
                        "group": group[1],
                        "direction": RULE_TYPES[resource_type],
                        "protocol": protocol,
                        "from_port": int(stack.resolve(folder, body["from_port"])),
                        "to_port": int(stack.resolve(folder, body["to_port"])),
                        "peer": peer,
                        "where": where,
                    })
    return {"groups": sorted(groups), "rules": found}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: security_groups.py INFRASTRUCTURE_MODULES_DIR")
    try:
        print(json.dumps(rules(sys.argv[1]), indent=1))
    except (Unsupported, KeyError) as error:
        sys.exit(f"security_groups.py: {error}")


if __name__ == "__main__":
    main()
