"""docker-compose.yml and the Dockerfile, checked by reading them (Docker does not run here)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from api.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {
    name: s for name, s in SERVICES.items() if str(s.get("image", "")).startswith("consent-ledger:")
}


def settings_the_code_reads() -> set[str]:
    """Every environment variable named by a settings class of the four packages."""
    for package in ("ledger", "projections", "consumers", "api"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    names: set[str] = set()
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in ("ledger", "projections", "consumers", "api"):
            names.update(f.alias or name.upper() for name, f in cls.model_fields.items())
    return names


def test_the_six_processes_and_their_infrastructure_are_there() -> None:
    assert set(OURS) == {"api", "publisher", "consumer", "sealer", "expirer", "deliver"}
    assert {"postgres", "kafka"} <= set(SERVICES)
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_command_is_a_real_consent_ledger_subcommand(name: str) -> None:
    command = OURS[name]["command"]
    assert command[0] == "consent-ledger"
    build_parser().parse_args(command[1:])  # exits (fails the test) on an unknown command or flag


def test_every_variable_set_for_our_processes_is_one_the_code_reads() -> None:
    known = settings_the_code_reads()
    for name, service in OURS.items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned_and_every_service_is_health_checked(name: str) -> None:
    service = SERVICES[name]
    image = service["image"]
    repository, _, tag = image.rpartition(":")
    assert repository, image
    assert re.match(r"^\d+(\.\d+)+", tag), f"{image} is not pinned to a version"
    assert service["healthcheck"]["test"]
    for dependency, condition in service.get("depends_on", {}).items():
        assert condition == {"condition": "service_healthy"}, (name, dependency)


def test_consumers_scale_out() -> None:
    consumer = SERVICES["consumer"]
    assert "container_name" not in consumer
    assert "ports" not in consumer


def test_the_image_is_slim_pinned_and_runs_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert bases
    assert all(re.search(r":\d+\.\d+\.\d+-slim", base) for base in bases)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")


def test_every_compose_variable_is_documented_in_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    documented = set(
        re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    assert used <= documented, sorted(used - documented)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_is_parsed_when_only_its_own_module_is_loaded(command: str) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser(command).parse_args([command, "--help"])
    assert done.value.code == 0
