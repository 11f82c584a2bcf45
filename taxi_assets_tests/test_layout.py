"""The code location holds only what runs: the processes that serve it (web server, daemon, code
server) import none of the development tools (``taxi_dev``: the demo, the synthetic source,
process supervision, the throwaway PostgreSQL).
"""

import json
import textwrap
from pathlib import Path

import pytest

from taxi_assets_tests.support.cli import env_for, start_dagster_dev, wait_until_loaded
from taxi_assets_tests.support.processes import free_port, stop_group, wait_for
from taxi_assets_tests.support.source_server import SourceServer

pytestmark = pytest.mark.processes

# Python runs a `sitecustomize` it finds on its path in every process it starts: this one writes,
# every half second, the process's command line and the modules it has imported so far.
RECORDER = """
import json, os, sys, threading, time

def _record():
    path = os.path.join({folder!r}, f"{{os.getpid()}}.json")
    while True:
        with open(path + ".tmp", "w") as out:
            json.dump({{"argv": sys.argv, "modules": sorted(sys.modules)}}, out)
        os.replace(path + ".tmp", path)
        time.sleep(0.5)

threading.Thread(target=_record, daemon=True).start()
"""


def recorded(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in folder.glob("*.json")]


def test_the_served_code_location_imports_no_development_tool(
    tmp_path: Path, source_server: SourceServer
) -> None:
    hook, seen = tmp_path / "hook", tmp_path / "imports"
    hook.mkdir()
    seen.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent(RECORDER.format(folder=str(seen))))
    env = env_for(tmp_path, source_server)
    env["PYTHONPATH"] = str(hook)
    port, log = free_port(), tmp_path / "dagster-dev.log"
    process = start_dagster_dev(env, log, port)

    def processes() -> dict[str, dict]:
        """The code server, web server and daemon, each as recorded last."""
        found = {}
        for record in recorded(seen):
            command = " ".join(record["argv"])
            if "taxi_assets.definitions" in record["modules"]:
                found["code server"] = record
            elif "dagster_webserver" in command or "dagster-webserver" in command:
                found["web server"] = record
            elif "_daemon/__main__" in command or "dagster-daemon" in command:
                found["daemon"] = record
        return found

    try:
        wait_until_loaded(port, process, log)
        served = wait_for("each process to record its imports", lambda: len(processes()) == 3 and processes())
    finally:
        stop_group(process)
    for name, record in served.items():
        assert not [m for m in record["modules"] if m.split(".")[0] == "taxi_dev"], name
    assert {"taxi_assets.defs.sensors", "taxi_assets.defs.assets.raw"} <= set(
        served["code server"]["modules"]
    )
    # The web server and daemon reach the code location through its code server only.
    for name in ("web server", "daemon"):
        assert not [m for m in served[name]["modules"] if m.split(".")[0] == "taxi_assets"], name
