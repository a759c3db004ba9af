#!/usr/bin/env bash
# Server init for the compose stack (docker-entrypoint-initdb.d runs it once, as the
# server's superuser, on an empty data directory). Idempotent, and runnable by hand against
# any PostgreSQL 14+ as a superuser (PGHOST/PGPORT/PGUSER as usual), e.g.
#   set -a; . ./.env; set +a; PGHOST=127.0.0.1 PGUSER=postgres bash docker/init-warehouse.sh
#
# Creates what the stack logs in as, every password from the environment (.env):
#   airflow            owner of database airflow (Airflow's metadata)
#   chiso              owner of database chiso: bootstraps it (`chiso db init`); not a
#                      superuser, cannot create roles; member of the four roles below so it
#                      can hand dbt's tables to chiso_transformer and set its default grants
#   chiso_loader, chiso_transformer, chiso_auditor, bi_reader
#                      the jobs' roles (grants: sql/040_roles.sql, run by `chiso db init`)
set -euo pipefail

required=(AIRFLOW_DB_PASSWORD CHISO_DB_PASSWORD CHISO_LOADER_PASSWORD CHISO_TRANSFORMER_PASSWORD
          CHISO_AUDITOR_PASSWORD CHISO_BI_READER_PASSWORD)
for name in "${required[@]}"; do
    if [[ -z "${!name:-}" ]]; then
        echo "init-warehouse: $name is not set (copy .env.example to .env and fill it in)" >&2
        exit 1
    fi
done

psql_super=(psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}")

"${psql_super[@]}" --dbname "${POSTGRES_DB:-postgres}" \
    -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v chiso_pw="$CHISO_DB_PASSWORD" \
    -v loader_pw="$CHISO_LOADER_PASSWORD" -v transformer_pw="$CHISO_TRANSFORMER_PASSWORD" \
    -v auditor_pw="$CHISO_AUDITOR_PASSWORD" -v bi_pw="$CHISO_BI_READER_PASSWORD" <<'SQL'
select format('create role %I', name)
  from unnest(array['airflow', 'chiso', 'chiso_loader', 'chiso_transformer', 'chiso_auditor',
                    'bi_reader']) as name
 where not exists (select from pg_roles where rolname = name)
\gexec
alter role airflow login nosuperuser nocreatedb nocreaterole password :'airflow_pw';
alter role chiso login nosuperuser nocreatedb nocreaterole password :'chiso_pw';
alter role chiso_loader login nosuperuser nocreatedb nocreaterole password :'loader_pw';
alter role chiso_transformer login nosuperuser nocreatedb nocreaterole password :'transformer_pw';
alter role chiso_auditor login nosuperuser nocreatedb nocreaterole password :'auditor_pw';
alter role bi_reader login nosuperuser nocreatedb nocreaterole password :'bi_pw';
grant chiso_loader, chiso_transformer, chiso_auditor, bi_reader to chiso;

select 'create database airflow owner airflow'
 where not exists (select from pg_database where datname = 'airflow')
\gexec
-- Text collated byte by byte ("C", the code-point order), characters classified as the
-- server's: sorts and joins on text keys at memcmp speed (chiso.warehouse.create_database).
select format('create database chiso owner chiso template template0 encoding %L locale_provider libc'
              ' lc_collate %L lc_ctype %L',
              'UTF8', 'C', datctype)
  from pg_database
 where datname = 'template1' and not exists (select from pg_database where datname = 'chiso')
\gexec
-- Only the owners and the jobs' roles reach each database.
revoke all on database airflow, chiso from public;
grant connect, temporary on database chiso to chiso_loader, chiso_transformer, chiso_auditor;
grant connect on database chiso to bi_reader;
SQL

# PostgreSQL 15+ no longer lets every role create in schema public; on 14, close it.
"${psql_super[@]}" --dbname chiso -c "revoke create on schema public from public"
echo "init-warehouse: roles airflow, chiso, chiso_loader, chiso_transformer, chiso_auditor, bi_reader ready"
