--
-- pg_autolauncher GUCs: names, contexts, defaults, units and ranges.
--
SELECT name, setting, unit, context, vartype, min_val, max_val, boot_val
  FROM pg_settings
 WHERE name LIKE 'pg\_autolauncher.%'
 ORDER BY name;

-- The prefix is reserved: no stray pg_autolauncher.* settings.
SET pg_autolauncher.no_such_setting = 1;

-- SIGHUP and POSTMASTER settings cannot be changed in a session.
SET pg_autolauncher.naptime = '10s';
SET pg_autolauncher.max_workers = 2;
SET pg_autolauncher.enabled = off;
SET pg_autolauncher.worker_slots = 4;

-- Values are validated, with their units, before they reach the config file.
ALTER SYSTEM SET pg_autolauncher.worker_slots = 0;
ALTER SYSTEM SET pg_autolauncher.worker_slots = 257;
ALTER SYSTEM SET pg_autolauncher.max_workers = 0;
ALTER SYSTEM SET pg_autolauncher.max_workers = -3;
ALTER SYSTEM SET pg_autolauncher.naptime = 0;
ALTER SYSTEM SET pg_autolauncher.naptime = '1 year';
ALTER SYSTEM SET pg_autolauncher.naptime = 'soon';
ALTER SYSTEM SET pg_autolauncher.enabled = 'perhaps';
ALTER SYSTEM SET pg_autolauncher.max_databases = 8;
ALTER SYSTEM SET pg_autolauncher.check_interval = '50ms';
ALTER SYSTEM SET pg_autolauncher.check_interval = '2h';
ALTER SYSTEM SET pg_autolauncher.max_visit_interval = 0;
ALTER SYSTEM SET pg_autolauncher.max_workers_per_database = -1;
ALTER SYSTEM SET pg_autolauncher.max_workers_per_database = 1000;

-- Valid values are accepted, in any unit.
ALTER SYSTEM SET pg_autolauncher.naptime = '2min';
ALTER SYSTEM SET pg_autolauncher.check_interval = '0.5s';
ALTER SYSTEM SET pg_autolauncher.max_visit_interval = '1h';
ALTER SYSTEM RESET ALL;
