"""Small helpers for `bench/run.py`: statistics, memory readings, machine facts, temporary homes and
running the real CLI with its wall time and peak memory.

Takes: paths of the repository. Gives: plain functions; nothing runs at import time.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.run import git_commit
from assistant.evaluation.score import percentile

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ stats


def latency_summary(ms: Sequence[float]) -> dict[str, float | int]:
    """p50 / p95 / max / mean of a list of latencies in milliseconds, rounded for the report."""
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(sum(ms) / len(ms), 2),
    }


def timed_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000.0, out


# ------------------------------------------------------------------------------------------ memory


def self_peak_rss_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def self_rss_mb() -> float | None:
    """Current resident memory of this process, from /proc/self/status (VmRSS); None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return None


@dataclass(frozen=True)
class CpuMark:
    wall: float
    busy_s: float  # CPU seconds all processes were busy (from /proc/stat), summed over CPUs
    own_s: float  # CPU seconds of this process and its waited-for children


def cpu_mark() -> CpuMark:
    busy = 0.0
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        # user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    t = os.times()
    return CpuMark(time.perf_counter(), busy, t.user + t.system + t.children_user + t.children_system)


def others_cpu_share(since: CpuMark) -> float | None:
    """Share of the machine's CPU time used by *other* processes since `since` (0 = quiet machine).

    On 2 cores a second busy process makes torch's two threads wait for each other, which inflates
    every latency here; this figure says whether a result was taken on a quiet machine.
    """
    now = cpu_mark()
    wall = now.wall - since.wall
    if wall <= 0 or not since.busy_s:
        return None
    others = (now.busy_s - since.busy_s) - (now.own_s - since.own_s)
    return round(max(others, 0.0) / (wall * (os.cpu_count() or 1)), 3)


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ------------------------------------------------------------------------------------------ machine


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - absent package: just not reported
        return None


def machine_facts() -> dict[str, Any]:
    commit, dirty = git_commit(ROOT)
    mem = _first("/proc/meminfo", "MemTotal")
    torch_version = torch_threads = None
    try:
        import torch

        torch_version, torch_threads = torch.__version__, torch.get_num_threads()
    except ImportError:
        pass
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _first("/proc/cpuinfo", "model name") or platform.processor() or None,
        "mem_total_gb": round(int(mem.split()[0]) / 1024**2, 1) if mem else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch_version,
        "torch_threads": torch_threads,
        "sentence_transformers": _version("sentence-transformers"),
        "chromadb": _version("chromadb"),
        "numpy": _version("numpy"),
        "git_commit": commit[:7] if commit else None,
        "git_dirty": bool(dirty),
    }


# ------------------------------------------------------------------------------------------ homes


def make_bench_home(home: Path, *, index_from: Path | None = None) -> Path:
    """A throw-away project home: the real manifest and corpus files copied, models/ and prompts/
    linked; with `index_from` (an index generation folder) a copy of that index as `index/current`."""
    (home / "corpus").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "corpus" / "sources.toml", home / "corpus" / "sources.toml")
    shutil.copytree(ROOT / "corpus" / "files", home / "corpus" / "files")
    for shared in ("models", "prompts"):
        (home / shared).symlink_to(ROOT / shared)
    if index_from is not None:
        from assistant.index.open import copy_index

        copy_index(index_from, home / "index")
    return home


def dir_size_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / 1024**2, 1)


# ------------------------------------------------------------------------------------------ CLI


@dataclass(frozen=True)
class CliRun:
    returncode: int
    wall_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str

    @property
    def last_error(self) -> str:
        lines = [x for x in self.stderr.splitlines() if x.strip()]
        return lines[-1][:300] if lines else f"exit code {self.returncode}"


def cli_command() -> list[str]:
    """The installed `assistant` console script beside this interpreter, else `python -m assistant`."""
    script = Path(sys.executable).with_name("assistant")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant"]


def run_cli(args: Sequence[str], home: Path, log_dir: Path) -> CliRun:
    """Run the CLI in `home` as a user would; wall time of the whole process and its own peak RSS.

    os.wait4 gives the resource usage of exactly this child (RUSAGE_CHILDREN would report the
    largest child ever waited for, e.g. an earlier, bigger build).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_HOME"] = str(home)
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*cli_command(), *args], cwd=home, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped; keep Popen consistent
    return CliRun(
        returncode=proc.returncode,
        wall_s=round(wall, 2),
        peak_rss_mb=round(usage.ru_maxrss / 1024.0, 1),
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )
