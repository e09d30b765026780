#!/usr/bin/env bash
# The quickstart: sets up and builds lote, starts `lote serve` on a fresh home
# (embedded SQLite store, loopback, a free port), then runs the seed's
# workflow on examples/taxi (an MLflow XGBoost model, no scoring code):
# compute, endpoint from the seed's YAML, invoke on the example data, stream
# the job, and print where predictions.csv is.
set -euo pipefail
cd "$(dirname "$0")"
setup_log=$(mktemp)
./setup.sh >"$setup_log" 2>&1 || { cat "$setup_log"; echo "quickstart: setup failed" >&2; exit 1; }

# The example's data and model are made by a script with a fixed seed.
/usr/bin/python3 examples/taxi/make_example.py

export LOTE_HOME=${LOTE_HOME:-$(mktemp -d /tmp/lote-quickstart.XXXXXX)}
mkdir -p "$LOTE_HOME"
export PATH="$PWD/build:$PATH"  # so the commands below read as in the README

build/lote serve --port 0 >"$LOTE_HOME/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s $LOTE_HOME/server.json ]] && break; sleep 0.1; done
[[ -s $LOTE_HOME/server.json ]] || { cat "$LOTE_HOME/serve.log"; exit 1; }
echo "== lote serve is up: $(head -1 "$LOTE_HOME/serve.log")"

set -x
lote compute create --name cpu-cluster --type local --min-instances 0 --max-instances 5 -o table
lote endpoint create --file examples/taxi/create-batch-endpoint.yml --query "{name: name, scoring_uri: scoring_uri}"
lote endpoint show --name mybatchedp --type batch --query "deployments[0].name"
job=$(lote endpoint invoke --name mybatchedp --type batch --input-local-path examples/taxi/data --query name -o tsv)
lote job stream --name "$job"
predictions=$(lote job show --name "$job" --query output.local_path -o tsv)
set +x
echo
echo "== predictions ($(($(wc -l <"$predictions") - 1)) rows and a header): $predictions"
head -5 "$predictions"
