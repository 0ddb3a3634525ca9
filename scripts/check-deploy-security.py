"""Static security check of k8s/ and deploy/Dockerfile: what a hardened deployment must hold.

Every container: non-root, read-only root filesystem, no privilege escalation, all capabilities
dropped, requests and limits, liveness and readiness probes, a pinned image tag (not `latest`);
no host namespaces or privileged mode; the Dockerfile runs as a non-root USER with a HEALTHCHECK.
Prints one line per finding and exits 1 if any.
"""
import glob
import re
import sys

import yaml

findings = []


def check_pod(name, spec):
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            findings.append(f"{name}: {key} is set")
    pod_sc = spec.get("securityContext", {})
    for c in spec.get("containers", []):
        where = f"{name}/{c.get('name')}"
        sc = c.get("securityContext", {})
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            findings.append(f"{where}: runAsNonRoot is not true")
        if sc.get("privileged"):
            findings.append(f"{where}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            findings.append(f"{where}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            findings.append(f"{where}: readOnlyRootFilesystem is not true")
        if "ALL" not in (sc.get("capabilities", {}).get("drop") or []):
            findings.append(f"{where}: capabilities are not all dropped")
        res = c.get("resources", {})
        for part in ("requests", "limits"):
            if not res.get(part, {}).get("cpu") or not res.get(part, {}).get("memory"):
                findings.append(f"{where}: resources.{part} cpu/memory missing")
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in c:
                findings.append(f"{where}: no {probe}")
        image = c.get("image", "")
        if ":" not in image or image.endswith(":latest"):
            findings.append(f"{where}: image {image!r} is not pinned to a tag")


for path in sorted(glob.glob("k8s/*.yaml")):
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if not doc or doc.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
                continue
            check_pod(f"{path}:{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"])

with open("deploy/Dockerfile") as f:
    dockerfile = f.read()
users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
if not users or users[-1].split(":")[0] in ("root", "0"):
    findings.append("deploy/Dockerfile: the final stage does not run as a non-root USER")
if "HEALTHCHECK" not in dockerfile:
    findings.append("deploy/Dockerfile: no HEALTHCHECK")

for line in findings:
    print("check-deploy FAIL: security:", line)
if not findings:
    print("check-deploy ok: security check of k8s/ and deploy/Dockerfile")
sys.exit(1 if findings else 0)
