{{ config(**period_incremental_config()) }}

-- One row per dossier of a unit's quarter and year to date: the dossiers of the
-- period's months (the latest month's row when a dossier was delivered in more than
-- one), classified again for the whole period by macro dossier_classification, so
-- "received in the period" and "still within its deadline" are judged at the
-- quarter's or year's end, as the portal counts them.

{{ rolled_items('int_dossiers_classified', 'dossier_id', dossier_item_columns(),
                dossier_classification('latest')) }}
