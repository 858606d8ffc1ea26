-- londiste.set_session_replication_role(val text, is_local boolean) → void
--
-- Set session_replication_role for the caller, who need not be a superuser: the replay
-- worker runs as 'replica' (triggers stay silent), EXECUTE as 'local'. SECURITY DEFINER, so
-- only the three values below are possible.
--
-- Parameters: val      - 'origin', 'replica' or 'local';
--             is_local - true: until the end of the transaction (SET LOCAL); else the session.
-- Errors: 'bad value for session_replication_role' for any other value (NULL too).
-- Tables written: none.
create or replace function londiste.set_session_replication_role(val text, is_local boolean)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if val is null or val not in ('origin', 'replica', 'local') then
    raise exception 'bad value for session_replication_role'
      using detail = pg_catalog.format('value: %s', coalesce(pg_catalog.quote_literal(val), 'NULL')),
            hint = 'use origin, replica or local';
  end if;
  perform pg_catalog.set_config('session_replication_role', val, coalesce(is_local, false));
end;
$$;
