#!/usr/bin/env bash
# services.sh makes sure the PostgreSQL and Redis servers that svcgen's tests
# talk to are up, and says so in one line per service.
#
# For each service, in order:
#   1. already answering?                      -> done
#   2. installed here but stopped?             -> start it
#   3. not installed, root and apt-get found?  -> install, configure, start
#   4. otherwise                               -> exit 1 saying how to start it
#
# Local means PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth,
# databases postgres and test) and Redis on 127.0.0.1:6379. When
# SVCGEN_TEST_PG_URL or SVCGEN_TEST_REDIS_URL point anywhere else, this script
# only checks that the server there answers; it never starts or installs one.
#
# It also makes sure promtool and the Prometheus server are on PATH (the
# generated services' rules, scrape config and dashboards are checked with
# them): installed with apt-get (package prometheus) when root, with the
# package's own service kept stopped, so it neither holds port 9090 nor keeps
# running; otherwise it exits 1 saying how to install them. Set
# SVCGEN_PROMETHEUS_DIR to a folder holding both binaries to use others.
#
# It is idempotent: run it as often as you like.
set -euo pipefail

PG_URL="${SVCGEN_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
REDIS_URL="${SVCGEN_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
WAIT_SECONDS="${SVCGEN_SERVICES_WAIT:-30}"

REDIS_DIR=/var/lib/redis
REDIS_LOG=/var/log/redis/ci.log

say() { echo "services: $*"; }
die() { echo "services: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# url_hostport URL DEFAULT_PORT prints "host port" for a URL such as
# postgres://user:pw@host:5432/db?x=y, redis://[::1]:6379/0 or redis://host.
url_hostport() {
	local rest=${1#*://} port=$2 host
	rest=${rest%%/*}
	rest=${rest%%\?*}
	rest=${rest##*@}
	if [[ $rest == \[* ]]; then # [v6]:port
		host=${rest%%]*}
		host=${host#[}
		rest=${rest#*]}
		[[ $rest == :* ]] && port=${rest#:}
	elif [[ $rest == *:* ]]; then
		host=${rest%%:*}
		port=${rest#*:}
	else
		host=$rest
	fi
	echo "${host:-127.0.0.1} ${port:-$2}"
}

is_loopback() {
	case $1 in 127.0.0.1 | localhost | ::1) return 0 ;; *) return 1 ;; esac
}

# tcp_open HOST PORT succeeds when something accepts a TCP connection there.
tcp_open() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# wait_for SECONDS CMD... retries CMD every half second until it succeeds.
wait_for() {
	local tries=$(($1 * 2))
	shift
	while ((tries-- > 0)); do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}

# ---------------------------------------------------------------- PostgreSQL

pg_up() {
	if [[ $pg_local == yes ]]; then
		if have pg_isready; then
			pg_isready -q -h 127.0.0.1 -p 5432 -t 2
		else
			tcp_open 127.0.0.1 5432
		fi
	elif have pg_isready; then
		pg_isready -q -d "$PG_URL" -t 2
	else
		tcp_open "$pg_host" "$pg_port"
	fi
}

pg_installed() {
	have pg_ctlcluster && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

pg_version() {
	local v
	v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
	[[ -n $v ]] || v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
	echo "$v"
}

pg_start() {
	local v
	v=$(pg_version)
	[[ -n $v ]] || return 1
	pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null
}

# pg_setup runs once after apt-get installed PostgreSQL: it makes sure the
# cluster exists, trusts local connections, and (re)starts the server.
pg_setup() {
	local v
	v=$(pg_version)
	[[ -n $v ]] || return 1
	[[ -d /etc/postgresql/$v/main ]] || pg_createcluster "$v" main >/dev/null
	pg_trust "$v"
	if pg_ctlcluster --skip-systemctl-redirect "$v" main status >/dev/null 2>&1; then
		pg_ctlcluster --skip-systemctl-redirect "$v" main reload >/dev/null
	else
		pg_start
	fi
}

# pg_trust VERSION puts trust rules for local and loopback connections at the
# top of pg_hba.conf (the first matching rule wins). Only done once.
pg_trust() {
	local hba=/etc/postgresql/$1/main/pg_hba.conf
	[[ -w $hba ]] || return 0
	grep -q 'svcgen-test-trust' "$hba" && return 0
	local tmp
	tmp=$(mktemp)
	{
		echo '# svcgen-test-trust: added by svcgen scripts/services.sh for the tests'
		echo 'local   all   all                  trust'
		echo 'host    all   all   127.0.0.1/32   trust'
		echo 'host    all   all   ::1/128        trust'
		cat "$hba"
	} >"$tmp"
	cat "$tmp" >"$hba" # keep the file's owner and mode
	rm -f "$tmp"
}

# pg_test_db creates database "test" when it is missing (local server only).
pg_test_db() {
	have psql || return 0
	local q="SELECT 1 FROM pg_database WHERE datname = 'test'"
	if [[ $(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc "$q" 2>/dev/null) != 1 ]]; then
		psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qc 'CREATE DATABASE test' >/dev/null 2>&1 ||
			echo "services: warning: could not create database test on 127.0.0.1:5432" >&2
	fi
}

pg_help() {
	cat >&2 <<EOF
services: PostgreSQL is not reachable at $pg_host:$pg_port.
  Start it (Debian/Ubuntu, as root):
    pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
  or install it first: apt-get install -y postgresql
  (trust auth for 127.0.0.1 in pg_hba.conf; databases postgres and test), or run
    docker run -d -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15
  To use a server elsewhere, set SVCGEN_TEST_PG_URL, e.g.
    SVCGEN_TEST_PG_URL='postgres://user:pw@host:5432/postgres?sslmode=disable'
EOF
	exit 1
}

# --------------------------------------------------------------------- Redis

redis_up() {
	if have redis-cli; then
		if [[ $redis_local == yes ]]; then
			[[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]
		else
			[[ $(redis-cli -u "$REDIS_URL" ping 2>/dev/null) == PONG ]]
		fi
	else
		tcp_open "$redis_host" "$redis_port"
	fi
}

redis_installed() { have redis-server; }
redis_setup() { redis_up || redis_start; }

redis_start() {
	mkdir -p "$REDIS_DIR" "$(dirname "$REDIS_LOG")"
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
		--save "" --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_LOG" >/dev/null
}

redis_help() {
	cat >&2 <<EOF
services: Redis is not reachable at $redis_host:$redis_port.
  Start it (Debian/Ubuntu):
    mkdir -p $REDIS_DIR $(dirname "$REDIS_LOG")
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir $REDIS_DIR --logfile $REDIS_LOG
  or install it first: apt-get install -y redis-server
  or run: docker run -d -p 127.0.0.1:6379:6379 redis:7
  To use a server elsewhere, set SVCGEN_TEST_REDIS_URL, e.g.
    SVCGEN_TEST_REDIS_URL='redis://:pw@host:6379/0'
EOF
	exit 1
}

# ------------------------------------------------------------------- install

installed_pkgs=no

# apt_install installs both servers once, whichever is missing.
apt_install() {
	[[ $installed_pkgs == yes ]] && return 0
	[[ $(id -u) == 0 ]] && have apt-get || return 1
	echo "services: installing postgresql and redis-server with apt-get ..." >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq postgresql redis-server >/dev/null
	installed_pkgs=yes
}

# ensure NAME LABEL LOCAL WHERE: the order described at the top, for one
# service whose functions are NAME_up, NAME_installed, NAME_start, NAME_setup
# and NAME_help.
ensure() {
	local name=$1 label=$2 local=$3 where=$4 how
	if "${name}_up"; then
		how="already running"
		[[ $local == yes ]] || how="reachable"
	elif [[ $local != yes ]]; then
		"${name}_help"
	elif "${name}_installed"; then
		"${name}_start" || true
		how="started"
	elif apt_install && "${name}_installed"; then
		"${name}_setup" || true
		how="installed and started"
	else
		"${name}_help"
	fi
	if [[ $how == *started ]] && ! wait_for "$WAIT_SECONDS" "${name}_up"; then
		echo "services: $label did not answer within ${WAIT_SECONDS}s after start" >&2
		"${name}_help"
	fi
	say "$label ok at $where ($how)"
}

read -r pg_host pg_port < <(url_hostport "$PG_URL" 5432)
read -r redis_host redis_port < <(url_hostport "$REDIS_URL" 6379)
pg_local=no
redis_local=no
is_loopback "$pg_host" && [[ $pg_port == 5432 ]] && pg_local=yes
is_loopback "$redis_host" && [[ $redis_port == 6379 ]] && redis_local=yes

ensure pg PostgreSQL "$pg_local" "$pg_host:$pg_port"
[[ $pg_local == yes ]] && pg_test_db
ensure redis Redis "$redis_local" "$redis_host:$redis_port"

# ---------------------------------------------------------------- Prometheus

prom_help() {
	cat >&2 <<EOF
services: promtool and prometheus are not on PATH (svcgen's tests check the
  generated rules with promtool and scrape a generated service with a real
  Prometheus server). Install them (Debian/Ubuntu, as root):
    apt-get update && apt-get install -y prometheus
    (then stop the daemon the package started: service prometheus stop)
  or download both from https://prometheus.io/download/ and put them on PATH,
  or set SVCGEN_PROMETHEUS_DIR to the folder that holds them.
EOF
	exit 1
}

# prom_install installs the Debian package without letting its maintainer
# scripts start the daemon (a policy-rc.d answering 101 "action forbidden",
# removed afterwards), and disables the service if systemd enabled it.
prom_install() {
	[[ $(id -u) == 0 ]] && have apt-get || return 1
	echo "services: installing prometheus (promtool and server) with apt-get ..." >&2
	export DEBIAN_FRONTEND=noninteractive
	local policy=/usr/sbin/policy-rc.d own_policy=no
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=yes
	fi
	apt-get update -qq >/dev/null
	if ! apt-get install -y -qq --no-install-recommends prometheus >/dev/null; then
		[[ $own_policy == yes ]] && rm -f "$policy"
		return 1
	fi
	[[ $own_policy == yes ]] && rm -f "$policy"
	if have systemctl && [[ -d /run/systemd/system ]]; then
		systemctl disable --now prometheus >/dev/null 2>&1 || true
	elif [[ -x /etc/init.d/prometheus ]]; then
		/etc/init.d/prometheus stop >/dev/null 2>&1 || true
	fi
	return 0
}

if [[ -n ${SVCGEN_PROMETHEUS_DIR:-} ]]; then
	export PATH="$SVCGEN_PROMETHEUS_DIR:$PATH"
fi
if have promtool && have prometheus; then
	say "Prometheus ok ($(command -v prometheus), already installed)"
elif prom_install && have promtool && have prometheus; then
	say "Prometheus ok ($(command -v prometheus), installed)"
else
	prom_help
fi
