{#- pre_hook of the models that join a month's rows to tables of their size. Row estimates
    of typed text columns (and of the rows left once later deliveries are left out) are
    far off, and the planner then sorts millions of wide rows for a merge join that a hash
    join does without sorting: a national month's int_dossiers_classified 37 → 29 s,
    fct_payments 10 → 8 s (the gate runs with the same setting). `set local` ends with the
    model's transaction. -#}
{% macro hash_joins_only() -%}
    set local enable_mergejoin = off
{%- endmacro %}
