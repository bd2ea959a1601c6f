"""``cronkeeper api``'s default process count fits the container: min(CPUs, cgroup CPU quota)."""

import argparse
import os

import pytest

from cronkeeper.api import cli, processes


def cgroup(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "150000 100000"}, 1.5),  # v2: 1.5 CPUs
        ({"cpu.max": "200000 50000"}, 4.0),
        ({"cpu.max": "max 100000"}, None),  # v2 unlimited
        ({"cpu/cpu.cfs_quota_us": "50000", "cpu/cpu.cfs_period_us": "100000"}, 0.5),  # v1
        ({"cpu,cpuacct/cpu.cfs_quota_us": "300000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, 3.0),
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),  # v1 unlimited
        ({"cpu.max": "garbage"}, None),
        ({}, None),  # no cgroup files at all (not Linux, or not mounted)
    ],
)
def test_the_quota_is_read_from_cgroup_v2_or_v1(tmp_path, files, quota):
    assert processes.cgroup_cpu_quota(cgroup(tmp_path, files)) == quota


def test_usable_cpus_is_the_smaller_of_the_cpus_and_the_quota_rounded_down(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert processes.usable_cpus(cgroup(tmp_path / "a", {"cpu.max": "250000 100000"})) == 2
    assert processes.usable_cpus(cgroup(tmp_path / "b", {"cpu.max": "max 100000"})) == 8
    assert processes.usable_cpus(cgroup(tmp_path / "c", {"cpu.max": "1600000 100000"})) == 8  # quota above the CPUs
    assert processes.usable_cpus(cgroup(tmp_path / "d", {"cpu.max": "20000 100000"})) == 1  # 0.2 CPU: still one


def test_the_api_default_process_count_reads_the_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(processes, "CGROUP_ROOT", cgroup(tmp_path, {"cpu.max": "100000 100000"}))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert cli.default_workers() == 1
    monkeypatch.delenv(cli.WORKERS_VAR, raising=False)
    sub = argparse.ArgumentParser().add_subparsers()
    cli.register(sub)
    assert sub.choices["api"].parse_args([]).workers == 1
