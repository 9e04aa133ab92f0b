"""pyproject.toml and environment.yml declare the same packages, and TensorFlow resolves to
exactly one distribution on every platform we support."""

import tomllib

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tests.nbrun import ROOT

PLATFORMS = {  # sys_platform, platform_machine as pip sees them
    "Linux x86-64": ("linux", "x86_64"),
    "Linux ARM": ("linux", "aarch64"),
    "macOS Apple silicon": ("darwin", "arm64"),
    "macOS Intel": ("darwin", "x86_64"),
    "Windows": ("win32", "AMD64"),
}


def pyproject_requirements() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def conda_pip_requirements() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    return [r for r in pip_sections[0] if not r.startswith("-")]  # "-e ." installs the course itself


def normalized(requirements) -> set:
    return {str(Requirement(r)) for r in requirements}


def test_environment_yml_lists_the_same_packages_as_pyproject():
    assert normalized(conda_pip_requirements()) == normalized(pyproject_requirements())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert "-e ." in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))


def test_every_required_package_has_a_version_range():
    for requirement in map(Requirement, pyproject_requirements()):
        specifiers = {s.operator for s in requirement.specifier}
        assert ">=" in specifiers and "<" in specifiers, f"{requirement.name} needs a lower and an upper bound"
    names = {Requirement(r).name for r in pyproject_requirements()}
    assert {"numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbgrader", "scikit-learn", "keras"} <= names


@pytest.mark.parametrize("platform", PLATFORMS)
def test_exactly_one_tensorflow_distribution_per_platform(platform):
    sys_platform, machine = PLATFORMS[platform]
    env = default_environment() | {"sys_platform": sys_platform, "platform_machine": machine}
    chosen = [r.name for r in map(Requirement, pyproject_requirements())
              if r.name.startswith("tensorflow") and (r.marker is None or r.marker.evaluate(env))]
    assert len(chosen) == 1, f"{platform}: {chosen}"
    # the CPU-only wheel exists for x86-64 Linux and Windows only
    expected = "tensorflow-cpu" if platform in ("Linux x86-64", "Windows") else "tensorflow"
    assert chosen == [expected]


def test_the_cluster_extra_is_in_environment_yml_comments_and_the_test_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    comments = "\n".join(line for line in (ROOT / "environment.yml").read_text().splitlines() if line.startswith("#"))
    assert extras["cluster"] and all(requirement in comments for requirement in extras["cluster"])
    assert set(extras["cluster"]) <= set(extras["test"])  # the tests grade on a local cluster
