-- Bring an existing installation up to this version: roles, column changes. Runs after the
-- functions are in place; pgq.upgrade_schema() does only what is still missing.
select pgq.upgrade_schema();
