{{ config(materialized='view', meta={'period_scoped': true}) }}

-- For an auditor: every dossier, procedure and feedback item counted in a
-- criterion's denominator, whether it is in the numerator, and the file and row it
-- came from. Built from the same flags as int_criterion_counts (macro
-- criterion_items), so per unit, period and criterion the counts here equal
-- criterion_scores.numerator / denominator.
{{ criterion_lineage_rows() }}
