-- londiste.execute_start(i_queue_name text, i_file_name text, i_sql text, i_expect_root bool,
--   i_attrs text) → (ret_code int4, ret_note text)
-- londiste.execute_start(i_queue_name, i_file_name, i_sql, i_expect_root) → same, no attrs
--
-- First step of EXECUTE (DDL through the cascade), in the caller's transaction: record the
-- script as applied in this database, by file name, unless it already is. The caller then
-- runs the statements and calls londiste.execute_finish, which sends them on from the root.
--
-- Parameters: i_file_name   - the script's file name (the key: one run per name);
--             i_sql         - its text; i_attrs - its urlencoded attributes (Local-Table=..);
--             i_expect_root - true when the admin command runs it (must be the root),
--                             false when a replica replays the EXECUTE event.
-- Result: 200 'Executing: <file>'; 201 'EXECUTE: "<file>" already applied, skipping';
--   401 'Node is not root node: <queue>'.
-- Errors: an unknown queue raises (pgq_node.is_root_node).
-- Tables written: londiste.applied_execute.
create or replace function londiste.execute_start(
  in i_queue_name text,
  in i_file_name text,
  in i_sql text,
  in i_expect_root boolean,
  in i_attrs text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
declare
  v_is_root boolean := pgq_node.is_root_node(i_queue_name);
begin
  if i_expect_root and not v_is_root then
    ret_code := 401;
    ret_note := 'Node is not root node: ' || i_queue_name;
    return;
  end if;
  insert into londiste.applied_execute (queue_name, execute_file, execute_sql, execute_attrs)
  values (i_queue_name, i_file_name, i_sql, i_attrs)
  on conflict (execute_file) do nothing;
  if not found then
    ret_code := 201;
    ret_note := pg_catalog.format('EXECUTE: "%s" already applied, skipping', i_file_name);
    return;
  end if;
  ret_code := 200;
  ret_note := 'Executing: ' || i_file_name;
end;
$$;

create or replace function londiste.execute_start(
  in i_queue_name text,
  in i_file_name text,
  in i_sql text,
  in i_expect_root boolean,
  out ret_code int4,
  out ret_note text)
returns record
language sql
as $$
  select f.ret_code, f.ret_note
    from londiste.execute_start(i_queue_name, i_file_name, i_sql, i_expect_root, null) f
$$;
