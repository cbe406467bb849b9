#!/usr/bin/env bash
# Installs, when missing, what `make run` or the tests need:
#   scripts/deps.sh run    Debian's redis-server and dovecot-imapd, and
#                          Mailpit built from source into var/bin/mailpit
#   scripts/deps.sh test   the same, chromium for the browser tests and
#                          dovecot-submissiond for the SMTP TLS tests
#                          (the default)
# Safe to run again: what is there is left alone. One line per thing;
# apt-get and go output only when they fail.
set -euo pipefail

case ${1:-test} in
run) packages=(redis-server dovecot-imapd) ;;
test) packages=(redis-server dovecot-imapd dovecot-submissiond chromium) ;;
*)
	echo "usage: $0 [run|test]" >&2
	exit 2
	;;
esac

MAILPIT_MODULE=github.com/axllent/mailpit
MAILPIT_VERSION=v1.33.1 # keep in step with internal/testservers/mailpit.go

cd "$(dirname "$0")/.."
ROOT=$PWD
status=0

say() { echo "deps: $*"; }

# --- Debian packages -------------------------------------------------------

have_redis() { command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ]; }
# dovecot-core alone has the master but no IMAP service.
have_dovecot() {
	{ command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ]; } && [ -x /usr/lib/dovecot/imap ]
}
# Dovecot's submission service, which the SMTP TLS tests send through.
have_submission() { [ -x /usr/lib/dovecot/submission ]; }
have_chromium() {
	[ -n "${OUTREACH_CHROMIUM:-}" ] && [ -x "$OUTREACH_CHROMIUM" ] && return 0
	[ -x /usr/bin/chromium ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null
}

missing=()
for pkg in "${packages[@]}"; do
	case $pkg in
	redis-server) check=have_redis ;;
	dovecot-imapd) check=have_dovecot ;;
	dovecot-submissiond) check=have_submission ;;
	chromium) check=have_chromium ;;
	esac
	if $check; then
		say "$pkg present"
	else
		missing+=("$pkg")
	fi
done

# policy-rc.d exiting 101 tells invoke-rc.d not to start services: the
# packages' own servers would take 6379/143/993, and the tests and
# dev-services.sh run their own. Ours is put in place only when none already
# denies starts, and removed on exit.
POLICY=/usr/sbin/policy-rc.d
policy_ours=""
policy_backup=""
deny_service_starts() {
	if [ -x "$POLICY" ]; then
		local rc=0
		"$POLICY" dovecot start >/dev/null 2>&1 || rc=$?
		[ "$rc" = 101 ] && return 0
		policy_backup=$POLICY.outreach-deps.bak
		$SUDO mv "$POLICY" "$policy_backup"
	fi
	printf '#!/bin/sh\n# Written by scripts/deps.sh while it installs packages.\nexit 101\n' |
		$SUDO tee "$POLICY" >/dev/null
	$SUDO chmod 755 "$POLICY"
	policy_ours=1
}
restore_policy() {
	if [ -n "$policy_ours" ]; then
		$SUDO rm -f "$POLICY"
		[ -n "$policy_backup" ] && $SUDO mv "$policy_backup" "$POLICY"
		policy_ours=""
	fi
	return 0
}

system_dovecot_running() {
	[ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null
}

if [ ${#missing[@]} -gt 0 ]; then
	SUDO=""
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			SUDO="sudo -n"
		elif command -v sudo >/dev/null && [ -t 0 ]; then
			SUDO="sudo"
		else
			say "missing ${missing[*]}: as root, run: apt-get install -y ${missing[*]}" >&2
			status=1
		fi
	fi
	if [ "$status" = 0 ] && ! command -v apt-get >/dev/null; then
		say "missing ${missing[*]} and no apt-get here: install them with the system's package manager" >&2
		status=1
	fi
	if [ "$status" = 0 ]; then
		log=$(mktemp "${TMPDIR:-/tmp}/outreach-deps-apt.XXXXXX")
		dovecot_before=no
		system_dovecot_running && dovecot_before=yes
		trap 'restore_policy' EXIT
		trap 'restore_policy; exit 130' INT TERM
		deny_service_starts
		say "installing ${missing[*]} with apt-get (about half a minute)..."
		# $SUDO is split on purpose ("sudo -n"). The lock timeout waits for
		# another apt-get or unattended-upgrades instead of failing.
		# shellcheck disable=SC2206
		apt=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
		if ! "${apt[@]}" update >"$log" 2>&1 || ! "${apt[@]}" install "${missing[@]}" >>"$log" 2>&1; then
			tail -n 30 "$log" >&2
			say "apt-get failed (full log: $log)" >&2
			exit 1
		fi
		restore_policy
		rm -f "$log"
		# Belt and braces for init systems that ignore policy-rc.d: a system
		# Dovecot started by the install would hold ports 143 and 993.
		if [ "$dovecot_before" = no ] && system_dovecot_running; then
			if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
				$SUDO systemctl stop dovecot.service dovecot.socket >/dev/null 2>&1 || true
			fi
			system_dovecot_running && $SUDO kill "$(cat /run/dovecot/master.pid)" 2>/dev/null || true
			say "stopped the system dovecot service the install started"
		fi
		for pkg in "${missing[@]}"; do
			say "$pkg installed"
		done
	fi
fi

# --- Mailpit, built from source ----------------------------------------------

if [ -n "${OUTREACH_MAILPIT:-}" ]; then
	if [ -x "$OUTREACH_MAILPIT" ]; then
		say "mailpit present ($OUTREACH_MAILPIT, from OUTREACH_MAILPIT)"
	else
		say "OUTREACH_MAILPIT=$OUTREACH_MAILPIT is not an executable file" >&2
		status=1
	fi
else
	bindir=$ROOT/var/bin
	mkdir -p "$bindir"
	# The same lock as internal/testservers: test binaries of several
	# packages may want to build it at the same moment.
	exec 9>"$bindir/.mailpit.lock"
	if command -v flock >/dev/null; then flock 9; fi
	if [ -x "$bindir/mailpit" ]; then
		say "mailpit present (var/bin/mailpit)"
	elif ! command -v go >/dev/null; then
		say "mailpit missing and no go command to build it: install Go first" >&2
		status=1
	else
		say "building mailpit $MAILPIT_VERSION (once; a minute or two)..."
		start=$SECONDS
		tmp=$(mktemp -d "$bindir/.build-XXXXXX")
		log=$tmp.log
		# Into a scratch GOBIN first: the final rename is atomic.
		if CGO_ENABLED=0 GOBIN=$tmp go install "$MAILPIT_MODULE@$MAILPIT_VERSION" >"$log" 2>&1; then
			mv "$tmp/mailpit" "$bindir/mailpit"
			rm -rf "$tmp" "$log"
			say "mailpit installed (var/bin/mailpit, $((SECONDS - start)) s)"
		else
			tail -n 30 "$log" >&2
			rm -rf "$tmp"
			say "building mailpit failed (log: $log)" >&2
			status=1
		fi
	fi
	exec 9>&-
fi

exit "$status"
