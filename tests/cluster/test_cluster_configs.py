"""Offline checks of the cloud cluster configs: Ray's own schema validation plus the project's rules
(security, pinned versions, GPU placement). What only a cloud account can check is in cluster/README.md.

Every rule is a function that returns the violations it finds; each is also run on a deliberately
broken copy of the config, so none of these assertions can pass vacuously.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "cluster"
CLOUD_CONFIGS = ["gpu.yaml", "gcp.yaml"]
SSH_PORT = 22
WORLD = {"0.0.0.0/0", "::/0"}
GPU_INSTANCE = re.compile(r"^(g\d|p\d|g2-|a2-|a3-|n1-.*gpu)")  # AWS g5/p4d..., GCP g2-/a2-/a3-


def load(name: str) -> dict:
    return yaml.safe_load((CLUSTER / name).read_text())


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.lower().startswith(package + "=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} not pinned in requirements.lock")


# ---------------------------------------------------------------- rules (return violations)

def world_open_rules(config: dict) -> list[str]:
    """AWS inbound rules that open anything but tcp/22 to the whole internet."""
    bad = []
    for rule in config.get("provider", {}).get("security_group", {}).get("IpPermissions", []) or []:
        cidrs = {r.get("CidrIp") for r in rule.get("IpRanges", [])} | {r.get("CidrIpv6") for r in rule.get("Ipv6Ranges", [])}
        if cidrs & WORLD and not (
            str(rule.get("IpProtocol")) == "tcp" and rule.get("FromPort") == SSH_PORT and rule.get("ToPort") == SSH_PORT
        ):
            bad.append(f"{rule.get('IpProtocol')} {rule.get('FromPort')}-{rule.get('ToPort')} from {sorted(cidrs & WORLD)}")
    return bad


def gcloud_world_rules(text: str) -> list[str]:
    """Documented `gcloud compute firewall-rules create` commands that open anything but tcp:22 to the world."""
    bad = []
    for line in text.splitlines():
        if "firewall-rules create" not in line:
            continue
        ranges = re.search(r"--source-ranges[= ](\S+)", line)
        allow = re.search(r"--allow[= ](\S+)", line)
        if ranges and set(ranges.group(1).split(",")) & WORLD and (allow is None or allow.group(1) != "tcp:22"):
            bad.append(line.strip())
    return bad


def auth_problems(config: dict, text: str) -> list[str]:
    """Ray's token authentication must stay on: never disabled, token mode on every `ray start`."""
    bad = []
    if re.search(r"RAY_AUTH_MODE\s*[=:]\s*['\"]?disabled", text, re.I):
        bad.append("RAY_AUTH_MODE=disabled")
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        for cmd in config.get(key, []):
            if "ray start" in cmd and "RAY_AUTH_MODE=token" not in cmd:
                bad.append(f"{key}: ray start without RAY_AUTH_MODE=token: {cmd}")
            if re.search(r"--dashboard-host[= ]0\.0\.0\.0", cmd):
                bad.append(f"{key}: dashboard on all interfaces: {cmd}")
    if "~/.ray/auth_token" not in (config.get("file_mounts") or {}):
        bad.append("the token file ~/.ray/auth_token is not mounted on the nodes")
    return bad


SECRET_PATTERNS = [
    # key = value / key: value where the value is a literal (not $VAR, ${VAR}, a file, or a Secret ref)
    re.compile(r"(?i)(?<![a-z])(password|passwd|pgpassword|secret|auth_token|api_key|access_key(?:_id)?)['\"]?\s*[=:]\s*['\"]?(?![$'\"{\s])([^\s'\"]{6,})"),
    re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^:/\s]+:(?![$])([^@\s]+)@"),  # password inside a DB URL
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
]
ALLOWED_VALUES = {"password", "optuna_pg_password", "auth_token"}  # key names, file names


def secret_literals(text: str) -> list[str]:
    found = []
    for pat in SECRET_PATTERNS:
        for m in pat.finditer(text):
            value = m.group(m.lastindex) if m.lastindex else m.group(0)
            value = value.strip("'\"")
            if value.lower() in ALLOWED_VALUES or value.startswith(("$", "~/", "/")) or "secretKeyRef" in value:
                continue
            found.append(m.group(0))
    return found


def node_type_problems(config: dict) -> list[str]:
    """Head: no GPU. Every worker type: GPU resources, a GPU instance type, min_workers 0."""
    bad = []
    types = config["available_node_types"]
    head = types[config["head_node_type"]]
    machine = head["node_config"].get("InstanceType") or head["node_config"].get("machineType", "")
    if head.get("resources", {}).get("GPU", 0) != 0 or "GPU" not in head.get("resources", {}):
        bad.append("head must declare GPU: 0")
    if GPU_INSTANCE.match(machine) or head["node_config"].get("guestAccelerators"):
        bad.append(f"head on a GPU machine: {machine}")
    workers = {k: v for k, v in types.items() if k != config["head_node_type"]}
    if not workers:
        bad.append("no worker node types")
    for name, t in workers.items():
        gpus = t.get("resources", {}).get("GPU", 0)
        machine = t["node_config"].get("InstanceType") or t["node_config"].get("machineType", "")
        if gpus < 1:
            bad.append(f"{name}: no GPU resources")
        if not GPU_INSTANCE.match(machine):
            bad.append(f"{name}: {machine} is not a GPU machine type")
        acc = t["node_config"].get("guestAccelerators")
        if config["provider"]["type"] == "gcp" and sum(a["acceleratorCount"] for a in acc or []) != gpus:
            bad.append(f"{name}: guestAccelerators do not match GPU: {gpus}")
        if t.get("min_workers", 0) != 0:
            bad.append(f"{name}: min_workers > 0 bills GPU nodes continuously")
        if not 1 <= t.get("max_workers", 0) <= config["max_workers"]:
            bad.append(f"{name}: max_workers must be in 1..{config['max_workers']}")
    return bad


def image_problems(image: str) -> list[str]:
    ray_version = pinned("ray")
    m = re.fullmatch(r"rayproject/ray(?:-ml)?:(\d+\.\d+\.\d+)-py(\d+)-(gpu|cu\d+)", image or "")
    if not m:
        return [f"not a rayproject/ray GPU image tag: {image!r}"]
    bad = []
    if m.group(1) != ray_version or "2.60.0" not in image:
        bad.append(f"image Ray {m.group(1)} != pinned {ray_version}")
    if m.group(2) != "311":
        bad.append(f"image Python py{m.group(2)} != py311")
    return bad


def setup_problems(config: dict) -> list[str]:
    bad = []
    if config.get("file_mounts", {}).get("~/xmodal") != ".":
        bad.append("the repository is not file-mounted at ~/xmodal")
    cmds = " && ".join(config.get("setup_commands", []))
    if "pip install" not in cmds or "-r ~/xmodal/requirements.lock" not in cmds:
        bad.append("setup_commands do not install requirements.lock")
    if not re.search(r"pip install[^&]*-e ~/xmodal\b", cmds):
        bad.append("setup_commands do not install the project (pip install -e ~/xmodal)")
    head = " && ".join(config.get("head_setup_commands", []))
    if "cluster/head_postgres.sh" not in head:
        bad.append("head_setup_commands do not start PostgreSQL (cluster/head_postgres.sh)")
    if "head_postgres.sh" in " ".join(config.get("worker_setup_commands", []) + config.get("setup_commands", [])):
        bad.append("PostgreSQL must run on the head only")
    return bad


def postgres_problems(script: str) -> list[str]:
    bad = []
    if "listen_addresses = 'localhost'" not in script:
        bad.append("PostgreSQL does not listen on localhost only")
    if re.search(r"listen_addresses\s*=\s*'(\*|0\.0\.0\.0)", script):
        bad.append("PostgreSQL listens on all interfaces")
    if "OPTUNA_PG_PASSWORD" not in script or "scram-sha-256" not in script:
        bad.append("password not from OPTUNA_PG_PASSWORD or not scram-sha-256")
    if re.search(r"host\s+all\s+all\s+0\.0\.0\.0/0", script):
        bad.append("pg_hba opened to the world")
    return bad


# ---------------------------------------------------------------- the configs as written

@pytest.mark.parametrize("name", CLOUD_CONFIGS)
def test_ray_validates_cluster_config(name):
    from ray.autoscaler._private.util import prepare_config, validate_config

    raw = load(name)
    prepared = prepare_config(copy.deepcopy(raw))  # merges the provider's defaults.yaml: offline
    validate_config(prepared)
    assert prepared["provider"]["type"] == {"gpu.yaml": "aws", "gcp.yaml": "gcp"}[name]
    assert set(prepared["available_node_types"]) == set(raw["available_node_types"])
    assert prepared["available_node_types"][raw["head_node_type"]]["max_workers"] == 0
    # setup commands survive the merge with the defaults (the defaults' `pip install ray-3.0.0.dev0` does not)
    assert prepared["setup_commands"] == raw["setup_commands"]
    assert not any("ray-3.0.0.dev0" in c for c in prepared["head_setup_commands"] + prepared["worker_setup_commands"])


def test_ray_validation_rejects_a_broken_config():
    import jsonschema
    from ray.autoscaler._private.util import prepare_config, validate_config

    broken = load("gpu.yaml")
    broken["idle_timeout_minute"] = 5  # a typo'd key
    with pytest.raises(jsonschema.ValidationError, match="idle_timeout_minute"):
        validate_config(prepare_config(broken))
    broken = load("gpu.yaml")
    broken["docker"]["run_option"] = broken["docker"].pop("run_options")
    with pytest.raises(jsonschema.ValidationError, match="run_option"):
        validate_config(prepare_config(broken))
    broken = load("gpu.yaml")
    broken["provider"]["security_group"]["IpRange"] = "0.0.0.0/0"  # not a key of security_group
    with pytest.raises(jsonschema.ValidationError, match="IpRange"):
        validate_config(prepare_config(broken))


@pytest.mark.parametrize("name", CLOUD_CONFIGS)
def test_cluster_config_rules(name):
    config, text = load(name), (CLUSTER / name).read_text()
    assert world_open_rules(config) == []
    assert gcloud_world_rules(text) == []
    assert auth_problems(config, text) == []
    assert secret_literals(text) == []
    assert node_type_problems(config) == []
    assert image_problems(config["docker"]["image"]) == []
    assert setup_problems(config) == []


def _ray_aws_default_rules():
    """Ray's own `_create_default_inbound_rules` (ray/autoscaler/_private/aws/config.py), taken from its
    source: importing that module needs boto3, which the pinned set does not install."""
    import ast
    import itertools

    import ray.autoscaler

    src = Path(ray.autoscaler.__file__).parent / "_private" / "aws" / "config.py"
    wanted = {"_create_default_inbound_rules", "_create_default_intracluster_inbound_rules",
              "_create_default_ssh_inbound_rules"}
    tree = ast.parse(src.read_text())
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    assert {f.name for f in funcs} == wanted, "Ray's AWS default-rule functions moved; re-check this test"
    ns: dict = {"itertools": itertools}
    exec(compile(ast.Module(body=funcs, type_ignores=[]), str(src), "exec"), ns)
    return ns["_create_default_inbound_rules"]


def test_aws_opens_only_ssh():
    config = load("gpu.yaml")
    sg = config["provider"]["security_group"]
    assert sg["GroupName"]
    # no node type brings its own (unchecked) security groups
    assert all("SecurityGroupIds" not in t["node_config"] for t in config["available_node_types"].values())
    # Ray's own defaults for a group it creates: intra-cluster traffic + SSH from anywhere, nothing else
    rules = _ray_aws_default_rules()({"sg-xmodal"}, sg.get("IpPermissions", []))
    assert world_open_rules({"provider": {"security_group": {"IpPermissions": rules}}}) == []
    assert any(r.get("FromPort") == SSH_PORT for r in rules)


def test_gcp_uses_its_own_network():
    config, text = load("gcp.yaml"), (CLUSTER / "gcp.yaml").read_text()
    for name, t in config["available_node_types"].items():
        nets = [n["network"] for n in t["node_config"].get("networkInterfaces", [])]
        assert nets and all(n.endswith("/xmodal-ray") for n in nets), f"{name} is on {nets} (default opens 3389)"
        assert "xmodal-ray" in t["node_config"]["tags"]["items"]
    # the documented firewall: SSH from the world, everything else only between tagged nodes
    assert "--allow=tcp:22 --source-ranges=0.0.0.0/0" in text
    assert re.search(r"--source-tags=xmodal-ray --target-tags=xmodal-ray", text)


def test_head_postgres_is_local_only():
    script = (CLUSTER / "head_postgres.sh").read_text()
    assert postgres_problems(script) == []
    assert secret_literals(script) == []


def test_gcp_and_aws_share_commands_and_image():
    aws, gcp = load("gpu.yaml"), load("gcp.yaml")
    assert aws["docker"]["image"] == gcp["docker"]["image"]
    for key in ("setup_commands", "head_start_ray_commands", "worker_start_ray_commands", "file_mounts"):
        assert aws[key] == gcp[key], key


def test_kuberay_manifest():
    doc = load("kuberay.yaml")
    image = load("gpu.yaml")["docker"]["image"]
    assert doc["apiVersion"] == "ray.io/v1"
    assert doc["kind"] == "RayCluster"
    assert doc["spec"]["rayVersion"] == pinned("ray") == "2.60.0"
    head = doc["spec"]["headGroupSpec"]
    assert head.get("serviceType", "ClusterIP") == "ClusterIP"  # no LoadBalancer/NodePort
    assert str(head["rayStartParams"].get("num-gpus")) == "0"
    containers = head["template"]["spec"]["containers"]
    groups = doc["spec"]["workerGroupSpecs"]
    assert groups
    for c in containers:
        assert c["image"] == image
        assert "nvidia.com/gpu" not in c["resources"].get("limits", {})
    for g in groups:
        assert g["minReplicas"] == 0 and g["maxReplicas"] >= 1
        for c in g["template"]["spec"]["containers"]:
            assert c["image"] == image
            assert int(c["resources"]["limits"]["nvidia.com/gpu"]) >= 1
            assert float(c["resources"]["limits"]["cpu"]) > 0
    for c in containers + [c for g in groups for c in g["template"]["spec"]["containers"]]:
        env = {e["name"]: e for e in c.get("env", [])}
        assert env["RAY_AUTH_MODE"]["value"] == "token"
        for e in env.values():  # secrets come from Secrets, never as literal values
            if re.search("PASSWORD|TOKEN$|SECRET", e["name"]):
                assert "valueFrom" in e, e["name"]
    text = (CLUSTER / "kuberay.yaml").read_text()
    assert secret_literals(text) == []
    assert not re.search(r"RAY_AUTH_MODE\W+disabled", text)


# ---------------------------------------------------------------- the rules catch what they must

def test_rules_catch_broken_configs():
    aws = load("gpu.yaml")
    opened = copy.deepcopy(aws)
    opened["provider"]["security_group"]["IpPermissions"] = [
        {"IpProtocol": "tcp", "FromPort": 8265, "ToPort": 8265, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    assert world_open_rules(opened)
    v6 = copy.deepcopy(aws)
    v6["provider"]["security_group"]["IpPermissions"] = [
        {"IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]
    assert world_open_rules(v6)
    assert not world_open_rules({"provider": {"security_group": {"IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]}}})

    assert gcloud_world_rules("gcloud compute firewall-rules create x --allow=tcp:8265 --source-ranges=0.0.0.0/0")
    assert not gcloud_world_rules("gcloud compute firewall-rules create x --allow=tcp:6379 --source-tags=a")

    text = (CLUSTER / "gpu.yaml").read_text()
    assert auth_problems(aws, text + "\n  - export RAY_AUTH_MODE=disabled\n")
    no_token = copy.deepcopy(aws)
    no_token["worker_start_ray_commands"] = [c.replace("RAY_AUTH_MODE=token ", "") for c in aws["worker_start_ray_commands"]]
    assert auth_problems(no_token, text)
    public = copy.deepcopy(aws)
    public["head_start_ray_commands"] = [c.replace("--dashboard-host=127.0.0.1", "--dashboard-host=0.0.0.0") for c in aws["head_start_ray_commands"]]
    assert auth_problems(public, text)
    unmounted = copy.deepcopy(aws)
    del unmounted["file_mounts"]["~/.ray/auth_token"]
    assert auth_problems(unmounted, text)

    for leak in ["password: hunter2hunter2", "OPTUNA_PG_PASSWORD=correcthorse", "PGPASSWORD='s3cr3t-pw'",
                 "postgresql+psycopg://optuna:s3cr3tpw@localhost/optuna", "aws_access_key_id = AKIAABCDEFGHIJKLMNOP",
                 "-----BEGIN RSA PRIVATE KEY-----"]:
        assert secret_literals(text + "\n# " + leak + "\n"), leak
    assert not secret_literals("PGPASSWORD=$OPTUNA_PG_PASSWORD postgresql://optuna:${OPTUNA_PG_PASSWORD}@localhost/x")

    gpu_head = copy.deepcopy(aws)
    gpu_head["available_node_types"]["head.cpu"]["resources"]["GPU"] = 1
    assert node_type_problems(gpu_head)
    gpu_head_machine = copy.deepcopy(aws)
    gpu_head_machine["available_node_types"]["head.cpu"]["node_config"]["InstanceType"] = "g5.xlarge"
    assert node_type_problems(gpu_head_machine)
    cpu_worker = copy.deepcopy(aws)
    cpu_worker["available_node_types"]["worker.gpu.1xa10g"]["resources"].pop("GPU")
    assert node_type_problems(cpu_worker)
    always_on = copy.deepcopy(aws)
    always_on["available_node_types"]["worker.gpu.1xa10g"]["min_workers"] = 1
    assert node_type_problems(always_on)
    gcp = load("gcp.yaml")
    gcp["available_node_types"]["worker.gpu.1xl4"]["node_config"]["guestAccelerators"][0]["acceleratorCount"] = 2
    assert node_type_problems(gcp)

    assert image_problems("rayproject/ray:2.59.0-py311-gpu")
    assert image_problems("rayproject/ray:2.60.0-py312-gpu")
    assert image_problems("rayproject/ray:latest-gpu")
    assert not image_problems("rayproject/ray:2.60.0-py311-cu128")

    no_lock = copy.deepcopy(aws)
    no_lock["setup_commands"] = [c for c in aws["setup_commands"] if "requirements.lock" not in c]
    assert setup_problems(no_lock)
    no_project = copy.deepcopy(aws)
    no_project["setup_commands"] = [c for c in aws["setup_commands"] if "-e ~/xmodal" not in c]
    assert setup_problems(no_project)
    no_pg = copy.deepcopy(aws)
    no_pg["head_setup_commands"] = []
    assert setup_problems(no_pg)

    script = (CLUSTER / "head_postgres.sh").read_text()
    assert postgres_problems(script.replace("listen_addresses = 'localhost'", "listen_addresses = '*'"))


@pytest.mark.parametrize("script", ["local.sh", "head_postgres.sh"])
def test_scripts_parse(script):
    import subprocess

    path = CLUSTER / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    subprocess.run(["bash", "-n", str(path)], check=True)
    assert secret_literals(path.read_text()) == []


def test_local_sh_keeps_token_auth_and_spares_other_rays():
    text = (CLUSTER / "local.sh").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "export RAY_AUTH_MODE=token" in code and "RAY_AUTH_TOKEN_PATH" in code
    assert not re.search(r"RAY_AUTH_MODE\W+disabled", text)
    assert not re.search(r"\bray\"? stop\b|\$RAY\"? stop\b", code), "`ray stop` would kill every Ray on the machine"
    assert "--block" in code and "--dashboard-host=127.0.0.1" in code
