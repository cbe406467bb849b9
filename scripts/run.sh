#!/usr/bin/env bash
# `make run`: try outreach on this machine with nothing reaching a real
# mayor. Starts a Redis of its own, Mailpit as the SMTP server and
# Dovecot as the campaign mailbox (scripts/dev-services.sh), imports the
# twinning table and the example contacts into var/, starts `outreach run`
# (scheduler, worker and reply poller) in the background, sends a first wave
# (the Canadian campaigns) and says where to look, and how to put a reply
# into the mailbox. Safe to run again: imports change nothing the second
# time and the first wave is sent once.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin/outreach}
export OUTREACH_STORE_PATH=${OUTREACH_STORE_PATH:-var/outreach.db}
# Mailpit from dev-services.sh; no rate limit worth waiting for on a trial.
export OUTREACH_SMTP_HOST=127.0.0.1 OUTREACH_SMTP_PORT=${OUTREACH_DEV_SMTP_PORT:-1025} OUTREACH_SMTP_TLS=none
# Redis of its own under var/ (dev-services.sh), apart from any system Redis.
export OUTREACH_REDIS_ADDR=127.0.0.1:${OUTREACH_DEV_REDIS_PORT:-16379}
export OUTREACH_SENDING_PER_MINUTE=${OUTREACH_SENDING_PER_MINUTE:-600}
export OUTREACH_SENDING_PER_DOMAIN_PER_MINUTE=${OUTREACH_SENDING_PER_DOMAIN_PER_MINUTE:-60}
export OUTREACH_SENDING_SCHEDULER_INTERVAL=2s
# The supporters' pages, served by `outreach run`.
export OUTREACH_WEB_LISTEN=${OUTREACH_WEB_LISTEN:-127.0.0.1:8080}
export OUTREACH_WEB_BASE_URL=${OUTREACH_WEB_BASE_URL:-http://$OUTREACH_WEB_LISTEN}

# What running needs; the browser is for tests only.
scripts/deps.sh run
scripts/dev-services.sh start
mkdir -p var

# The reply poller reads the Dovecot mailbox dev-services.sh started; when
# Dovecot could not start, the poller is off (an empty imap.host).
dovecot_pid=$(cat var/dovecot/dovecot.pid 2>/dev/null || true)
if [ -n "$dovecot_pid" ] && kill -0 "$dovecot_pid" 2>/dev/null; then
	export OUTREACH_IMAP_HOST=127.0.0.1 OUTREACH_IMAP_PORT=${OUTREACH_DEV_IMAP_PORT:-10143} OUTREACH_IMAP_TLS=none
	export OUTREACH_IMAP_USERNAME=campaign OUTREACH_IMAP_PASSWORD=campaign-dev
	imap=on
else
	export OUTREACH_IMAP_HOST=
	imap=off
fi

# The same settings for commands typed in another shell (". var/outreach.env"):
# without them a command would look for Redis on 6379, not this trial's.
env | grep '^OUTREACH_' | sort | sed "s/^\([A-Z_0-9]*\)=\(.*\)$/export \1='\2'/" >var/outreach.env

"$BIN" import cities config/sister-cities.csv
"$BIN" import contacts config/contacts.example.csv

# A staff account for the web UI, made once for this trial.
staff_note="log in with the account made before (set a new password: $BIN staff passwd staff@outreach.example)"
if ! "$BIN" staff list | grep -q .; then
	pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-16)
	echo "$pw" | "$BIN" staff add staff@outreach.example >/dev/null
	staff_note="log in as staff@outreach.example with the password $pw (made for this trial; shown once)"
fi

# outreach run: scheduler, worker, web server and reply poller in one
# process, in the background.
pidfile=var/outreach.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	echo "outreach run: already running (pid $(cat "$pidfile"))"
else
	setsid "$BIN" run </dev/null >>var/outreach.log 2>&1 &
	echo $! >"$pidfile"
	echo "outreach run: started (pid $!), log var/outreach.log"
fi

if "$BIN" wave status 1 >/dev/null 2>&1; then
	echo "the first wave was sent before: outreach wave status 1"
else
	"$BIN" wave create --name "First wave: Canada" --country Canada --start
fi
"$BIN" wave status 1 --wait

echo
"$BIN" status --country Canada
cat <<EOT

The letters are in Mailpit, which kept them all (nothing left this machine):
  $(cat var/mailpit/where 2>/dev/null || echo "http://127.0.0.1:8025")
Staff:   $OUTREACH_WEB_BASE_URL/   $staff_note
Public:  $OUTREACH_WEB_BASE_URL/status   (the campaign status table, with CSV and JSON)
Sign:    $OUTREACH_WEB_BASE_URL/act/1   (a supporter's page; the confirmation mail lands in Mailpit)
Shell:   . var/outreach.env   (this trial's settings, for the commands you type in another shell)
More:    $BIN wave list | $BIN letter list --wave 1 | $BIN preview --city Montreal | $BIN doctor
EOT
if [ "$imap" = on ]; then
	montreal=$("$BIN" letter list --wave 1 | awk '$2 == "maire@montreal.example" { print $1 }')
	cat <<EOT

Replies: the poller reads the development mailbox (Dovecot, $(cat var/dovecot/where 2>/dev/null)).
Put the answer of Montreal's office into it, and see its campaigns' response date recorded:
  $BIN dev reply --letter ${montreal:-w1-t17}      (--auto: an out-of-office; --bounce: a bounce)
  $BIN replies list
  $BIN status --country Canada
EOT
else
	echo
	echo "Replies: the poller is off, Dovecot did not start (see above)."
fi
cat <<EOT
Stop:    make stop   (outreach run and the services started here)
EOT
