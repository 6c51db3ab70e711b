#!/bin/sh
# notify.sh -- keepvip notify script: append one timestamped line per transition to a log file.
# Installed as /etc/keepvip/notify.sh (root-owned, 0755).
#
# Usage: notify.sh [--log FILE] ARGS...        (default FILE: /var/log/keepvip-notify.log)
#
# The instance's generic `notify` key runs it with keepalived's four arguments appended, e.g.
#   notify.sh INSTANCE VI_HAPROXY MASTER 101
# and keepvip also sets KEEPVIP_FROM_STATE, KEEPVIP_REASON, KEEPVIP_VIPS (and more) in its environment.
# keepvip runs one notification per instance at a time, in transition order, and kills one that takes
# longer than notify_timeout, so keep this quick: no network calls here.
log=/var/log/keepvip-notify.log
if [ "${1:-}" = "--log" ]; then
    log=$2
    shift 2
fi
printf '%s %s from=%s reason=%s\n' "$(date '+%Y-%m-%dT%H:%M:%S.%3N%z')" "$*" \
    "${KEEPVIP_FROM_STATE:-?}" "${KEEPVIP_REASON:-?}" >> "$log"
