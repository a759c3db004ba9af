{{ config(materialized='view') }}

-- Every dossier of a unit's quarter and year to date, one by one: the rows of the
-- period's months (the latest month's row when a dossier was delivered in more than
-- one) classified again for the whole period by macro dossier_classification. What
-- criterion_lineage lists for rollups, and the check of the month-by-month rollup state
-- (int_dossiers_rollup_parts + int_dossiers_rolled): a view, computed when read.

{{ rolled_items('int_dossiers_classified', 'dossier_id', dossier_item_columns(),
                dossier_classification('latest'), scoped=false,
                earlier_links=true) }}
