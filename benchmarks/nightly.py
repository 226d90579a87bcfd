"""Nightly asv run: benchmark the commits since the last nightly, compare the newest with it, report.

Run through ``benchmarks/nightly.sh`` (it pins threads and CPU affinity first); ``--help`` lists options.

1. The commits after the last nightly (``<state>/last-nightly``) up to the branch head, oldest first, are
   run with asv on one named machine: per-commit virtualenvs (``--env asv``, asv.conf.json's mode: uv
   installs into them, told pip's package sources by :func:`uv_settings`), or
   the current interpreter with each commit's tree first on ``PYTHONPATH`` (``--env existing``: no builds,
   for projects whose code is importable from the tree, as evalkit's is).
2. The newest commit is compared with the last nightly. A benchmark regresses when new / old exceeds its
   threshold (``threshold`` next to the benchmark, see :func:`thresholds`; default
   :data:`DEFAULT_THRESHOLD`). Every tracked number is lower-is-better, so the ratio reads one way.
3. ``regressions.md`` lists each regression: benchmark, the commit range that introduced it (the first
   commit after which every run stays beyond the threshold), before/after, ratio, threshold, and how the
   environment differs from the last nightly's (packages, Python, CPU, threads, affinity, GPU).
4. ``asv publish`` rebuilds the HTML history. ``last-nightly`` moves to the newest commit when nothing
   regressed (or with ``--accept``), so a regression is reported every night until it is fixed or accepted.

Exit status: 0 no regression, 1 regression, 2 the nightly itself failed (no results for the newest commit).
This module is not a benchmark; asv imports it during discovery and finds nothing to run.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import json
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

#: new / old ratio beyond which a benchmark without its own ``threshold`` is a regression
DEFAULT_THRESHOLD = 1.5
OK, REGRESSION, FAILED = 0, 1, 2
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "TORCH_NUM_THREADS")


def log(message: str) -> None:
    print(f"[nightly] {message}", file=sys.stderr, flush=True)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def load_conf(path: Path) -> dict:
    """asv.conf.json (which may hold ``//`` comments, as asv allows)."""
    from asv import util

    return util.load_json(str(path), js_comments=True)


# ---------------------------------------------------------------------------------------------- thresholds

def _number(node) -> float | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def thresholds(benchmark_dir: Path) -> dict[str, float]:
    """Per-benchmark thresholds written next to the benchmarks, read without importing them.

    ``threshold = 1.3`` in a module, a class body (inherited by subclasses in the same module) or as
    ``time_x.threshold = 1.3`` after a method. Keys: ``module``, ``module.Class``, ``module.Class.method``
    and ``module.function``, as asv names benchmarks; :func:`threshold_for` picks the most specific.
    """
    found: dict[str, float] = {}
    for path in sorted(benchmark_dir.rglob("*.py")):
        module = ".".join(path.relative_to(benchmark_dir).with_suffix("").parts)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

        def scan(body, prefix: str) -> None:
            for node in body:
                if not isinstance(node, ast.Assign):
                    continue
                value = _number(node.value)
                if value is None:
                    continue
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "threshold":
                        found[prefix] = value
                    elif (isinstance(target, ast.Attribute) and target.attr == "threshold"
                          and isinstance(target.value, ast.Name)):
                        found[f"{prefix}.{target.value.id}"] = value

        scan(tree.body, module)
        for name, node in classes.items():
            chain, seen = [node], {name}
            while chain[-1].bases:  # single-inheritance chain inside the module, base first below
                base = chain[-1].bases[0]
                if not (isinstance(base, ast.Name) and base.id in classes and base.id not in seen):
                    break
                seen.add(base.id)
                chain.append(classes[base.id])
            for klass in reversed(chain):
                scan(klass.body, f"{module}.{name}")
                methods = {f.name for f in klass.body if isinstance(f, ast.FunctionDef)}
                for method in methods:
                    key = f"{module}.{klass.name}.{method}"
                    if key in found and klass.name != name:
                        found[f"{module}.{name}.{method}"] = found[key]
    return found


def threshold_for(name: str, table: dict[str, float], default: float = DEFAULT_THRESHOLD) -> tuple[float, bool]:
    """(threshold, whether it was written next to the benchmark) for an asv benchmark name."""
    parts = name.split("(", 1)[0].split(".")  # parameter values may hold dots
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key in table:
            return table[key], True
    return default, False


# ---------------------------------------------------------------------------------------------- environment

def snapshot(python: str, machine: str, cpus: str | None) -> dict:
    """What can change a timing besides the code: packages, interpreter, CPU, threads, affinity, GPU."""
    freeze = subprocess.run([python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True).stdout
    packages = {}
    for line in freeze.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            packages[name.lower()] = version
        elif " @ " in line:
            name, url = line.split(" @ ", 1)
            packages[name.lower()] = url
    python_version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                    capture_output=True, text=True).stdout.strip()
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    except OSError:
        pass
    gpu = ""
    if shutil.which("nvidia-smi"):
        gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True).stdout.strip()
    return {
        "machine": machine, "hostname": socket.gethostname(), "cpu": cpu, "cpu_count": os.cpu_count(),
        "cpu_affinity": cpus or "", "kernel": platform.release(), "python": python_version, "gpu": gpu,
        "threads": {k: os.environ.get(k, "") for k in THREAD_VARS},
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()), "packages": packages,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def environment_differences(before: dict | None, after: dict) -> list[str]:
    if not before:
        return ["no environment snapshot of the last nightly"]
    lines = []
    for key in ("machine", "hostname", "cpu", "cpu_count", "cpu_affinity", "kernel", "python", "gpu"):
        if before.get(key) != after.get(key):
            lines.append(f"{key}: {before.get(key)!r} → {after.get(key)!r}")
    for key in THREAD_VARS:
        b, a = before.get("threads", {}).get(key, ""), after.get("threads", {}).get(key, "")
        if a != b:
            lines.append(f"{key}: {b!r} → {a!r}")
    old, new = before.get("packages", {}), after.get("packages", {})
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            lines.append(f"{name}: {old.get(name, 'absent')} → {new.get(name, 'absent')}")
    return lines


# ---------------------------------------------------------------------------------------------- asv runs

def asv_command(python: str, *args: str) -> list[str]:
    return [python, "-m", "asv", *args]


def run_logged(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> int:
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, env=env, cwd=cwd).returncode


#: pip setting -> (uv variable, separator uv expects); per-commit environments install with uv (asv.conf.json)
UV_FROM_PIP = {"index-url": ("UV_INDEX_URL", " "), "extra-index-url": ("UV_EXTRA_INDEX_URL", " "),
               "find-links": ("UV_FIND_LINKS", ","), "constraint": ("UV_CONSTRAINT", " "), "cert": ("SSL_CERT_FILE", " ")}


def uv_settings(pip_config: str) -> dict[str, str]:
    """pip's package sources (``pip config list`` output) as uv variables: uv reads no pip.conf.

    The last scope wins, as in pip (files, then ``PIP_*`` variables). With extra indexes, uv is told to pick
    the best version across all of them, as pip does, instead of stopping at the first index that has a name.
    """
    found: dict[str, str] = {}
    for line in pip_config.splitlines():
        key, sep, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if sep and name in UV_FROM_PIP:
            found[name] = value.strip().strip("'\"")
    out = {}
    for name, value in found.items():
        variable, separator = UV_FROM_PIP[name]
        out[variable] = separator.join(value.split())
    if "extra-index-url" in found:
        out["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    return out


def has_results(results_dir: Path, machine: str, commit: str) -> bool:
    return any((results_dir / machine).glob(f"{commit[:8]}-*.json"))


def load_values(results_dir: Path, machine: str, commit: str) -> dict[str, float | None]:
    """``{benchmark[(params)]: value}`` for one commit; None = failed, NaN = skipped (e.g. no CUDA)."""
    from asv import results as asv_results

    values: dict[str, float | None] = {}
    for result in asv_results.iter_results_for_machine_and_hash(str(results_dir), machine, commit):
        for key in result.get_all_result_keys():
            params = result.get_result_params(key)
            combos = [()]
            for p in params:
                combos = [c + (v,) for c in combos for v in p]
            for combo, value in zip(combos, result.get_result_value(key, params)):
                name = key if not combo else f"{key}({', '.join(map(str, combo))})"
                values[name] = None if value is None else float(value)
    return values


def units(results_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((results_dir / "benchmarks.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: v.get("unit", "") for k, v in data.items() if isinstance(v, dict)}


def human(value: float | None, unit: str) -> str:
    if value is None:
        return "failed"
    if math.isnan(value):
        return "skipped"
    if unit == "seconds":
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "μs"), (1e-9, "ns")):
            if abs(value) >= scale or scale == 1e-9:
                return f"{value / scale:.3g} {suffix}"
    if unit == "bytes":
        return f"{value / 2**20:.3g} MiB"
    return f"{value:.4g} {unit if unit != 'unit' else ''}".strip()  # asv's default track unit says nothing


def usable(value: float | None) -> bool:
    return value is not None and not math.isnan(value) and value > 0


# ---------------------------------------------------------------------------------------------- the night

class Nightly:
    def __init__(self, args):
        self.args = args
        self.repo = Path(args.repo).resolve()
        self.config = Path(args.config).resolve() if args.config else self.repo / "asv.conf.json"
        self.conf = load_conf(self.config)
        base = self.config.parent
        self.project_repo = (base / self.conf.get("repo", ".")).resolve()
        self.benchmark_dir = (base / self.conf.get("benchmark_dir", "benchmarks")).resolve()
        self.results_dir = (base / self.conf.get("results_dir", "results")).resolve()
        self.html_dir = (base / self.conf.get("html_dir", "html")).resolve()
        self.env_dir = (base / self.conf.get("env_dir", "env")).resolve()
        self.state = Path(args.state).resolve() if args.state else (base / ".asv" / "nightly").resolve()
        self.report = Path(args.report).resolve() if args.report else self.state / "regressions.md"
        self.branch = args.branch or (self.conf.get("branches") or ["HEAD"])[0]
        self.python = args.python or sys.executable
        self.machine = args.machine or os.environ.get("NIGHTLY_MACHINE") or socket.gethostname()
        self.commit_url = self.conf.get("show_commit_url", "")
        self.state.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="nightly-"))

    # -- configuration with absolute paths, so asv can run from anywhere (worktrees included)
    def write_conf(self, benchmark_dir: Path | None = None) -> Path:
        conf = dict(self.conf)
        conf.update(repo=str(self.project_repo), benchmark_dir=str(benchmark_dir or self.benchmark_dir),
                    results_dir=str(self.results_dir), html_dir=str(self.html_dir), env_dir=str(self.env_dir))
        path = self.tmp / "asv.conf.json"
        path.write_text(json.dumps(conf, indent=1))
        return path

    def run_args(self) -> list[str]:
        out = ["--machine", self.machine, "--show-stderr"]
        if self.args.cpu_affinity:
            out += ["--cpu-affinity", self.args.cpu_affinity]
        if self.args.quick:
            out.append("--quick")
        for bench in self.args.bench or []:
            out += ["--bench", bench]
        return out + list(self.args.asv_arg or [])

    def last_nightly(self) -> str | None:
        path = self.state / "last-nightly"
        if not path.exists():
            return None
        commit = path.read_text().strip()
        try:
            git(self.project_repo, "merge-base", "--is-ancestor", commit, self.branch)
        except subprocess.CalledProcessError:
            log(f"last nightly {commit[:8]} is not an ancestor of {self.branch}: starting a new baseline")
            return None
        return commit

    def new_commits(self, last: str | None, newest: str) -> list[str]:
        if last is None:
            return [newest]
        commits = git(self.project_repo, "rev-list", "--reverse", "--first-parent", f"{last}..{newest}").split()
        if len(commits) > self.args.max_commits:
            log(f"{len(commits)} new commits: running the newest {self.args.max_commits}")
            commits = commits[-self.args.max_commits:]
        return commits

    def benchmark(self, commits: list[str]) -> None:
        todo = [c for c in commits if not has_results(self.results_dir, self.machine, c)]
        if not todo:
            return
        env = dict(os.environ)
        if self.args.env == "existing":
            conf = self.write_conf()
            for commit in todo:
                tree = self.tmp / f"tree-{commit[:8]}"
                git(self.project_repo, "worktree", "add", "--detach", str(tree), commit)
                try:
                    # asv drops PYTHONPATH in benchmark processes and puts ASV_PYTHONPATH first on sys.path
                    env["ASV_PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), os.environ.get("ASV_PYTHONPATH")]))
                    run_logged(asv_command(self.python, "run", "--config", str(conf), "-E", f"existing:{self.python}",
                                           "--set-commit-hash", commit, *self.run_args()), env=env, cwd=tree)
                finally:
                    git(self.project_repo, "worktree", "remove", "--force", str(tree))
        else:
            conf = self.write_conf()
            pip_config = subprocess.run([self.python, "-m", "pip", "config", "list"], capture_output=True, text=True)
            env.update({k: v for k, v in uv_settings(pip_config.stdout).items() if k not in env})
            hashfile = self.tmp / "commits.txt"
            hashfile.write_text("\n".join(todo) + "\n")
            run_logged(asv_command(self.python, "run", "--config", str(conf), "--skip-existing-commits",
                                   f"HASHFILE:{hashfile}", *self.run_args()), env=env, cwd=self.project_repo)

    def env_python(self) -> str:
        if self.args.env == "existing":
            return self.python
        pythons = sorted(self.env_dir.glob("*/bin/python"), key=lambda p: p.stat().st_mtime)
        return str(pythons[-1]) if pythons else self.python

    def link(self, commit: str) -> str:
        return f"[{commit[:8]}]({self.commit_url}{commit})" if self.commit_url else f"`{commit[:8]}`"

    def compare(self, last: str, commits: list[str]) -> list[dict]:
        """Rows for benchmarks whose newest value exceeds the last nightly's by more than their threshold."""
        table = thresholds(self.benchmark_dir)
        series = [(c, load_values(self.results_dir, self.machine, c)) for c in [last, *commits]]
        before, after = series[0][1], series[-1][1]
        unit_of = units(self.results_dir)
        rows = []
        self.compared = []  # every benchmark with a value on both sides, for the report's full table
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name), after.get(name)
            limit, written = threshold_for(name, table)
            row = {"name": name, "before": old, "after": new, "threshold": limit, "written": written,
                   "unit": unit_of.get(name.split("(")[0], "")}
            if name not in after or name not in before:
                continue  # benchmark added or removed
            if usable(old) and new is None:
                row.update(kind="failed", ratio=math.inf)
            elif usable(old) and usable(new):
                row["ratio"] = new / old
                self.compared.append(row)
                if row["ratio"] <= limit:
                    if row["ratio"] < 1 / limit:
                        row["kind"] = "improved"
                        rows.append(row)
                    continue
                row["kind"] = "regressed"
            else:
                continue
            # the commit after which every value stays beyond the threshold (failed runs count as beyond)
            good = 0
            for i, (_, values) in enumerate(series):
                value = values.get(name)
                if usable(value) and value / old <= limit:
                    good = i
            row["range"] = (series[good][0], series[good + 1][0]) if good + 1 < len(series) else (last, commits[-1])
            rows.append(row)
        return rows

    def write_report(self, last: str | None, commits: list[str], rows: list[dict], env_lines: list[str],
                     snap: dict) -> None:
        newest = commits[-1] if commits else last
        regressions = [r for r in rows if r["kind"] in ("regressed", "failed")]
        improved = [r for r in rows if r["kind"] == "improved"]
        out = [f"# Nightly benchmarks: {'REGRESSION' if regressions else 'no regression'}", ""]
        out.append(f"- machine `{self.machine}` ({snap['cpu']}, {snap['cpu_count']} CPUs, affinity "
                   f"`{snap['cpu_affinity'] or 'all'}`, threads `{snap['threads'].get('OMP_NUM_THREADS') or 'unset'}`, "
                   f"load {snap['loadavg']})")
        if last:
            out.append(f"- compared: last nightly {self.link(last)} → newest {self.link(newest)} "
                       f"({len(commits)} new commit{'s' if len(commits) != 1 else ''} on `{self.branch}`)")
        else:
            out.append(f"- first nightly: {self.link(newest)} is the baseline")
        out.append(f"- threshold: new / old beyond which a benchmark regresses; * = default {DEFAULT_THRESHOLD} "
                   "(no `threshold` written next to the benchmark). Every number is lower-is-better.")
        out.append("")
        if regressions:
            out += ["## Regressions", "", "| benchmark | commit range | before | after | ratio | threshold |",
                    "|---|---|---|---|---|---|"]
            for r in sorted(regressions, key=lambda r: -r["ratio"]):
                lo, hi = r["range"]
                out.append(f"| `{r['name']}` | {self.link(lo)}..{self.link(hi)} | {human(r['before'], r['unit'])} | "
                           f"{human(r['after'], r['unit'])} | {r['ratio']:.2f} | {r['threshold']:.2f}"
                           f"{'' if r['written'] else '*'} |")
            out.append("")
        if improved:
            out += ["## Improvements", "", "| benchmark | before | after | ratio |", "|---|---|---|---|"]
            for r in sorted(improved, key=lambda r: r["ratio"]):
                out.append(f"| `{r['name']}` | {human(r['before'], r['unit'])} | {human(r['after'], r['unit'])} | "
                           f"{r['ratio']:.2f} |")
            out.append("")
        out += ["## Environment differences from the last nightly", ""]
        out += [f"- {line}" for line in env_lines] or ["- none"]
        out.append("")
        if getattr(self, "compared", None):
            out += ["## All compared benchmarks", "", "| benchmark | before | after | ratio | threshold |",
                    "|---|---|---|---|---|"]
            for r in self.compared:
                out.append(f"| {r['name']} | {human(r['before'], r['unit'])} | {human(r['after'], r['unit'])} | "
                           f"{r['ratio']:.2f} | {r['threshold']:.2f}{'' if r['written'] else '*'} |")
            out.append("")
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text("\n".join(out))

    def run(self) -> int:
        newest = git(self.project_repo, "rev-parse", self.branch)
        last = self.last_nightly()
        commits = self.new_commits(last, newest) if last != newest else []
        log(f"branch {self.branch} at {newest[:8]}; last nightly {last[:8] if last else 'none'}; "
            f"{len(commits)} commit(s) to run")
        conf = self.write_conf()
        subprocess.run(asv_command(self.python, "machine", "--config", str(conf), "--machine", self.machine, "--yes"),
                       check=True, capture_output=True)
        self.benchmark(([last] if last and not has_results(self.results_dir, self.machine, last) else []) + commits)
        if not has_results(self.results_dir, self.machine, newest):
            log(f"no results for {newest[:8]}: the nightly failed")
            return FAILED
        snap = snapshot(self.env_python(), self.machine, self.args.cpu_affinity)
        snapshots = self.state / "snapshots"
        snapshots.mkdir(exist_ok=True)
        (snapshots / f"{newest}.json").write_text(json.dumps(snap, indent=1))
        rows = self.compare(last, commits) if last and commits else []
        old_snap = None
        if last and (snapshots / f"{last}.json").exists():
            old_snap = json.loads((snapshots / f"{last}.json").read_text())
        self.write_report(last, commits, rows, environment_differences(old_snap, snap) if last else [], snap)
        if not self.args.no_publish:
            run_logged(asv_command(self.python, "publish", "--config", str(conf)), cwd=self.project_repo)
        regressed = [r for r in rows if r["kind"] in ("regressed", "failed")]
        if not regressed or self.args.accept:
            (self.state / "last-nightly").write_text(newest + "\n")
        log(f"report: {self.report}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        return REGRESSION if regressed else OK


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=".", help="the project's git repository (default: .)")
    parser.add_argument("--config", help="asv configuration (default: REPO/asv.conf.json)")
    parser.add_argument("--machine", help="asv machine name (default: $NIGHTLY_MACHINE, else the hostname)")
    parser.add_argument("--env", choices=("asv", "existing"), default="asv",
                        help="asv: the configuration's per-commit environments; existing: this interpreter, "
                             "each commit's tree first on PYTHONPATH")
    parser.add_argument("--python", help="interpreter that runs asv (and the benchmarks with --env existing)")
    parser.add_argument("--branch", help="branch to follow (default: the configuration's first branch)")
    parser.add_argument("--state", help="folder for last-nightly, environment snapshots and the report "
                                        "(default: .asv/nightly next to the configuration)")
    parser.add_argument("--report", help="where to write regressions.md (default: STATE/regressions.md)")
    parser.add_argument("--cpu-affinity", help="CPUs for the benchmark processes, e.g. 2-3 (asv --cpu-affinity)")
    parser.add_argument("--bench", action="append", help="asv --bench regular expression (repeatable)")
    parser.add_argument("--quick", action="store_true", help="asv --quick: one sample per benchmark")
    parser.add_argument("--max-commits", type=int, default=30, help="run at most the newest N new commits")
    parser.add_argument("--accept", action="store_true", help="make the newest commit the baseline even if it regressed")
    parser.add_argument("--no-publish", action="store_true", help="skip asv publish")
    parser.add_argument("--asv-arg", action="append", help="extra argument for asv run (repeatable)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    return Nightly(parse_args(argv)).run()


if __name__ == "__main__":
    sys.exit(main())
