#!/usr/bin/env bash
# Starts, stops and shows the services `make run` uses on one machine:
#   Redis    127.0.0.1:16379, a server of its own (never a system Redis on
#            6379, whose data may be someone else's), in memory only
#   Mailpit  SMTP 127.0.0.1:1025, web UI and API http://127.0.0.1:8025
#   Dovecot  IMAP 127.0.0.1:10143, no TLS, user campaign / campaign-dev
# State, logs and pidfiles live under var/; var/*/where says where each
# service this script started listens. `stop` stops only what this
# script started; Redis's directory (var/redis) goes with it, and its keys
# with the server, since it never writes them to disk. Ports can be moved
# with OUTREACH_DEV_REDIS_PORT, OUTREACH_DEV_SMTP_PORT,
# OUTREACH_DEV_MAILPIT_HTTP_PORT and OUTREACH_DEV_IMAP_PORT.
#
# Usage: dev-services.sh start|stop|status [redis|mailpit|dovecot]...
# (all three when none is named).
#
# Exit status: 0 when Redis and Mailpit run (Dovecot is optional: when it
# cannot start, one line says so and the caller decides); 1 otherwise.
# `status` exits 3 when any service is down.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
VAR=$ROOT/var

REDIS_PORT=${OUTREACH_DEV_REDIS_PORT:-16379}
SMTP_PORT=${OUTREACH_DEV_SMTP_PORT:-1025}
MAILPIT_HTTP_PORT=${OUTREACH_DEV_MAILPIT_HTTP_PORT:-8025}
IMAP_PORT=${OUTREACH_DEV_IMAP_PORT:-10143}
IMAP_USER=campaign
IMAP_PASSWORD=campaign-dev
MAILPIT=${OUTREACH_MAILPIT:-$VAR/bin/mailpit}

REDIS_DIR=$VAR/redis
MAILPIT_DIR=$VAR/mailpit
DOVECOT_DIR=$VAR/dovecot

say() { echo "$*"; }

# --- helpers ------------------------------------------------------------------

# pid_of NAME PIDFILE: prints the pid if the file names a live process whose
# command line mentions NAME (a stale file may name a recycled pid).
pid_of() {
	local pid
	[ -f "$2" ] || return 1
	pid=$(cat "$2" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$1" || return 1
	echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The probes below talk through bash's /dev/tcp, so that no client (curl,
# redis-cli) is needed; each runs in a subshell that owns its descriptor.
redis_ping() (
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf 'PING\r\n' >&3
	IFS= read -r -t 2 line <&3 || exit 1
	[ "${line%$'\r'}" = "+PONG" ]
)

http_ok() ( # port path
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
	IFS= read -r -t 2 line <&3 || exit 1
	[[ $line == HTTP/1.?" 200"* ]]
)

imap_ready() (
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	IFS= read -r -t 2 line <&3 || exit 1
	# Right after start the greeting says "Waiting for authentication
	# process to respond"; a login then fails.
	[[ $line == "* OK"*ready* ]]
)

# wait_for SECONDS PID COMMAND...: polls COMMAND until it succeeds, PID dies
# or the time is up.
wait_for() {
	local deadline=$((SECONDS + $1)) pid=$2
	shift 2
	until "$@" 2>/dev/null; do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
		sleep 0.1
	done
}

show_log() { # file...
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "--- $f" >&2
		tail -n 20 "$f" >&2
	done
}

stop_pid() { # name pidfile
	local pid i
	pid=$(pid_of "$1" "$2") || { rm -f "$2"; return 1; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$2"
}

# --- Redis --------------------------------------------------------------------

start_redis() {
	local pidfile=$REDIS_DIR/redis.pid pid
	if pid=$(pid_of redis-server "$pidfile"); then
		say "redis: already running (pid $pid) on $(cat "$REDIS_DIR/where")"
		return 0
	fi
	# Someone else's server, Redis or not, is never used: its data would
	# mix with ours, and `stop` could not take ours away.
	if port_open "$REDIS_PORT"; then
		say "redis: 127.0.0.1:$REDIS_PORT is taken by another program; set OUTREACH_DEV_REDIS_PORT" >&2
		return 1
	fi
	local bin
	bin=$(command -v redis-server || echo /usr/bin/redis-server)
	if [ ! -x "$bin" ]; then
		say "redis: redis-server not installed; run make deps (scripts/deps.sh)" >&2
		return 1
	fi
	mkdir -p "$REDIS_DIR"
	rm -f "$pidfile"
	# No persistence: dev queues are disposable, like the machine's own Redis.
	if ! "$bin" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$REDIS_DIR" --daemonize yes --pidfile "$pidfile" \
		--logfile "$REDIS_DIR/redis.log" >"$REDIS_DIR/redis.out" 2>&1 ||
		! wait_for 10 "" redis_ping "$REDIS_PORT"; then
		say "redis: did not start on 127.0.0.1:$REDIS_PORT" >&2
		show_log "$REDIS_DIR/redis.out" "$REDIS_DIR/redis.log"
		return 1
	fi
	echo "127.0.0.1:$REDIS_PORT" >"$REDIS_DIR/where"
	say "redis: started (pid $(cat "$pidfile")) on 127.0.0.1:$REDIS_PORT, log var/redis/redis.log"
}

# --- Mailpit ------------------------------------------------------------------

start_mailpit() {
	local pidfile=$MAILPIT_DIR/mailpit.pid pid
	if pid=$(pid_of mailpit "$pidfile"); then
		say "mailpit: already running (pid $pid), $(cat "$MAILPIT_DIR/where")"
		return 0
	fi
	if [ ! -x "$MAILPIT" ]; then
		say "mailpit: $MAILPIT missing; run make deps (scripts/deps.sh)" >&2
		return 1
	fi
	local p
	for p in "$SMTP_PORT" "$MAILPIT_HTTP_PORT"; do
		if port_open "$p"; then
			say "mailpit: 127.0.0.1:$p is taken; set OUTREACH_DEV_SMTP_PORT / OUTREACH_DEV_MAILPIT_HTTP_PORT" >&2
			return 1
		fi
	done
	mkdir -p "$MAILPIT_DIR"
	# setsid: the server outlives the make that started it, and ^C there.
	# --max 0 keeps every letter (the default prunes to the newest 500).
	# MP_* variables would reconfigure it behind our back.
	# shellcheck disable=SC2046
	env $(env | sed -n 's/^\(MP_[A-Za-z0-9_]*\)=.*/-u \1/p') \
		setsid "$MAILPIT" \
		--smtp "127.0.0.1:$SMTP_PORT" \
		--listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
		--database "$MAILPIT_DIR/mailpit.db" \
		--log-file "$MAILPIT_DIR/mailpit.log" \
		--max 0 \
		--smtp-auth-accept-any --smtp-auth-allow-insecure \
		--smtp-disable-rdns --disable-version-check \
		</dev/null >"$MAILPIT_DIR/mailpit.out" 2>&1 &
	pid=$!
	echo "$pid" >"$pidfile"
	if ! wait_for 30 "$pid" http_ok "$MAILPIT_HTTP_PORT" /readyz || ! wait_for 10 "$pid" port_open "$SMTP_PORT"; then
		say "mailpit: did not start" >&2
		show_log "$MAILPIT_DIR/mailpit.out" "$MAILPIT_DIR/mailpit.log"
		stop_pid mailpit "$pidfile" || true
		return 1
	fi
	echo "SMTP 127.0.0.1:$SMTP_PORT, UI http://127.0.0.1:$MAILPIT_HTTP_PORT" >"$MAILPIT_DIR/where"
	say "mailpit: started (pid $pid), SMTP 127.0.0.1:$SMTP_PORT, UI http://127.0.0.1:$MAILPIT_HTTP_PORT, log var/mailpit/mailpit.log"
}

# --- Dovecot ------------------------------------------------------------------

# write_dovecot_conf: a complete configuration, nothing read from
# /etc/dovecot (whose ports 143/993 and TLS settings must not leak in). Kept
# close to the one internal/testservers writes for tests.
write_dovecot_conf() {
	local run=$DOVECOT_DIR/run
	# Unix socket paths are limited to 108 bytes; a deep checkout would
	# overflow them, so the sockets then go to a short private directory.
	if [ ${#run} -gt 60 ]; then
		run=${TMPDIR:-/tmp}/outreach-dovecot-$(printf %s "$ROOT" | md5sum | cut -c1-8)
	fi
	mkdir -p "$run"
	local users
	if [ "$(id -u)" = 0 ]; then
		users="mail_uid = nobody
mail_gid = $(id -gn nobody)"
	else
		users="default_internal_user = $(id -un)
default_internal_group = $(id -gn)
default_login_user = $(id -un)"
	fi
	local nochroot=""
	[ "$(id -u)" = 0 ] || nochroot="  chroot ="
	printf '%s:{PLAIN}%s\n' "$IMAP_USER" "$IMAP_PASSWORD" >"$DOVECOT_DIR/passwd"
	chmod 644 "$DOVECOT_DIR/passwd"
	cat >"$DOVECOT_DIR/dovecot.conf" <<EOF
# Generated by scripts/dev-services.sh; edits are overwritten at start.
protocols = imap
listen = 127.0.0.1
base_dir = $run
state_dir = $DOVECOT_DIR/state
log_path = $DOVECOT_DIR/dovecot.log
instance_name = outreach-dev
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
mail_location = mdbox:~/mdbox
first_valid_uid = 1
$users
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 2 secs

namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVECOT_DIR/passwd
}
userdb {
  driver = static
  args = home=$DOVECOT_DIR/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
$nochroot
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
$nochroot
}
EOF
}

dovecot_unavailable() {
	say "dovecot: not available ($*); IMAP on 127.0.0.1:$IMAP_PORT is off"
	return 0
}

start_dovecot() {
	local pidfile=$DOVECOT_DIR/dovecot.pid pid
	if pid=$(pid_of dovecot "$pidfile"); then
		say "dovecot: already running (pid $pid), $(cat "$DOVECOT_DIR/where")"
		return 0
	fi
	local bin
	bin=$(command -v dovecot || echo /usr/sbin/dovecot)
	if [ ! -x "$bin" ] || [ ! -x /usr/lib/dovecot/imap ]; then
		dovecot_unavailable "dovecot-imapd not installed; run make deps"
		return 0
	fi
	if port_open "$IMAP_PORT"; then
		dovecot_unavailable "127.0.0.1:$IMAP_PORT is taken; set OUTREACH_DEV_IMAP_PORT"
		return 0
	fi
	mkdir -p "$DOVECOT_DIR/mail" "$DOVECOT_DIR/state"
	# Dovecot's unprivileged processes must read the configuration and,
	# as root, the mail belongs to nobody, who must reach it.
	chmod 755 "$VAR" "$DOVECOT_DIR"
	if [ "$(id -u)" = 0 ]; then
		chown "nobody:$(id -gn nobody)" "$DOVECOT_DIR/mail"
		if command -v runuser >/dev/null &&
			! runuser -u nobody -- test -w "$DOVECOT_DIR/mail" 2>/dev/null; then
			dovecot_unavailable "user nobody cannot reach $DOVECOT_DIR/mail: a parent directory is private"
			return 0
		fi
	fi
	write_dovecot_conf
	# -F keeps the master in the foreground, so its pid is the one we
	# record; setsid detaches it from make and ^C.
	setsid "$bin" -F -c "$DOVECOT_DIR/dovecot.conf" </dev/null >"$DOVECOT_DIR/dovecot.out" 2>&1 &
	pid=$!
	echo "$pid" >"$pidfile"
	if ! wait_for 30 "$pid" imap_ready "$IMAP_PORT"; then
		show_log "$DOVECOT_DIR/dovecot.out" "$DOVECOT_DIR/dovecot.log"
		stop_pid dovecot "$pidfile" || true
		dovecot_unavailable "it did not start; log above"
		return 0
	fi
	echo "IMAP 127.0.0.1:$IMAP_PORT, user $IMAP_USER / $IMAP_PASSWORD" >"$DOVECOT_DIR/where"
	say "dovecot: started (pid $pid), IMAP 127.0.0.1:$IMAP_PORT, user $IMAP_USER / $IMAP_PASSWORD, log var/dovecot/dovecot.log"
}

# --- commands -----------------------------------------------------------------

# services: the names given after the command, or all three.
services() {
	if [ $# -eq 0 ]; then
		echo redis mailpit dovecot
		return
	fi
	echo "$@"
}

cmd_start() {
	local rc=0 s
	for s in $(services "$@"); do
		case $s in
		redis) start_redis || rc=1 ;;
		mailpit) start_mailpit || rc=1 ;;
		dovecot) start_dovecot ;;
		esac
	done
	return "$rc"
}

stop_redis() {
	if stop_pid redis-server "$REDIS_DIR/redis.pid"; then
		say "redis: stopped; its keys are gone with it"
	else
		say "redis: was not running (from this script)"
	fi
	# Its log, pidfile and address: nothing of it is left (it never
	# wrote its keys to disk).
	rm -rf "$REDIS_DIR"
}

cmd_stop() {
	local s
	for s in $(services "$@"); do
		case $s in
		redis) stop_redis ;;
		mailpit) stop_pid mailpit "$MAILPIT_DIR/mailpit.pid" && say "mailpit: stopped" || say "mailpit: was not running (from this script)" ;;
		dovecot) stop_pid dovecot "$DOVECOT_DIR/dovecot.pid" && say "dovecot: stopped" || say "dovecot: was not running (from this script)" ;;
		esac
	done
	return 0
}

cmd_status() {
	local rc=0 pid s
	for s in $(services "$@"); do
		case $s in
		redis)
			if pid=$(pid_of redis-server "$REDIS_DIR/redis.pid"); then
				say "redis: running (pid $pid) on $(cat "$REDIS_DIR/where"), log var/redis/redis.log"
			else
				say "redis: not running (127.0.0.1:$REDIS_PORT)"
				rc=3
			fi
			;;
		mailpit)
			if pid=$(pid_of mailpit "$MAILPIT_DIR/mailpit.pid"); then
				say "mailpit: running (pid $pid), $(cat "$MAILPIT_DIR/where"), log var/mailpit/mailpit.log"
			else
				say "mailpit: not running"
				rc=3
			fi
			;;
		dovecot)
			if pid=$(pid_of dovecot "$DOVECOT_DIR/dovecot.pid"); then
				say "dovecot: running (pid $pid), $(cat "$DOVECOT_DIR/where"), log var/dovecot/dovecot.log"
			else
				say "dovecot: not running"
				rc=3
			fi
			;;
		esac
	done
	return "$rc"
}

command=${1:-}
[ $# -gt 0 ] && shift
for s in "$@"; do
	case $s in
	redis | mailpit | dovecot) ;;
	*)
		echo "$0: unknown service $s (redis, mailpit, dovecot)" >&2
		exit 2
		;;
	esac
done
case $command in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status "$@" ;;
*)
	echo "usage: $0 start|stop|status [redis|mailpit|dovecot]..." >&2
	exit 2
	;;
esac
