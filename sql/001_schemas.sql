-- Warehouse layers (DESIGN §4). Idempotent: run at every `chiso` bootstrap.
create schema if not exists raw;          -- as-delivered rows, owned by the loader
create schema if not exists ref;          -- reference data: administrative units, crosswalk
create schema if not exists audit;        -- gate results, rule violations, run log
create schema if not exists staging;      -- dbt views: typed, renamed
create schema if not exists intermediate; -- dbt: business rules, not exposed to BI
create schema if not exists marts;        -- dbt: facts, dims and the contract tables of DESIGN §5
