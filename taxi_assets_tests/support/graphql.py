"""The web server's GraphQL API, asked as the UI asks it."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from taxi_assets_tests.support import REPO
from taxi_assets_tests.support.processes import wait_for

# A mutation is sent once (a second backfill is not the same as the first), so its answer is waited
# for as long as a web server beside two CPU hogs may take: over 10 s for launchPartitionBackfill
# in the compose stack. Polls wait as long, inside their own deadlines.
GRAPHQL_TIMEOUT_SECONDS = 120


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=GRAPHQL_TIMEOUT_SECONDS) as response:
            return json.load(response)["data"]
    except urllib.error.HTTPError as error:
        # What the server said goes into the failure: a bare "HTTP Error 500" hides the cause. Still an
        # OSError, as waits for a starting server expect of one that does not answer yet.
        body = error.read().decode(errors="replace")[-3000:]
        raise OSError(f"GraphQL answered HTTP {error.code} to {query[:200]!r}: {body}") from None


def launch_partition_backfill(port: int, partitions: list[str], assets: list[list[str]]) -> str:
    """A partition backfill of ``assets`` (key paths) launched as the UI's backfill dialog launches
    it; its id.
    """
    names = ", ".join(f'"{p}"' for p in partitions)
    selection = ", ".join("{path: [" + ", ".join(f'"{part}"' for part in path) + "]}" for path in assets)
    launched = graphql(
        port,
        f"mutation {{ launchPartitionBackfill(backfillParams: {{ partitionNames: [{names}], "
        f"assetSelection: [{selection}] }}) "
        "{ __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def runs_tagged(port: int, key: str, value: str) -> list[dict]:
    """The runs with tag ``key=value``, as the UI's runs page filters them: id, status and tags."""
    return graphql(
        port,
        f'{{ runsOrError(filter: {{tags: [{{key: "{key}", value: "{value}"}}]}}) '
        "{ ... on Runs { results { runId status tags { key value } } } } }",
    )["runsOrError"]["results"]


LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message }
      ... on RepositoryLocation { repositories { assetNodes { assetKey { path } } } } } } } } }
"""

AUTOMATION_SENSOR = (
    'sensorSelector: {repositoryLocationName: "taxi_assets", repositoryName: "__repository__", '
    'sensorName: "follow_upstream"}'
)


def stop_automation(port: int) -> str:
    """Stop the automation sensor (on by default), for a test that launches every run itself, and
    wait until no tick of it is under way: a tick begun before the stop still requests what it
    finds, such as a month's days once the month lands. Its status before the stop.
    """
    found = graphql(
        port,
        f"{{ sensorOrError({AUTOMATION_SENSOR}) {{ __typename ... on Sensor {{ sensorState "
        "{ id selectorId status } } ... on Error { message } } }",
    )["sensorOrError"]
    assert found["__typename"] == "Sensor", found
    state = found["sensorState"]
    stopped = graphql(
        port,
        f'mutation {{ stopSensor(id: "{state["id"]}", jobSelectorId: "{state["selectorId"]}") '
        "{ ... on StopSensorMutationResult { instigationState { status } } } }",
    )
    assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED"

    def no_tick_under_way() -> bool:
        ticks = graphql(
            port,
            f"{{ sensorOrError({AUTOMATION_SENSOR}) {{ ... on Sensor {{ sensorState "
            "{ ticks(limit: 1) { status } } } } }",
        )["sensorOrError"]["sensorState"]["ticks"]
        return not ticks or ticks[0]["status"] != "STARTED"

    wait_for("the automation sensor's last tick to end", no_tick_under_way, timeout=300, every=1)
    return state["status"]


def loaded_asset_keys(location: dict) -> set[str]:
    """The asset keys of the code location as the UI lists them, once it loaded without error."""
    assert location["name"] == "taxi_assets"
    assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation", location
    [repository] = location["locationOrLoadError"]["repositories"]
    return {"/".join(n["assetKey"]["path"]) for n in repository["assetNodes"]}


def ask_instance(home: Path, env: dict[str, str], query: str) -> dict:
    """``query`` answered by Dagster's own ``dagster-graphql`` command on the repository's workspace
    and the instance in ``home``, as the UI would answer it (no web server needed).
    """
    asked = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster-graphql")),
            "-w",
            str(REPO / "workspace.yaml"),
            "-t",
            query,
        ],
        env={**env, "DAGSTER_HOME": str(home)},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=GRAPHQL_TIMEOUT_SECONDS * 3,
    )
    assert asked.returncode == 0, asked.stderr[-3000:]
    # The answer is the one JSON line; the code location's load may print before it.
    [answer] = [json.loads(line) for line in asked.stdout.splitlines() if line.startswith("{")]
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


# Every asset and the assets it reads, as the UI's lineage graph draws them.
LINEAGE_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


def downstream_of(nodes: list[dict], start: str) -> set[str]:
    """The assets (``a/b`` keys) reachable from ``start`` along the graph's edges."""
    readers: dict[str, set[str]] = {}
    for node in nodes:
        for dependency in node["dependencyKeys"]:
            readers.setdefault("/".join(dependency["path"]), set()).add("/".join(node["assetKey"]["path"]))
    reached, frontier = set(), [start]
    while frontier:
        for reader in readers.get(frontier.pop(), set()) - reached:
            reached.add(reader)
            frontier.append(reader)
    return reached
