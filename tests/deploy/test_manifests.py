"""Offline checks of deploy/ (issue 13): the kustomize overlays render and validate against the
Kubernetes schemas and the operators' CRDs, every worker has its KEDA ScaledObject, the
Dockerfiles pass hadolint, compose.yaml validates against the Compose Specification, and the
root Procfile, the Compose services and the Kubernetes Deployments name the same processes.
No cluster, registry or container engine is needed."""

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from pactra_platform.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.37.0"
# Procfile lines that are infrastructure (architecture.md): not deployed as Pactra processes.
INFRASTRUCTURE = {"s3", "mailbox", "nginx"}
# The custom resources the manifests use, and the CRD file (with its licence beside it) each
# is checked against: (apiVersion, kind) -> path under deploy/k8s/crds.
CRDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda/keda.sh_scaledobjects.yaml",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda/keda.sh_triggerauthentications.yaml",
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmq/rabbitmq.com_rabbitmqclusters.yaml",
    ("postgresql.cnpg.io/v1", "Cluster"): "cloudnative-pg/postgresql.cnpg.io_clusters.yaml",
}


def tool(name: str) -> str:
    """A binary the dev dependencies install beside this interpreter (kubectl, hadolint)."""
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is missing: `make install` installs it from the dev dependencies"
    return found


@cache
def rendered(overlay: str) -> tuple[dict, ...]:
    result = subprocess.run([tool("kubectl"), "kustomize", str(K8S / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(objects: tuple[dict, ...], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def procfile() -> dict[str, str]:
    lines = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            lines[name.strip()] = command.strip()
    return lines


def pactra_processes() -> set[str]:
    return set(procfile()) - INFRASTRUCTURE


def api_processes() -> set[str]:
    """API lines carry --bind (architecture.md); the others are workers."""
    return {name for name, command in procfile().items()
            if name not in INFRASTRUCTURE and "--bind" in command}


def service_of(process: str) -> str:
    return process.split("-")[0]


def handler_queues(service: str) -> set[str]:
    """The queues of a service's handlers: <prefix>.<service>.<handler>.v1 (bus.Topology)."""
    import importlib
    import os
    import tempfile
    from unittest import mock

    from pactra_devtools import secrets_file

    # Importing a worker builds its service (bootstrap.py), which refuses to start without the
    # secrets a deployed pod is given: throwaway ones, for the import only.
    with tempfile.TemporaryDirectory() as folder, \
            mock.patch.dict(os.environ, secrets_file.ensure(Path(folder) / "secrets.env")):
        worker = importlib.import_module(f"pactra_{service}.entrypoints.worker")
    return {f"pactra.{service}.{sub.name}.v1" for sub in worker.SUBSCRIPTIONS}


# --- Kubernetes


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_every_object_validates(overlay: str) -> None:
    objects = rendered(overlay)
    assert len(objects) > 50
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        crd = CRDS.get((obj["apiVersion"], obj["kind"]))
        if crd is not None:
            validate_custom_resource(obj, K8S / "crds" / crd)
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {name}: {exc.message} at {list(exc.path)}")
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{overlay}: {name}: no schema; vendor its operator's CRD under deploy/k8s/crds")


@cache
def crd_schema(path: Path, version: str) -> dict:
    crd = yaml.safe_load(path.read_text())
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            return strict(served["schema"]["openAPIV3Schema"])
    raise AssertionError(f"{path.name} has no version {version}")


def strict(schema: dict) -> dict:
    """The API server drops fields a structural schema does not name; here a misspelt field
    is an error instead (as `kubectl apply --validate=strict` makes it)."""
    if isinstance(schema, dict):
        schema = {k: strict(v) if k != "enum" else v for k, v in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(item) for item in schema]
    return schema


def validate_custom_resource(obj: dict, crd: Path) -> None:
    """Against the CRD's openAPIV3Schema: structural OpenAPI v3 is JSON Schema enough for
    jsonschema, once the Kubernetes extensions (x-kubernetes-*) are ignored, which it does."""
    assert (crd.parent / "LICENSE").exists() or (crd.parent / "LICENSE.txt").exists(), crd.parent
    version = obj["apiVersion"].split("/")[1]
    schema = crd_schema(crd, version)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, (f"{obj['kind']}/{obj['metadata']['name']}: "
                        + "; ".join(f"{e.message} at {list(e.path)}" for e in errors[:5]))


def test_a_custom_resource_that_breaks_its_crd_is_refused() -> None:
    """The CRD check can fail: a ScaledObject without its target is caught."""
    scaled = dict(of_kind(rendered("prod"), "ScaledObject")["signing-worker"])
    crd = K8S / "crds" / CRDS[("keda.sh/v1alpha1", "ScaledObject")]
    scaled["spec"] = {k: v for k, v in scaled["spec"].items() if k != "scaleTargetRef"}
    with pytest.raises(AssertionError, match="scaleTargetRef"):
        validate_custom_resource(scaled, crd)
    scaled["spec"] = {**of_kind(rendered("prod"), "ScaledObject")["signing-worker"]["spec"],
                      "minReplicaCout": 1}
    with pytest.raises(AssertionError, match="minReplicaCout"):
        validate_custom_resource(scaled, crd)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_worker_scales_on_its_backlog(overlay: str) -> None:
    objects = rendered(overlay)
    scaled = of_kind(objects, "ScaledObject")
    workers = pactra_processes() - api_processes()
    assert set(scaled) == workers
    for name in workers:
        spec = scaled[name]["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        triggers = spec["triggers"]
        queues = handler_queues(service_of(name))
        if name.endswith("-worker") and queues:
            # One trigger per queue its handlers consume, no more, no fewer.
            assert {t["type"] for t in triggers} == {"rabbitmq"}, name
            assert {t["metadata"]["queueName"] for t in triggers} == queues, name
        else:
            # The issuer (evidence due) and a worker without queues (its outbox) are driven by
            # their database: a PostgreSQL query of the backlog.
            assert [t["type"] for t in triggers] == ["postgresql"], name
            assert re.match(r"SELECT count\(\*\) FROM \w+ WHERE ", triggers[0]["metadata"]["query"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_apis_and_workers_are_hardened_probed_and_budgeted(overlay: str) -> None:
    objects = rendered(overlay)
    deployments = of_kind(objects, "Deployment")
    hpas, pdbs = of_kind(objects, "HorizontalPodAutoscaler"), of_kind(objects, "PodDisruptionBudget")
    services = of_kind(objects, "Service")
    for name in pactra_processes():
        pod = deployments[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108 - the pod's own emptyDir
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
        assert pod["topologySpreadConstraints"]
        assert name in pdbs
        env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in container["env"]}
        service = service_of(name)
        for secret in ("PACTRA_MASTER_KEY", f"PACTRA_{service.upper()}_INTERNAL_KEY",
                       f"PACTRA_{service.upper()}_AMQP_PASSWORD", "PACTRA_DATABASE_URL"):
            assert env.get(secret), f"{name}: {secret} is not a Secret reference"
        # Only its own service's keys: another's private key would let it sign as that one.
        own = f"PACTRA_{service.upper()}_INTERNAL_KEY"
        assert not [n for n in env if n.endswith("_INTERNAL_KEY") and n != own]
        if name in api_processes():
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["ports"][0]["containerPort"] == Settings().port_of(service)
            assert hpas[name]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
            assert services[name]["spec"]["ports"][0]["port"] == Settings().port_of(service)
        else:
            assert name not in services and name not in hpas
            assert "ports" not in container


def test_network_policies_admit_only_the_named_callers() -> None:
    objects = rendered("prod")
    policies = of_kind(objects, "NetworkPolicy")
    deny = policies["pactra-default-deny-ingress"]["spec"]
    assert deny["podSelector"]["matchLabels"] == {"app.kubernetes.io/part-of": "pactra"}
    assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    # Who calls whom: the gateway every API; the rest where the code has a ServiceClient.
    callers = {}
    for path in sorted((ROOT / "services").glob("*/src/**/*.py")):
        source = path.read_text()
        service = path.parts[len(ROOT.parts) + 1]
        # A client made with its target named (ServiceClient), its target a class's attribute
        # (`target = "documents"` beside a ServiceClient), or the quota check (the gateway's).
        found = re.findall(r'ServiceClient\([\w.]*settings, (?:"\w+"|SERVICE), "(\w+)"', source)
        if "ServiceClient(" in source:
            found += re.findall(r'^\s+target(?:, timeout)? = "(\w+)"', source, re.MULTILINE)
        found += ["gateway"] * len(re.findall(r'\bQuotas\([\w.]*settings, (?:"\w+"|SERVICE)\)', source))
        for target in found:
            callers.setdefault(target, set()).add(service)
    for service in SERVICES:
        spec = policies[f"{service}-api-callers"]["spec"]
        allowed = {peer["podSelector"]["matchLabels"].get("pactra.dev/service")
                   for rule in spec["ingress"] for peer in rule["from"]} - {None}
        expected = callers.get(service, set()) | ({"gateway"} if service != "gateway" else set())
        assert allowed == expected, service
    for worker in pactra_processes() - api_processes():
        assert "ingress" not in policies[f"{worker}-no-ingress"]["spec"]
    (ingress,) = of_kind(objects, "Ingress").values()
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"gateway"}


def test_each_service_has_a_migration_job_run_before_the_rollout() -> None:
    jobs = of_kind(rendered("prod"), "Job")
    assert set(jobs) == {f"{s}-migrate" for s in SERVICES}
    for service in SERVICES:
        job = jobs[f"{service}-migrate"]
        assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["migrate"] and container["image"].endswith(f"/{service}:0.1.0")


def test_prod_uses_external_database_and_r2_dev_runs_its_own() -> None:
    prod, dev = rendered("prod"), rendered("dev")
    assert not of_kind(prod, "Cluster") and of_kind(dev, "Cluster")
    assert of_kind(prod, "RabbitmqCluster")["pactra-rabbitmq"]["spec"]["replicas"] == 3
    assert of_kind(prod, "ConfigMap")["pactra-config"]["data"]["PACTRA_S3_ENDPOINT"].endswith(
        ".r2.cloudflarestorage.com")
    assert "s3" in of_kind(dev, "StatefulSet")


# --- Images


@pytest.mark.parametrize("dockerfile", sorted(str(p.relative_to(ROOT)) for p in DEPLOY.rglob("Dockerfile")))
def test_hadolint_passes(dockerfile: str) -> None:
    result = subprocess.run([tool("hadolint"), "--no-color", str(ROOT / dockerfile)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_every_process_of_its_service() -> None:
    """The image's entrypoint knows each command the Procfile's lines need."""
    entrypoint = (DEPLOY / "container" / "pactra-container").read_text()
    for command in ("api)", "worker)", "issuer)", "migrate)", "healthcheck)"):
        assert f"    {command}" in entrypoint
    for name, command in procfile().items():
        if name in INFRASTRUCTURE:
            continue
        module = re.search(r"'?(pactra_\w+(?:\.\w+)*:\w+(?:\(\))?)'?\s*$", command).group(1)
        service = service_of(name)
        if name in api_processes():
            assert module == f"pactra_{service}.entrypoints.app:create_app()", name
        elif name.endswith("-worker"):
            assert module == f"pactra_{service}.entrypoints.worker:app"
        else:
            assert f"faststream run {module}" in entrypoint, name


# --- Compose


@cache
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text())
    assert (DEPLOY / "schemas" / "LICENSE").exists()
    jsonschema.Draft7Validator(schema).validate(compose())
    broken = {**compose(),
              "services": {"gateway": {"image": "x", "depends_on": {"y": {"condition": "soon"}}}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


# Where the env files are: .pactra/compose/ unless PACTRA_ENV_DIR says otherwise.
ENV_DIR = "${PACTRA_ENV_DIR:-../.pactra/compose}"


def test_compose_keeps_secrets_out_and_waits_for_migrations() -> None:
    services = compose()["services"]
    for name in pactra_processes():
        service = services[name]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert f"{ENV_DIR}/services.env" in service["env_file"]
        assert f"{ENV_DIR}/admin.env" not in service["env_file"]
        assert service["depends_on"][f"{service_of(name)}-migrate"] == {
            "condition": "service_completed_successfully"}
        assert not [k for k in service.get("environment", {}) if re.search("KEY|PASSWORD|SECRET", k)]
    for name, service in services.items():
        for arg in (service.get("build", {}).get("args") or {}):
            assert not re.search("KEY|PASSWORD|SECRET|TOKEN", arg), f"{name}: build arg {arg}"


def test_nginx_config_is_the_one_make_run_uses() -> None:
    sys.path.insert(0, str(DEPLOY / "nginx"))
    try:
        import render
    finally:
        sys.path.remove(str(DEPLOY / "nginx"))
    assert (DEPLOY / "nginx" / "pactra.conf").read_text() == render.rendered(), (
        "deploy/nginx/pactra.conf is stale: run .venv/bin/python deploy/nginx/render.py")


# --- One list of processes


def test_procfile_compose_and_kubernetes_name_the_same_processes() -> None:
    processes = pactra_processes()
    assert {"gateway", "signing-worker", "receipts-issuer"} <= processes
    compose_services = set(compose()["services"])
    assert procfile().keys() <= compose_services, "a Procfile line has no Compose service"
    migrations = {f"{s}-migrate" for s in SERVICES}
    assert compose_services - set(procfile()) == {"postgres", "rabbitmq"} | migrations
    for overlay in OVERLAYS:
        pactra = {name for name, d in of_kind(rendered(overlay), "Deployment").items()
                  if d["metadata"]["labels"].get("app.kubernetes.io/part-of") == "pactra"}
        assert pactra == processes, overlay
    # Each process's command in Compose and Kubernetes is the Procfile's kind of process.
    for name in processes:
        kind = "api" if name in api_processes() else ("issuer" if name.endswith("-issuer") else "worker")
        assert compose()["services"][name]["command"] == [kind], name
        (container,) = of_kind(rendered("prod"), "Deployment")[name]["spec"]["template"]["spec"]["containers"]
        assert container["args"] == [kind], name


def test_services_host_names_each_service_apart() -> None:
    """Compose and Kubernetes reach each API by its own name (PACTRA_SERVICES_HOST template)."""
    assert Settings(services_host="{service}").url_of("signing") == "http://signing:8082"
    assert Settings(services_host="127.0.0.1").url_of("receipts") == "http://127.0.0.1:8083"
