#!/usr/bin/env bash
# The docker-compose topology without Docker: one redis-server, three Switchboard pods (each a
# supervisor with two workers) on loopback ports, and nginx in front as the Service.
#
#   deploy/local-cluster.sh start [CONFIG]   # prints the front URL; state in $CLUSTER_DIR
#   deploy/local-cluster.sh stop
#
# CONFIG defaults to deploy/cluster-config.yaml; its deployments share rpm/tpm limits and
# cooldowns through the Redis this script starts (REDIS_HOST/REDIS_PORT are set for the pods).
# Reload one pod: kill -HUP "$(cat $CLUSTER_DIR/pod1.pid)".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER_DIR=${CLUSTER_DIR:-/tmp/switchboard-cluster}
PODS=${PODS:-3}
WORKERS=${WORKERS:-2}
BIN=${SWITCHBOARD_BIN:-$ROOT/.build/debug/switchboard}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
export SWITCHBOARD_MASTER_KEY=${SWITCHBOARD_MASTER_KEY:-sk-local-cluster}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "local-cluster: $1 did not answer" >&2; return 1; }

start() {
  local config=${1:-$ROOT/deploy/cluster-config.yaml}
  [ -x "$BIN" ] || { echo "local-cluster: $BIN not built (swift build)"; exit 1; }
  mkdir -p "$CLUSTER_DIR"
  cp "$config" "$CLUSTER_DIR/config.yaml"
  local redis_port; redis_port=$(port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    >"$CLUSTER_DIR/redis.log" 2>&1 & echo $! >"$CLUSTER_DIR/redis.pid"
  echo "$redis_port" >"$CLUSTER_DIR/redis.port"
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  local upstreams=""
  for i in $(seq 1 "$PODS"); do
    local p; p=$(port)
    REDIS_HOST=127.0.0.1 REDIS_PORT=$redis_port "$BIN" --config "$CLUSTER_DIR/config.yaml" --host 127.0.0.1 \
      --port "$p" --num_workers "$WORKERS" >"$CLUSTER_DIR/pod$i.log" 2>&1 & echo $! >"$CLUSTER_DIR/pod$i.pid"
    echo "$p" >"$CLUSTER_DIR/pod$i.port"
    upstreams+="    server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"$'\n'
  done
  for i in $(seq 1 "$PODS"); do wait_http "http://127.0.0.1:$(cat "$CLUSTER_DIR/pod$i.port")/health/readiness"; done
  local front; front=$(port)
  mkdir -p "$CLUSTER_DIR/nginx/logs"
  cat >"$CLUSTER_DIR/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $CLUSTER_DIR/nginx/nginx.pid; error_log $CLUSTER_DIR/nginx/logs/error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $CLUSTER_DIR/nginx/cb; proxy_temp_path $CLUSTER_DIR/nginx/p;
  fastcgi_temp_path $CLUSTER_DIR/nginx/f; uwsgi_temp_path $CLUSTER_DIR/nginx/u; scgi_temp_path $CLUSTER_DIR/nginx/s;
  upstream pods {
$upstreams    keepalive 64;
  }
  server {
    listen 127.0.0.1:$front;
    location / {
      proxy_pass http://pods;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_next_upstream error timeout;
      proxy_read_timeout 600s;
    }
  }
}
CONF
  "$NGINX_BIN" -p "$CLUSTER_DIR/nginx/" -c "$CLUSTER_DIR/nginx/nginx.conf" >"$CLUSTER_DIR/nginx.log" 2>&1 &
  echo $! >"$CLUSTER_DIR/nginx.pid"
  echo "$front" >"$CLUSTER_DIR/front.port"
  wait_http "http://127.0.0.1:$front/health/liveliness"
  echo "local-cluster: http://127.0.0.1:$front ($PODS pods × $WORKERS workers, redis on $redis_port, state in $CLUSTER_DIR)"
}

stop() {
  for f in "$CLUSTER_DIR"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  for f in "$CLUSTER_DIR"/pod*.pid; do
    [ -f "$f" ] || continue
    for _ in $(seq 100); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
  done
  rm -f "$CLUSTER_DIR"/*.pid
  echo "local-cluster: stopped"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start [CONFIG] | stop"; exit 2 ;;
esac
