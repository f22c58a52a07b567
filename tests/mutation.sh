#!/usr/bin/env bash
# Mutation testing of core/ and the write path (issue 9), with mutmut 3 as configured in
# pyproject.toml ([tool.mutmut]: the 13 modules, the test selection, mypy as a pre-filter).
#
#   bash tests/mutation.sh                      # every mutant (hours on 2 cores)
#   bash tests/mutation.sh "mllm_lab.storage*"  # the mutants of one module (or any names)
#
# Results stay in mutants/ (git-ignored): `mutmut results`, `mutmut show NAME`, `mutmut browse`.
# Start again from nothing with `rm -rf mutants`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install -q -e ".[test]"
fi
.venv/bin/python -c "import mutmut" 2>/dev/null || .venv/bin/pip install -q "mutmut>=3.8,<4"
export PATH="$PWD/.venv/bin:$PATH"  # the type check runs `mypy`
export HYPOTHESIS_STORAGE_DIRECTORY=/dev/null  # no example database: each mutant starts fresh
exec mutmut run --max-children "$(nproc)" "$@"
