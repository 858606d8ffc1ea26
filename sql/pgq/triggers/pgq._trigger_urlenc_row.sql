-- pgq._trigger_urlenc_row(i_names text[], i_vals text[], i_skip boolean[]) → text
--
-- One row in the urlencoded form of logutriga's ev_data (and of the `backup` ev_extra2):
-- `col=val&col2&col3=...`, columns in attnum order, a NULL written as the bare name, names
-- and values encoded by pgq._urlencode().
--
-- Parameters: i_names - column names; i_vals - their text values (same order);
--   i_skip - true for columns to leave out (NULL array or element = keep).
-- Result: the encoded row; '' when every column is left out.
-- Tables written: none.
create or replace function pgq._trigger_urlenc_row(i_names text[], i_vals text[], i_skip boolean[])
returns text
language plpgsql
immutable
as $$
declare
  v_result text := '';
  v_sep text := '';
  v_name text;
  v_val text;
begin
  for i in 1 .. coalesce(pg_catalog.cardinality(i_names), 0) loop
    continue when i_skip[i];
    v_name := i_names[i];
    v_val := i_vals[i];
    if v_name !~ '^[A-Za-z0-9._-]+$' then
      v_name := pgq._urlencode(v_name);
    end if;
    if v_val is null then
      v_result := v_result || v_sep || v_name;
    elsif v_val ~ '^[A-Za-z0-9._-]*$' then
      v_result := v_result || v_sep || v_name || '=' || v_val;
    else
      v_result := v_result || v_sep || v_name || '=' || pgq._urlencode(v_val);
    end if;
    v_sep := '&';
  end loop;
  return v_result;
end;
$$;
