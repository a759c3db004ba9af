{{ config(**period_partitioned_config(periods='rollups')) }}

-- One row per feedback item of a unit's quarter and year to date (the latest month's
-- row of an item delivered more than once), classified again for the whole period by
-- macro feedback_classification.

{{ rolled_items('int_feedback_classified', 'feedback_id', feedback_item_columns(),
                feedback_classification('latest')) }}
