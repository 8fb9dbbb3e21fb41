"""The compose deployment in docker/ must stay a valid compose file. `docker-compose config`
parses and resolves it (anchors, networks, static addresses, build contexts) without a container
engine, so this runs everywhere docker-compose is installed; nothing is built or started.
"""

import shutil
import subprocess

import pytest

from conftest import SOURCE_DIR

COMPOSE_FILE = SOURCE_DIR / "docker" / "docker-compose.yml"


def test_compose_file_is_valid():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.skip("docker-compose is not installed (bash .ci/install-deps installs it)")
    done = subprocess.run([compose, "-f", str(COMPOSE_FILE), "config", "--quiet"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"docker-compose config failed:\n{done.stdout}{done.stderr}"
