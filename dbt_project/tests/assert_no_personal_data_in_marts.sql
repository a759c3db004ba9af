-- DESIGN §6: no personal data in marts; the pseudonymised applicant reference stays
-- in raw and staging.
select
    table_name,
    column_name
from information_schema.columns
where
    table_schema = '{{ target.schema }}'
    and column_name like '%applicant%'
