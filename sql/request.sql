--
-- autolauncher.request() and autolauncher.wakeup(): input checks,
-- privileges, and a real dispatch.
--

-- bad input gets a clear error
SELECT autolauncher.request(NULL);
SELECT autolauncher.request('');
SELECT autolauncher.request('no_such_database');
SELECT autolauncher.request(repeat('x', 100));
SELECT autolauncher.request('café "quoted" name');
-- control characters, format directives, a multi-byte name cut at 63 bytes
SELECT autolauncher.request(E'tab\there\nnewline');
SELECT autolauncher.request('%s%n%x\');
SELECT autolauncher.request(repeat('é', 40));

-- only superusers, unless granted
CREATE ROLE regress_autolauncher_user;
SET ROLE regress_autolauncher_user;
SELECT autolauncher.request(current_database());
SELECT autolauncher.wakeup();
SELECT count(*) FROM autolauncher.status;
RESET ROLE;

-- the documented GRANT path
GRANT EXECUTE ON FUNCTION autolauncher.wakeup() TO regress_autolauncher_user;
SET ROLE regress_autolauncher_user;
SELECT autolauncher.wakeup();
RESET ROLE;
REVOKE ALL ON FUNCTION autolauncher.wakeup() FROM regress_autolauncher_user;
DROP ROLE regress_autolauncher_user;

-- a real request works even though pg_autolauncher.enabled is off
CREATE TABLE request_target (v int);
INSERT INTO request_target SELECT generate_series(1, 5000);
DELETE FROM request_target;
SELECT autolauncher.request(current_database()) BETWEEN 0 AND 7 AS got_slot;

-- wait, with a bound, for the worker to finish and free its slot
DO $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN (SELECT count(*) = 0 FROM autolauncher.workers
                    WHERE state <> 'free');
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT count(*) AS busy_slots FROM autolauncher.workers WHERE state <> 'free';
SELECT workers_launched >= 1 AS launched,
       workers_launched = workers_finished + worker_failures AS accounted
  FROM autolauncher.status;
SELECT dispatch_count >= 1 AS dispatched, last_finished_at IS NOT NULL AS finished
  FROM autolauncher.databases WHERE datname = current_database();

DROP TABLE request_target;
