#!/usr/bin/env bash
# Nightly performance run on one named machine: pin threads and CPU affinity, benchmark the commits since
# the last nightly with asv, compare the newest with the last nightly, write regressions.md, publish the
# HTML history. Exit status: 0 no regression, 1 regression beyond a benchmark's threshold, 2 failure.
#
#   benchmarks/nightly.sh [nightly.py options]     # e.g. --quick, --bench REGEX, --env existing, --accept
#
# Settings (environment):
#   NIGHTLY_MACHINE     asv machine name (default: the hostname); results are kept per machine
#   NIGHTLY_CPUS        CPUs the benchmarks run on (taskset + asv --cpu-affinity; default: all but CPU 0
#                       when there are 4 or more, else all)
#   NIGHTLY_THREADS     threads per benchmark process (OMP/MKL/OpenBLAS/numba/torch; default: number of NIGHTLY_CPUS)
#   NIGHTLY_PYTHON      interpreter with asv installed (default: .venv/bin/python, else python3)
#   NIGHTLY_WHEELHOUSE  folder of wheels (torch…) that per-commit environments install from (added to PIP_FIND_LINKS;
#                       uv, which installs them, gets pip's sources as UV_* variables from nightly.py)
#   UV_CACHE_DIR        uv's cache, where each wheel is unpacked once per machine (default ~/.cache/uv)
#   NIGHTLY_REPO        repository to benchmark (default: the one holding this script)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="${NIGHTLY_REPO:-$(cd "$here/.." && pwd)}"
cd "$repo"

python="${NIGHTLY_PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$repo/.venv/bin/python" ]]; then python="$repo/.venv/bin/python"; else python="$(command -v python3)"; fi
fi

ncpu="$(nproc)"
if [[ -z "${NIGHTLY_CPUS:-}" ]]; then
  if (( ncpu >= 4 )); then NIGHTLY_CPUS="1-$((ncpu - 1))"; else NIGHTLY_CPUS="0-$((ncpu - 1))"; fi
fi
count_cpus() {  # "0-3,6" -> 5
  local n=0 part
  IFS=, read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ "$part" == *-* ]]; then n=$((n + ${part#*-} - ${part%-*} + 1)); else n=$((n + 1)); fi
  done
  echo "$n"
}
threads="${NIGHTLY_THREADS:-$(count_cpus "$NIGHTLY_CPUS")}"
for var in OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS NUMBA_NUM_THREADS NUMEXPR_NUM_THREADS \
           VECLIB_MAXIMUM_THREADS TORCH_NUM_THREADS; do
  export "$var=$threads"
done
export PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# per-commit environments get their dependencies without bytecode (asv.conf.json): the first import writes it
unset PYTHONDONTWRITEBYTECODE
if [[ -n "${NIGHTLY_WHEELHOUSE:-}" ]]; then
  export PIP_FIND_LINKS="${NIGHTLY_WHEELHOUSE}${PIP_FIND_LINKS:+ $PIP_FIND_LINKS}"
fi

pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c "$NIGHTLY_CPUS"); fi
echo "[nightly] machine ${NIGHTLY_MACHINE:-$(hostname)}, CPUs $NIGHTLY_CPUS, $threads threads, python $python" >&2
exec "${pin[@]}" "$python" "$here/nightly.py" --repo "$repo" --machine "${NIGHTLY_MACHINE:-$(hostname)}" \
  --cpu-affinity "$NIGHTLY_CPUS" "$@"
