-- pgq.jsontriga() → trigger
--
-- Row trigger that queues every INSERT/UPDATE/DELETE (and, as a statement trigger, TRUNCATE)
-- of its table as JSON:
--   ev_type   `{"op":"INSERT","table":["schema","table"],"pkey":["id"]}` (op UPDATE, DELETE,
--             TRUNCATE);
--   ev_data   the row as a JSON object (bool, int2/4/8 as JSON values, date/timestamp/
--             timestamptz as ISO strings in the session time zone, anything else as the
--             string of its text output), `{}` for TRUNCATE;
--   ev_extra1 `schema.table`; ev_extra2 the old row as JSON with `backup` on UPDATE.
--
-- Usage: CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON tbl FOR EACH ROW
--        EXECUTE FUNCTION pgq.jsontriga('queue' [, args...]);
--        CREATE TRIGGER ... AFTER TRUNCATE ON tbl FOR EACH STATEMENT
--        EXECUTE FUNCTION pgq.jsontriga('queue' [, 'deny']);
-- Arguments after the queue name: SKIP (BEFORE trigger: queue the event, drop the row
-- change), ignore=col1,col2, pkey=col1,col2, backup, deny, when=EXPR, ev_type=EXPR,
-- ev_data=EXPR, ev_extra1..4=EXPR. Does nothing when session_replication_role = local.
-- The work is done by pgq._trigger_event(); see there for the rules and errors.
--
-- Result: NEW (OLD for a delete), or NULL with SKIP.
-- Tables written: the queue's event table, through pgq.insert_event.
create or replace function pgq.jsontriga()
returns trigger
language plpgsql
as $$
begin
  if pgq._trigger_event('jsontriga', TG_OP, TG_WHEN, TG_LEVEL, TG_RELID, TG_TABLE_SCHEMA,
                        TG_TABLE_NAME, TG_ARGV, NEW, OLD) then
    return null;
  elsif TG_OP = 'DELETE' then
    return OLD;
  end if;
  return NEW;
end;
$$;
