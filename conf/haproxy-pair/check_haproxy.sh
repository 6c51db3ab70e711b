#!/bin/sh
# check_haproxy.sh -- keepvip track script: is an HAProxy process running in THIS network namespace?
# Exit 0 if one is, 1 if none is. Installed as /etc/keepvip/check_haproxy.sh (root-owned, 0755).
#
# Why not just `killall -0 haproxy` or `pidof haproxy`: network namespaces (containers, test labs) share
# the PID namespace with the host, so those also count an HAProxy that runs in another namespace and
# would keep this node's priority up while its own HAProxy is dead. Keep only the PIDs whose network
# namespace is ours (the same inode as /proc/self/ns/net).
own=$(readlink /proc/self/ns/net) || exit 1
for pid in $(pidof haproxy); do
    # The process may exit between pidof and readlink: then readlink prints nothing and it does not count.
    if [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "$own" ]; then
        exit 0
    fi
done
exit 1
