-- pgbench's own capacity (bench/pgbench_load.py): a statement that does no work.
SELECT 1;
