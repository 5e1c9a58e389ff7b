#!/usr/bin/env bash
# Build the offline validators the deploy checks use, from the Go module proxy, into a
# cache directory (default ~/.cache/ccmon-tools; set CCMON_TOOLS_DIR to move it):
#   - the official Docker Compose CLI plugin (github.com/docker/compose/v5), linked as
#     ~/.docker/cli-plugins/docker-compose so that `docker compose config` works without
#     a Docker engine;
#   - crdcheck (scripts/k8s/crdcheck): ServiceMonitor/PrometheusRule decoded strictly
#     into prometheus-operator's Go types;
#   - dockerfilecheck (scripts/docker/dockerfilecheck): BuildKit's Dockerfile lint, the
#     one `docker build --check` runs, offline;
#   - toxiproxy-server (github.com/Shopify/toxiproxy/v2), the fault-injecting proxy the
#     fault tests put between the worker and the broker or Redis (tests/servers/toxiproxy.py
#     looks for it in $BIN).
# Built once; later runs reuse the binaries. Build time is appended to
# benchmarks/results/deploy-tools.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

COMPOSE_VERSION=v5.6.0   # the newest release whose go.mod the installed Go (1.26.8) accepts
TOXIPROXY_VERSION=v2.5.0 # the newest release the Go module proxy lists for toxiproxy/v2
TOOLS_DIR=${CCMON_TOOLS_DIR:-$HOME/.cache/ccmon-tools}
BIN=$TOOLS_DIR/bin
mkdir -p "$BIN" "$HOME/.docker/cli-plugins" benchmarks/results
export GOFLAGS=-trimpath GOTOOLCHAIN=local
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
  export PATH=$PATH:/usr/local/go/bin
fi
command -v go >/dev/null || { echo "tools.sh: Go is needed to build the validators" >&2; exit 1; }

stamp() { date +%s; }

if [[ ! -x $BIN/docker-compose-$COMPOSE_VERSION ]]; then
  t0=$(stamp)
  go mod download github.com/docker/compose/v5@$COMPOSE_VERSION
  src=$(go env GOMODCACHE)/github.com/docker/compose/v5@$COMPOSE_VERSION
  # `go install pkg@version` refuses modules with exclude directives: build in the module.
  (cd "$src" && go build \
    -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" \
    -o "$BIN/docker-compose-$COMPOSE_VERSION" ./cmd)
  echo "$(date -u +%FT%TZ) docker compose $COMPOSE_VERSION built in $(( $(stamp) - t0 )) s" \
    | tee -a benchmarks/results/deploy-tools.txt
fi
ln -sf "$BIN/docker-compose-$COMPOSE_VERSION" "$HOME/.docker/cli-plugins/docker-compose"

if [[ ! -x $BIN/crdcheck || scripts/k8s/crdcheck/main.go -nt $BIN/crdcheck || scripts/k8s/crdcheck/go.sum -nt $BIN/crdcheck ]]; then
  t0=$(stamp)
  (cd scripts/k8s/crdcheck && go build -o "$BIN/crdcheck" .)
  echo "$(date -u +%FT%TZ) crdcheck built in $(( $(stamp) - t0 )) s" \
    | tee -a benchmarks/results/deploy-tools.txt
fi

if [[ ! -x $BIN/dockerfilecheck || scripts/docker/dockerfilecheck/main.go -nt $BIN/dockerfilecheck || scripts/docker/dockerfilecheck/go.sum -nt $BIN/dockerfilecheck ]]; then
  t0=$(stamp)
  (cd scripts/docker/dockerfilecheck && go build -o "$BIN/dockerfilecheck" .)
  echo "$(date -u +%FT%TZ) dockerfilecheck built in $(( $(stamp) - t0 )) s" \
    | tee -a benchmarks/results/deploy-tools.txt
fi

if [[ ! -x $BIN/toxiproxy-server-$TOXIPROXY_VERSION ]]; then
  t0=$(stamp)
  go mod download github.com/Shopify/toxiproxy/v2@$TOXIPROXY_VERSION
  src=$(go env GOMODCACHE)/github.com/!shopify/toxiproxy/v2@$TOXIPROXY_VERSION
  (cd "$src" && go build -ldflags "-s -w -X github.com/Shopify/toxiproxy/v2.Version=$TOXIPROXY_VERSION" \
    -o "$BIN/toxiproxy-server-$TOXIPROXY_VERSION" ./cmd/server)
  echo "$(date -u +%FT%TZ) toxiproxy-server $TOXIPROXY_VERSION built in $(( $(stamp) - t0 )) s" \
    | tee -a benchmarks/results/deploy-tools.txt
fi
ln -sf "$BIN/toxiproxy-server-$TOXIPROXY_VERSION" "$BIN/toxiproxy-server"

docker compose version
