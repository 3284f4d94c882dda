# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Ordinary HTTP servers and clients in the topology of topology.sh (sourced by it): nginx at a
# site, answering on the service addresses with the site's name, and curl in the client as a
# bounded, paced loop of requests, each logged with the time it finished. Used by
# tests/integration/test-tcp-recovery.sh and bench/bench-e2e.sh failover-tcp (issue 16).

# dt_nginx_start SITE: one nginx process in the foreground (dt_spawn: stopped by dt_topo_down),
# answering every request with "SITE " on port 80 of the service addresses; its files under the
# site's directory.
dt_nginx_start() {
	local site=$1 d=$DT_WORK/$1/nginx
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	keepalive_requests 100000;
	keepalive_timeout 60s;
	server {
		listen $DT_SERVICE_V4:80;
		listen [$DT_SERVICE_V6]:80;
		location / { return 200 "$site "; }
	}
}
EOF
	dt_spawn "nginx-$site" "$site" nginx -p "$d" -c "$d/nginx.conf"
}

dt_nginx_serving() { dt_in "$1" ss -Hltn "sport = :80" | grep -q LISTEN; } # SITE

# dt_nginx_all: nginx at every site, listening (or the script dies).
dt_nginx_all() {
	local site
	command -v nginx >/dev/null || dt_die "nginx is not installed (scripts/setup.sh installs it)"
	for site in $DT_SITES; do dt_nginx_start "$site"; done
	for site in $DT_SITES; do
		dt_wait_until 5000 dt_nginx_serving "$site" || dt_die "site $site: nginx did not listen"
	done
}

# dt_curl_client NAME URL-HOST keepalive|close RATE REQUESTS: REQUESTS requests in one curl
# process in the client, in the background, paced at RATE a second, each with a 2 s limit (longer
# than the retransmission timers a lost segment costs), the whole bounded by 60 s. One line per
# request in $DT_WORK/NAME.log: "MONO_NS SITE HTTP_CODE CURL_EXIT" (SITE "-" when nothing was
# answered; MONO_NS: CLOCK_MONOTONIC when the line arrived). The pid to wait for is in
# $DT_WORK/client-NAME.pid.
dt_curl_client() {
	local name=$1 host=$2 mode=$3 rate=$4 requests=$5 extra=()
	[ "$mode" = close ] && extra=(-H "Connection: close")
	dt_in client timeout 60 stdbuf -oL curl -s --rate "$rate/s" --connect-timeout 2 \
		--max-time 2 "${extra[@]}" -w ' %{http_code} %{exitcode}\n' \
		"http://$host/[1-$requests]" 2>/dev/null |
		python3 -u -c '
import sys, time
for line in sys.stdin:
    f = line.split()
    if len(f) == 3:
        print(time.monotonic_ns(), f[0], f[1], f[2])
    elif len(f) == 2:
        print(time.monotonic_ns(), "-", f[0], f[1])
' >"$DT_WORK/$name.log" &
	echo $! >"$DT_WORK/client-$name.pid"
}

# dt_tcp_gap_ms LOG: the longest time between two successful responses in a dt_curl_client log.
dt_tcp_gap_ms() {
	awk '$3 == 200 { if (last && $1 - last > g) g = $1 - last; last = $1 } END { printf "%d\n", g / 1000000 }' \
		"$1"
}
