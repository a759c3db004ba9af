{{ config(**period_partitioned_config(indexes=[])) }}

-- The deliveries of a dossier after its first in the same batch (file order), which
-- int_dossiers_classified leaves out so a dossier counts once. A key delivered twice is a
-- gate error (ho_so.dossier_id_unique quarantines the batch), so only batches the gate
-- has not found unique are read: normally none, and the table is empty. Deduplicating
-- every batch inside the classification sorted a month's dossiers, every column of them,
-- for nothing (a national month: 41 s → 31 s); a planner that knows this table is small
-- leaves the classification's plan alone.

with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

gate_results as (
    select * from {{ ref('stg_audit__expectation_results') }}
    where expectation = 'ho_so.dossier_id_unique'
),

-- a batch without that rule's passing result, or with a failing one, is read
unverified_batches as (
    select batches.batch_id
    from batches
    left join gate_results
        on batches.batch_id = gate_results.batch_id
    group by batches.batch_id
    having not coalesce(bool_and(gate_results.success), false)
),

dossiers as not materialized (
    select
        batch_id,
        period,
        dossier_id,
        source_file,
        source_row
    from {{ ref('stg_submissions__ho_so') }}
    where
        dossier_id is not null
        and {{ period_filter() }}
        and batch_id in (select unverified_batches.batch_id from unverified_batches)
),

repeated_keys as (
    select
        batch_id,
        dossier_id
    from dossiers
    group by batch_id, dossier_id
    having count(*) > 1
),

deliveries as (
    select
        dossiers.*,
        row_number() over (
            partition by dossiers.batch_id, dossiers.dossier_id
            order by dossiers.source_file, dossiers.source_row
        ) as delivery_no
    from dossiers
    inner join repeated_keys
        on
            dossiers.batch_id = repeated_keys.batch_id
            and dossiers.dossier_id = repeated_keys.dossier_id
)

select
    batch_id,
    period,
    dossier_id,
    source_file,
    source_row,
    delivery_no
from deliveries
where delivery_no > 1
