-- Planner costs for the storage the warehouse runs on (SSD-class: a random page read
-- costs about a sequential one). At PostgreSQL's default random_page_cost of 4, meant for
-- spinning disks, a month's models read whole multi-month tables to find that month's rows;
-- at 1.1 they use the (period, …) indexes, whose order follows the load order, so a
-- month's cost stays flat as history grows. New sessions pick it up.
do $$
begin
    execute format('alter database %I set random_page_cost = 1.1', current_database());
exception when insufficient_privilege then
    raise notice 'random_page_cost left at the server''s setting: only the database owner can set it';
end
$$;
