#!/usr/bin/env bash
# pg-fingerprint.sh HOST_OR_SOCKETDIR [PORT]
#
# Prints a version-independent fingerprint of a running cluster's contents, one line per object,
# so two clusters (e.g. an original and a copy, or an import+export, of its PGDATA) can be
# compared with diff. Uses Debian's psql 15, which talks to servers 14..17 (pg_dump 15 refuses
# servers >= 16, so this is the comparison that covers every version).
#
#   cluster|database|NAME|encoding|collate|ctype|tablespace
#   cluster|tablespace|NAME|relations:N             (user tablespaces; N over all databases)
#   cluster|prepared|GID|database|owner|xid         (pg_prepared_xacts)
#   db|schema.table|KIND PERSISTENCE|tablespace|rows|md5 of the rows in ctid order
#                                                   (tables, unlogged tables, matviews)
#   db|schema.seq|S|last_value|is_called
#   db|index|schema.index|tablespace|md5(indexdef)
#   db|largeobject|oid|md5(lo_get)
#   db|schema|md5 of (relname, relkind, relpersistence, columns) of all non-catalog relations
#
# ctid order makes the check strict: rows must sit at the same physical place (true for a
# byte-level copy or import of a PGDATA). Knobs:
#   FP_ORDER=content            compare contents only (rows ordered by their md5)
#   FP_SKIP=word,word           leave out: prepared (the prepared-transaction lines),
#                               unlogged (contents of unlogged tables: rows/md5 become "-"),
#                               tablespace (tablespace names and the tablespace lines)
#   FP_USER=postgres            role to connect as
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
H=${1:?usage: $0 HOST_OR_SOCKETDIR [PORT]} P=${2:-5432}
CLIENTBIN=$("$HERE/pg-install.sh" --client)
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGPASSWORD PGOPTIONS 2>/dev/null || true
PSQL=("$CLIENTBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$H" -p "$P" -U "${FP_USER:-postgres}")
ORDER=${FP_ORDER:-ctid}
SKIP=",${FP_SKIP:-},"
case "$ORDER" in ctid|content) ;; *) echo "FP_ORDER must be ctid or content" >&2; exit 2 ;; esac
skip() { case "$SKIP" in *",$1,"*) echo true ;; *) echo false ;; esac; }
SKIP_PREPARED=$(skip prepared) SKIP_UNLOGGED=$(skip unlogged) SKIP_TS=$(skip tablespace)

# -- cluster-wide
"${PSQL[@]}" -d postgres <<EOF
SELECT 'cluster|database|' || d.datname || '|' || pg_encoding_to_char(d.encoding) || '|' ||
       d.datcollate || '|' || d.datctype ||
       CASE WHEN $SKIP_TS THEN '' ELSE '|' || t.spcname END
FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace ORDER BY d.datname;
SELECT 'cluster|prepared|' || gid || '|' || database || '|' || owner || '|' || transaction::text
FROM pg_prepared_xacts WHERE NOT $SKIP_PREPARED ORDER BY gid;
EOF

DBS=$("${PSQL[@]}" -d postgres -c "SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1")
# relations per user tablespace, summed over all databases (a relation that moved to another
# tablespace, or lost its files there, shows up here and in the per-relation lines)
if [ "$SKIP_TS" = false ]; then
  declare -A TSCOUNT=()
  for db in $DBS; do
    while IFS='|' read -r ts n; do
      [ -n "$ts" ] && TSCOUNT[$ts]=$(( ${TSCOUNT[$ts]:-0} + n ))
    done < <("${PSQL[@]}" -d "$db" -c "
      SELECT t.spcname, count(c.oid) FROM pg_tablespace t
      LEFT JOIN pg_class c ON c.reltablespace = t.oid
      WHERE t.spcname NOT IN ('pg_default', 'pg_global') GROUP BY 1")
  done
  for ts in "${!TSCOUNT[@]}"; do echo "cluster|tablespace|$ts|relations:${TSCOUNT[$ts]}"; done | LC_ALL=C sort
fi

# -- per database
for db in $DBS; do
  "${PSQL[@]}" -d "$db" <<EOF
SELECT '$db|' || n.nspname || '.' || c.relname || '|' || c.relkind::text || c.relpersistence::text ||
       CASE WHEN $SKIP_TS THEN '' ELSE '|' || coalesce(t.spcname, 'default') END || '|' ||
       CASE WHEN $SKIP_UNLOGGED AND c.relpersistence = 'u' THEN '-|-' ELSE
         (xpath('/row/n/text()', x))[1]::text || '|' || coalesce((xpath('/row/h/text()', x))[1]::text, '-')
       END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace,
     LATERAL query_to_xml(format(
       'SELECT count(*) AS n, md5(string_agg(md5(t::text), '''' ORDER BY %s)) AS h FROM %I.%I t',
       CASE WHEN '$ORDER' = 'ctid' AND c.relkind = 'r' THEN 't.ctid' ELSE 'md5(t::text)' END,
       n.nspname, c.relname), false, true, '') AS x
WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND (c.relkind <> 'm' OR c.relispopulated)
ORDER BY 1;
SELECT '$db|' || n.nspname || '.' || c.relname || '|S|' ||
       (xpath('/row/l/text()', x))[1]::text || '|' || (xpath('/row/c/text()', x))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
     LATERAL query_to_xml(format('SELECT last_value AS l, is_called AS c FROM %I.%I', n.nspname, c.relname),
                          false, true, '') AS x
WHERE c.relkind = 'S' ORDER BY 1;
SELECT '$db|index|' || i.schemaname || '.' || i.indexname ||
       CASE WHEN $SKIP_TS THEN '' ELSE '|' || coalesce(i.tablespace, 'default') END || '|' || md5(i.indexdef)
FROM pg_indexes i WHERE i.schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1;
SELECT '$db|largeobject|' || oid || '|' || md5(lo_get(oid)) FROM pg_largeobject_metadata ORDER BY oid;
SELECT '$db|schema|' || md5(string_agg(format('%s.%s:%s%s:%s', n.nspname, c.relname, c.relkind, c.relpersistence,
         (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)), ';'
         ORDER BY n.nspname, c.relname))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');
EOF
done
