"""Planted defects each check must catch: the real `terraform validate` (through
the schema-only provider) and the static schema pass.

Each case copies infrastructure/ (and deploy/, which the web module reads),
plants one defect in a real module, and asserts that the check fails with the
message that names the defect. Run by scripts/validate-terraform with
SCHEMA and STUBS in the environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
INFRASTRUCTURE = HERE.parent
SCHEMA = os.environ["SCHEMA"]
STUBS = os.environ["STUBS"]

# (name, file, text to find, replacement, what validate says, what the static pass says)
CASES = [
    (
        "unknown argument",
        "modules/ecr/main.tf",
        'image_tag_mutability = "IMMUTABLE"',
        'image_tag_mutability = "IMMUTABLE"\n  image_tag_mutable    = false',
        'An argument named "image_tag_mutable" is not expected here',
        "unknown argument or block 'image_tag_mutable'",
    ),
    (
        "missing required argument",
        "modules/web/main.tf",
        '  autoscaling_group_name = aws_autoscaling_group.this.name\n',
        "",
        'The argument "autoscaling_group_name" is required',
        "missing required argument 'autoscaling_group_name'",
    ),
    (
        "argument written as a block",
        "modules/web/main.tf",
        "  tags      = var.tags\n\n  iam_instance_profile {",
        "  tags {\n    Name = var.name\n  }\n\n  iam_instance_profile {",
        'Blocks of type "tags" are not expected here',
        "'tags' is an argument, written as a block",
    ),
    (
        "reference to a nonexistent attribute",
        "modules/database/outputs.tf",
        "aws_db_instance.this.address",
        "aws_db_instance.this.hostname",
        'no argument, nested block, or exported attribute named "hostname"',
        "aws_db_instance has no attribute 'hostname'",
    ),
    (
        "module output that does not exist",
        "modules/stack/main.tf",
        "module.network.vpc_id",
        "module.network.vpc_identifier",
        'This object does not have an attribute named "vpc_identifier"',
        "module 'network' has no output 'vpc_identifier'",
    ),
]


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True, timeout=600)


class PlantedDefects(unittest.TestCase):
    def planted(self, relative: str, find: str, replace: str) -> Path:
        work = Path(tempfile.mkdtemp(prefix="planted-"))
        self.addCleanup(shutil.rmtree, work, True)
        shutil.copytree(INFRASTRUCTURE, work / "infrastructure", ignore=shutil.ignore_patterns(".terraform", "target", "tests"))
        shutil.copytree(INFRASTRUCTURE.parent / "deploy", work / "deploy")
        path = work / "infrastructure" / relative
        text = path.read_text(encoding="utf-8")
        self.assertIn(find, text, f"the text to plant the defect at is gone from {relative}")
        path.write_text(text.replace(find, replace, 1), encoding="utf-8")
        return work / "infrastructure"

    def test_the_tree_as_it_is_passes_both(self):
        self.assertEqual(run("static_check.py", SCHEMA, str(INFRASTRUCTURE)).returncode, 0)

    def test_each_planted_defect_is_caught(self):
        for name, relative, find, replace, by_validate, by_static in CASES:
            with self.subTest(name):
                tree = self.planted(relative, find, replace)
                validate = run("terraform_validate.py", SCHEMA, STUBS, str(tree), "env/test")
                self.assertNotEqual(validate.returncode, 0, f"terraform validate missed: {name}")
                self.assertIn(by_validate, " ".join(validate.stdout.split()), validate.stdout)
                static = run("static_check.py", SCHEMA, str(tree))
                self.assertNotEqual(static.returncode, 0, f"the static pass missed: {name}")
                self.assertIn(by_static, static.stdout, static.stdout)
                print(f"planted {name}: validate and static pass both failed as expected", file=sys.stderr)

    def test_static_pass_follows_nested_attributes(self):
        # A reference through an index into a computed list of objects: the
        # static pass walks every step, not only the first attribute.
        tree = self.planted(
            "modules/database/outputs.tf",
            "aws_db_instance.this.master_user_secret[0].secret_arn",
            "aws_db_instance.this.master_user_secret[0].secret_name",
        )
        static = run("static_check.py", SCHEMA, str(tree))
        self.assertNotEqual(static.returncode, 0)
        self.assertIn("has no attribute 'secret_name'", static.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
