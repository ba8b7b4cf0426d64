# Sourced by the benchmarks: start nginx on 127.0.0.1 serving WORK/www.
#   start_nginx WORK [EXTRA]   EXTRA: more nginx config inside http { } (e.g. a TLS server)
# Sets nginx_pid, port and url (http://127.0.0.1:PORT). Kill $nginx_pid to stop it.
start_nginx() {
  local work="$1" extra="${2:-}"
  mkdir -p "$work/www" "$work/logs"
  port="$(shuf -i 20000-60000 -n 1)"  # nginx cannot take port 0; a clash fails loudly below
  cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on; tcp_nopush on; autoindex on;  # rclone's http backend lists directories
  client_body_temp_path $work/logs; proxy_temp_path $work/logs; fastcgi_temp_path $work/logs;
  uwsgi_temp_path $work/logs; scgi_temp_path $work/logs;
  server { listen 127.0.0.1:$port; root $work/www; }
  $extra
}
CONF
  nginx -c "$work/nginx.conf" -p "$work" &
  nginx_pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 50); do curl -s -o /dev/null "$url/" && return 0; sleep 0.1; done
  echo "nginx did not start on port $port: $(cat "$work/logs/error.log")" >&2
  return 1
}
