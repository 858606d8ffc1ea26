-- Bring an existing installation up to this version: roles, column changes. Runs after the
-- functions are in place; pgq.upgrade_schema() does only what is still missing.
select pgq.upgrade_schema();

-- Generate the insert functions again now that every helper they call is the new version
-- (functions/ loads in name order, so the first generation may still see an older helper).
select pgq._generate_insert_functions();
