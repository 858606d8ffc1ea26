-- pgq.get_batch_cursor(i_batch_id, i_cursor_name, i_quick_limit [, i_extra_where]): open a
-- cursor over a batch's events and return the first rows at once.
--
-- Parameters:
--   i_batch_id     an open batch
--   i_cursor_name  name of the NO SCROLL cursor to declare (not WITH HOLD: call inside a
--                  transaction, FETCH the rest from it, then CLOSE it)
--   i_quick_limit  how many rows to return right away (none if <= 0)
--   i_extra_where  optional raw SQL condition over the event columns, added as is (used for
--                  table filters; the caller is responsible for it)
-- Result: ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4, in ev_id order.
--   A NULL batch, cursor name or limit gives an empty result and no cursor.
-- Errors: those of pgq.batch_event_sql ('batch not found').
-- Writes: nothing.
create or replace function pgq.get_batch_cursor(
  in i_batch_id bigint,
  in i_cursor_name text,
  in i_quick_limit int4,
  in i_extra_where text,
  out ev_id bigint,
  out ev_time timestamptz,
  out ev_txid bigint,
  out ev_retry int4,
  out ev_type text,
  out ev_data text,
  out ev_extra1 text,
  out ev_extra2 text,
  out ev_extra3 text,
  out ev_extra4 text)
returns setof record
language plpgsql
as $$
declare
  v_sql text;
  v_cursor refcursor;
  v_rows integer := 0;
begin
  if i_batch_id is null or i_cursor_name is null or i_quick_limit is null then
    return;
  end if;

  v_sql := pgq.batch_event_sql(i_batch_id);
  if i_extra_where is not null then
    -- batch_event_sql ends with the ordering: filter the union first, then order.
    v_sql := 'select * from ('
      || left(v_sql, length(v_sql) - length(E'\norder by 1'))
      || E'\n) _evs where ' || i_extra_where || E'\norder by 1';
  end if;

  v_cursor := i_cursor_name;
  open v_cursor no scroll for execute v_sql;
  while v_rows < i_quick_limit loop
    fetch v_cursor into ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
                        ev_extra1, ev_extra2, ev_extra3, ev_extra4;
    exit when not found;
    v_rows := v_rows + 1;
    return next;
  end loop;
  return;
end;
$$;

create or replace function pgq.get_batch_cursor(
  in i_batch_id bigint,
  in i_cursor_name text,
  in i_quick_limit int4,
  out ev_id bigint,
  out ev_time timestamptz,
  out ev_txid bigint,
  out ev_retry int4,
  out ev_type text,
  out ev_data text,
  out ev_extra1 text,
  out ev_extra2 text,
  out ev_extra3 text,
  out ev_extra4 text)
returns setof record
language plpgsql
strict
as $$
begin
  return query
    select c.ev_id, c.ev_time, c.ev_txid, c.ev_retry, c.ev_type, c.ev_data,
           c.ev_extra1, c.ev_extra2, c.ev_extra3, c.ev_extra4
      from pgq.get_batch_cursor(i_batch_id, i_cursor_name, i_quick_limit, null) c;
end;
$$;
