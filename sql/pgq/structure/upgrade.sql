-- Bring an existing installation up to this version: roles, column changes. Runs after the
-- functions are in place; pgq.upgrade_schema() does only what is still missing.
select pgq.upgrade_schema();

-- Generate pgq.insert_event (7 arguments) and pgq.insert_event_raw for the queues that exist,
-- now that every helper the generator calls is in place.
select pgq._generate_insert_functions();
