#!/usr/bin/env bash
# Container smoke test: build deploy/Containerfile, run deploy/compose.yaml (bot + PostgreSQL)
# and check that the image's health check turns healthy, /health/ready answers ready on the
# published loopback port, the bot runs as uid 10001 against PostgreSQL, and `podman stop`
# ends it cleanly (exit 143, "Stopped (SIGTERM)"), and that it is ready again after a restart;
# then deploy/jokebot.service under a real systemd in a container (start, kill -9 and
# Restart=on-failure, a clean stop, a backup as the service user, the journal).
#
#   make container-test        (= tests/container/smoke.sh)
#
# Needs root podman and podman-compose (Debian: apt-get install podman podman-compose
# debootstrap). Settings, all optional:
#   BASE_IMAGE      the Debian 12 base; default: made here with debootstrap (make-base.sh)
#   POSTGRES_IMAGE  default: a stand-in built from tests/container/postgres.Containerfile
#                   (set docker.io/library/postgres:15 where a registry is reachable)
#   CA_BUNDLE       a CA bundle for pip behind a TLS-intercepting proxy (a build secret)
#   PODMAN_SANDBOX  1: use tests/container/containers.conf (runc, ulimits) for hosts where
#                   crun cannot start containers (cgroup v1 "hybrid" mode)
#   KEEP=1          leave the containers running at the end (for a look around)
# The first build compiles llama.cpp (about 5 minutes on 2 cores); later builds reuse that layer.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf 'smoke: %s\n' "$*"; }
fail() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

if [ "${PODMAN_SANDBOX:-0}" = 1 ]; then
    export CONTAINERS_CONF=$repo/tests/container/containers.conf
fi
for tool in podman podman-compose; do
    command -v "$tool" > /dev/null || fail "$tool is not installed"
done

base=${BASE_IMAGE:-localhost/jokebot-base:bookworm}
[ -n "${BASE_IMAGE:-}" ] || tests/container/make-base.sh "$base"
secret=()
[ -z "${CA_BUNDLE:-}" ] || secret=(--secret "id=ca_bundle,src=$CA_BUNDLE")

export JOKEBOT_IMAGE=localhost/jokebot:smoke JOKEBOT_REPO=$repo
say "building $JOKEBOT_IMAGE from deploy/Containerfile on $base"
podman build --quiet --format docker "${secret[@]}" --build-arg "BASE=$base" \
    -f deploy/Containerfile -t "$JOKEBOT_IMAGE" . > /dev/null
if [ -z "${POSTGRES_IMAGE:-}" ]; then
    export POSTGRES_IMAGE=localhost/jokebot-test-postgres:15
    say "building the PostgreSQL stand-in $POSTGRES_IMAGE"
    podman build --quiet --build-arg "BASE=$base" -f tests/container/postgres.Containerfile \
        -t "$POSTGRES_IMAGE" . > /dev/null
fi

# The image: not root, a health check that asks /health/ready, serve by default.
user=$(podman image inspect -f '{{.Config.User}}' "$JOKEBOT_IMAGE")
[ "$user" = "10001:10001" ] || fail "image user is '$user', expected 10001:10001"
check=$(podman image inspect -f '{{json .Config.Healthcheck}}' "$JOKEBOT_IMAGE")
case $check in *"jokebot health"*) ;; *) fail "image health check: $check" ;; esac
cmd=$(podman image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$JOKEBOT_IMAGE")
[ "$cmd" = '["jokebot"] ["serve"]' ] || fail "image entrypoint/cmd: $cmd"
tools=$(podman run --rm --entrypoint /bin/sh "$JOKEBOT_IMAGE" \
    -c 'for t in cc gcc cmake; do command -v $t; done; echo checked' 2>> "$work/podman.log")
[ "$tools" = checked ] || fail "the runtime image has build tools (or did not run): $tools"
say "image ok: user $user, no compiler, health check $check"
joke=$(podman run --rm --entrypoint python "$JOKEBOT_IMAGE" -c '
import asyncio
from bot.llm.embedded import EmbeddedChat
from bot.ports import ChatMessage
ask = [ChatMessage("user", "Tell a short joke about cats.")]
print(asyncio.run(EmbeddedChat().complete(ask, max_tokens=24, seed=1)))' 2>> "$work/podman.log") \
    || fail "the embedded model did not answer in the image"
[ -n "$joke" ] || fail "the embedded model answered nothing"
say "embedded model answers in the image: $joke"

health_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export JOKEBOT_ENV_FILE=$work/jokebot.env JOKEBOT_HEALTH_PORT=$health_port
export POSTGRES_PASSWORD="smoke$RANDOM$RANDOM"
cat > "$JOKEBOT_ENV_FILE" <<EOF
SLACK_BOT_TOKEN=xoxb-test
SLACK_SIGNING_SECRET=smoke-signing-secret
SLACK_MOD_CHANNEL=CMOD
SLACK_PUBLIC_CHANNEL=CPUB
SLACK_MODERATORS=U0MOD
SLACK_API_BASE=http://fakeslack:8000/api/
LLM_PROVIDER=openai
OPENAI_BASE_URL=http://127.0.0.1:9/v1
EOF
project=jokebot-smoke
compose=(podman-compose -p "$project" -f deploy/compose.yaml -f tests/container/compose.smoke.yaml)
bot=${project}_bot_1 db=${project}_db_1
clean() {  # containers and volumes of this (or an earlier, interrupted) run
    podman rm -f "${project}_sqlite" "${project}_systemd" > /dev/null 2>&1 || true
    "${compose[@]}" down -v > /dev/null 2>&1 || true
    podman volume rm -f "${project}_pgdata" "${project}_data" > /dev/null 2>&1 || true
}
down() {
    if [ "${KEEP:-0}" = 1 ]; then say "KEEP=1: left running; ${compose[*]} down -v"; return; fi
    clean
    rm -rf "$work"
}
trap down EXIT
clean

say "compose up (bot, db, fakeslack); health on 127.0.0.1:$health_port"
"${compose[@]}" up -d > "$work/up.log" 2>&1 || { cat "$work/up.log"; fail "compose up"; }

healthy() {  # wait until the container's own health check passes
    local name=$1 deadline=$((SECONDS + $2))
    until podman healthcheck run "$name" > /dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { podman logs --tail 40 "$name" >&2; fail "$name not healthy"; }
        sleep 2
    done
}
healthy "$db" 90
healthy "$bot" 180
say "health checks pass: $db, $bot (bot restarts so far: $(podman inspect -f '{{.RestartCount}}' "$bot"))"

ready=$(curl -fsS "http://127.0.0.1:$health_port/health/ready") || fail "/health/ready: $ready"
python3 - "$ready" <<'EOF' || fail "/health/ready body: $ready"
import json, sys
body = json.loads(sys.argv[1])
names = {c["name"] for c in body["checks"]}
assert body["not_ready"] == [] and {"store", "surface:slack", "outbox", "llm"} <= names, body
EOF
say "/health/ready on the host: $ready"

uid=$(podman exec "$bot" id -u)
[ "$uid" = 10001 ] || fail "bot runs as uid $uid"
version=$(podman exec "$db" psql -U jokebot -d jokebot -tAc 'select max(version) from schema_version')
[ -n "$version" ] || fail "no schema_version in PostgreSQL"
say "bot runs as uid $uid; PostgreSQL holds schema version $version"
# (grep -c, not grep -q: an early exit would fail the pipe under pipefail)
[ "$(podman logs "$bot" 2>&1 | grep -c '^{"time"')" -gt 0 ] || fail "no JSON log lines (LOG_FORMAT=json)"

# The health check follows /health/ready, not just liveness: without PostgreSQL it fails.
podman stop "$db" > /dev/null 2>> "$work/podman.log"
deadline=$((SECONDS + 60))
while podman healthcheck run "$bot" > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$bot still healthy 60 s after PostgreSQL stopped"
    sleep 2
done
say "PostgreSQL stopped: $bot unhealthy ($(podman exec "$bot" jokebot health 2>&1 | head -c 300))"
podman start "$db" > /dev/null 2>> "$work/podman.log"
healthy "$db" 90
healthy "$bot" 180
say "PostgreSQL back: $bot healthy again"

# podman (without systemd) complains on stderr that it cannot set up health-check timers.
podman stop -t 30 "$bot" > /dev/null 2>> "$work/podman.log"
code=$(podman inspect -f '{{.State.ExitCode}}' "$bot")
[ "$code" = 143 ] || fail "bot exited $code on SIGTERM, expected 143"
[ "$(podman logs "$bot" 2>&1 | grep -c 'Stopped (SIGTERM)')" -gt 0 ] || fail "no 'Stopped (SIGTERM)' in the log"
say "podman stop: exit $code, Stopped (SIGTERM)"

podman start "$bot" > /dev/null 2>> "$work/podman.log"
healthy "$bot" 120
say "restarted and healthy again on the same database"

# The image alone, on its default SQLite database in the volume, as uid 10001.
network=$(podman inspect -f '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}' "$bot")
solo=${project}_sqlite
podman run -d --name "$solo" --network "$network" --env-file "$JOKEBOT_ENV_FILE" \
    -v "${project}_data:/var/lib/jokebot" "$JOKEBOT_IMAGE" > /dev/null 2>> "$work/podman.log"
healthy "$solo" 120
podman exec "$solo" jokebot backup /var/lib/jokebot/backup.db > /dev/null
podman exec "$solo" ls /var/lib/jokebot/jokebot.db /var/lib/jokebot/backup.db > /dev/null \
    || fail "no SQLite database or backup in the volume"
say "alone on SQLite in its volume: healthy; jokebot backup wrote backup.db"
# deploy/jokebot.service under a real systemd (PID 1 of a container built from the image).
sd=${project}_systemd
say "building the systemd test image (deploy/jokebot.service installed and enabled)"
podman build --quiet --build-arg "JOKEBOT_IMAGE=$JOKEBOT_IMAGE" -f tests/container/systemd.Containerfile \
    -t localhost/jokebot-systemd:smoke . > /dev/null 2>> "$work/podman.log"
podman run -d --name "$sd" --network "$network" --systemd=always localhost/jokebot-systemd:smoke \
    > /dev/null 2>> "$work/podman.log"
unit() { podman exec "$sd" systemctl show jokebot --value -p "$1"; }
unit_ready() {  # the unit active, serve ready, and (optionally) restarted N times
    local deadline=$((SECONDS + 120))
    until [ "$(unit ActiveState)" = active ] && [ "$(unit NRestarts)" = "$1" ] \
        && podman exec "$sd" jokebot health > /dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || {
            podman exec "$sd" journalctl -u jokebot --no-pager -n 30 >&2; fail "unit not ready"; }
        sleep 2
    done
}
unit_ready 0
say "systemd: jokebot.service active, embedded model loaded, /health/ready ready, user $(unit User)"
podman exec "$sd" sh -c "kill -9 $(unit MainPID)"
unit_ready 1
say "systemd: after kill -9, Restart=on-failure started it again"
podman exec "$sd" systemctl stop jokebot
[ "$(unit Result)/$(unit ExecMainStatus)" = success/143 ] \
    || fail "systemctl stop: $(unit Result)/$(unit ExecMainStatus), expected success/143"
podman exec "$sd" sh -c 'cd /var/lib/jokebot && runuser -u jokebot -- \
    /opt/jokebot/.venv/bin/jokebot backup /var/lib/jokebot/before-upgrade.db' > /dev/null
owner=$(podman exec "$sd" stat -c %U /var/lib/jokebot/jokebot.db /var/lib/jokebot/before-upgrade.db)
[ "$(echo $owner)" = "jokebot jokebot" ] || fail "database/backup owners: $owner"
podman exec "$sd" systemctl start jokebot
unit_ready 0  # a manual start resets the restart counter
[ "$(podman exec "$sd" journalctl -u jokebot --no-pager -o cat | grep -c '^{"time"')" -gt 0 ] \
    || fail "no JSON lines in the journal"
exposure=$(podman exec "$sd" systemd-analyze security jokebot --no-pager | tail -1)
say "systemd: stop = success (143), backup as the jokebot user, started again, JSON in the journal"
say "systemd: $exposure"

say "OK"
