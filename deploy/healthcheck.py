"""The image's health check, for whichever Dagster process it runs: the code server answers its
gRPC health check, the web server its /server_info page, the daemon its liveness check, and a run
worker (the container DockerRunLauncher starts per run) is healthy while it runs.

Docker runs it as the image's HEALTHCHECK (compose may set its own); Kubernetes ignores
HEALTHCHECK, so the Helm values keep the chart's probes. It imports nothing of the project, so
it stays cheap. `python healthcheck.py [PID]` checks the process PID (default 1, the container's).
"""

import subprocess
import sys
import urllib.request
from pathlib import Path

# `dagster api ...` commands of a run's own process: DockerRunLauncher's (execute_run, resume_run
# after a restart) and a step's, where a run executes steps in processes of their own.
RUN_WORKER_COMMANDS = ("execute_run", "resume_run", "execute_step")


def option(args: list[str], names: tuple[str, ...], default: str) -> str:
    for i, arg in enumerate(args[:-1]):
        if arg in names:
            return args[i + 1]
    return default


def check(pid: int) -> None:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    words = " ".join(args)
    port = option(args, ("-p", "--port"), "")
    if "code-server" in words or " api grpc" in words:
        command = ["dagster", "api", "grpc-health-check", "-p", port or "4000"]
        subprocess.run(command, check=True, capture_output=True, timeout=20)
    elif "dagster-webserver" in words:
        urllib.request.urlopen(f"http://127.0.0.1:{port or '3000'}/server_info", timeout=10).close()
    elif "dagster-daemon" in words:
        subprocess.run(["dagster-daemon", "liveness-check"], check=True, capture_output=True, timeout=20)
    elif any(f" api {command}" in words for command in RUN_WORKER_COMMANDS):
        # It serves nothing to ask, and the daemon's run monitoring already asks the engine whether
        # its container still runs: reading its command line above proved it is alive.
        return
    else:
        sys.exit(f"not a Dagster process: {words}")


if __name__ == "__main__":
    check(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
