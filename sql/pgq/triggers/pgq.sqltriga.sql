-- pgq.sqltriga() → trigger
--
-- Row trigger that queues every INSERT/UPDATE/DELETE (and, as a statement trigger, TRUNCATE)
-- of its table as partial SQL:
--   ev_type   `I`, `U`, `D`, `R`;
--   ev_data   INSERT `(col,col2) values ('1',null)`; UPDATE `col='v',col2=NULL where pk='1'`
--             (changed columns only; none changed → the first key column); DELETE
--             `pk='1' and pk2='x'`; TRUNCATE ''. Identifiers quoted only when needed,
--             values as quote_literal() gives them;
--   ev_extra1 `schema.table`; ev_extra2 the urlencoded old row with `backup` on UPDATE.
--
-- Usage: CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ON tbl FOR EACH ROW
--        EXECUTE FUNCTION pgq.sqltriga('queue' [, args...]);
--        CREATE TRIGGER ... AFTER TRUNCATE ON tbl FOR EACH STATEMENT
--        EXECUTE FUNCTION pgq.sqltriga('queue' [, 'deny']);
-- Arguments after the queue name: SKIP (BEFORE trigger: queue the event, drop the row
-- change), ignore=col1,col2, pkey=col1,col2, backup, deny, when=EXPR, ev_type=EXPR,
-- ev_data=EXPR, ev_extra1..4=EXPR. Does nothing when session_replication_role = local.
-- The work is done by pgq._trigger_event(); see there for the rules and errors.
--
-- Result: NEW (OLD for a delete), or NULL with SKIP.
-- Tables written: the queue's event table, through pgq.insert_event.
create or replace function pgq.sqltriga()
returns trigger
language plpgsql
as $$
begin
  if pgq._trigger_event('sqltriga', TG_OP, TG_WHEN, TG_LEVEL, TG_RELID, TG_TABLE_SCHEMA,
                        TG_TABLE_NAME, TG_ARGV, NEW, OLD) then
    return null;
  elsif TG_OP = 'DELETE' then
    return OLD;
  end if;
  return NEW;
end;
$$;
