#!/usr/bin/env bash
# Parses metrics on standard input with the Prometheus project's own Python client parsers, as a
# scraper would: "promparse.sh text" (the Prometheus text format) or "promparse.sh openmetrics"
# (strict OpenMetrics 1.0). Prints each family's name and type and its sample count; exits 1 when
# the parser refuses the input, 3 when no parser can be had (no python3, or pip could not install).
# The parser lives in a virtual environment under ~/.cache/pagepool, made on first use.
set -euo pipefail
format="${1:?usage: promparse.sh text|openmetrics < metrics}"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/pagepool/promparse-0.26.0"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import prometheus_client" 2> /dev/null; then
    if ! command -v python3 > /dev/null 2>&1; then
        echo "promparse: no python3" >&2
        exit 3
    fi
    rm -rf "$venv"
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check \
            prometheus-client==0.26.0; } > /tmp/pagepool-promparse-install.log 2>&1; then
        echo "promparse: could not install prometheus-client (see /tmp/pagepool-promparse-install.log)" >&2
        exit 3
    fi
fi
exec "$venv/bin/python" - "$format" 3<&0 <<'PY'
import os, sys
text = os.fdopen(3, encoding="utf-8").read()
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
try:
    families = list(text_string_to_metric_families(text))
except Exception as e:
    print("refused: %s" % e, file=sys.stderr)
    sys.exit(1)
for f in families:
    print(f.name, f.type, len(f.samples))
PY
