# A temporary PostgreSQL server for scripts (source this file): Debian's binaries, initdb in a
# temporary directory, as the unprivileged postgres user when run as root, listening on a free
# loopback port. pg_temp_start DIR starts it (sets PG_PORT); pg_temp_url DB prints a URL;
# pg_temp_psql DB SQL runs a statement (unaligned, tuples only); pg_temp_stop stops it.
pg_temp_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_temp_as=()

pg_temp_start() {
  [ -n "$pg_temp_bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; return 69; }
  mkdir -p "$1"
  # Absolute: the server's socket and lock files go there, and it runs in its data directory.
  pg_temp_dir=$(cd "$1" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    pg_temp_as=(setpriv --reuid=postgres --regid=postgres --init-groups)
    chmod 755 "$(dirname "$pg_temp_dir")"
    chown postgres:postgres "$pg_temp_dir"
  fi
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${pg_temp_as[@]}" "$pg_temp_bin/initdb" -D "$pg_temp_dir/data" -U i2x -A trust -E UTF8 --no-instructions >/dev/null
  "${pg_temp_as[@]}" "$pg_temp_bin/pg_ctl" -D "$pg_temp_dir/data" -l "$pg_temp_dir/log" -w \
    -o "-p $PG_PORT -k $pg_temp_dir -c listen_addresses=127.0.0.1" start >/dev/null
}

pg_temp_url() { echo "postgresql://i2x@127.0.0.1:$PG_PORT/$1"; }

pg_temp_psql() { "$pg_temp_bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U i2x -d "$1" -Atq -c "$2"; }

pg_temp_stop() {
  [ -n "${pg_temp_dir:-}" ] && "${pg_temp_as[@]}" "$pg_temp_bin/pg_ctl" -D "$pg_temp_dir/data" -m fast stop \
    >/dev/null 2>&1 || true
}
