-- pgq._generate_insert_functions() → void
--
-- Writes the hot path of pgq.insert_event (7 args) and pgq.insert_event_raw: one static INSERT
-- per data table of every queue, so that producing an event runs cached plans instead of
-- building and planning a dynamic INSERT on every call, and no read of pgq.queue at all.
-- Called by create_queue and drop_queue in their transaction, and by the installer;
-- serialized by an advisory lock so concurrent callers do not update the same pg_proc rows.
--
-- The generated code, per call:
--   1. a binary search on the queue name (the first comparison also takes the transaction's
--      txid);
--   2. nextval of that queue's event sequence: the event id; then, only while pgqd's wake-up
--      flag pgq.ticker_wakeup is set, pgq._ticker_wakeup (a NOTIFY at commit);
--   3. the queue's current table from pgq._insert_slot_<queue_id>(), one small SQL function
--      per queue returning the queue's slot (queue_id * 65536 + queue_cur_table), or NULL
--      unless a plain insert is allowed (inserts enabled, no per-transaction limit). The
--      trigger on pgq.queue rewrites it in the same transaction as any change of those columns
--      (pgq._queue_insert_slot_trigger). The planner inlines it, so each comparison with a
--      table's slot is a constant of a cached expression plan;
--   4. the INSERT into that table.
-- Anything else (an unknown queue, a NULL slot, a table the code does not know) goes to
-- pgq._insert_event_general with the id already taken.
--
-- Why the slot is never stale where it matters: a change to a slot function invalidates every
-- cached plan that inlined it, and a backend acts on invalidations whenever it takes a lock
-- it did not hold yet. The txid comes first, then nextval, whose first call in a transaction
-- locks the sequence; so the slot read next is as fresh as the moment after the txid was
-- taken. A table switch (maint_rotate_tables_step1) not seen then is published after that
-- moment, and step 2, which waits for step 1 to end (an advisory lock), takes a larger txid:
-- readers look at both tables for this transaction. This is the same rule the general path
-- keeps by reading pgq.queue after taking the txid (pgq._insert_target), without the read. A
-- transaction that took ids from the queue's event sequence itself before it had a txid does
-- not get that lock at its first event; produce only through the pgq functions.
--
-- The generated insert_event is SECURITY DEFINER, as upstream's, but does not pin search_path:
-- the GUC change it costs on every call was a tenth of the whole insert. It is safe without it
-- because the generated text names every relation, function, type and operator with its
-- schema (`operator(pg_catalog.=)`), so nothing on the caller's search_path can stand in
-- (test/pgq/insert-hot-path.test.ts checks this with a hostile search_path).
--
-- A pgq.insert_event (7 args) that this generator did not write (a site replaced it, see
-- docs/pgq.md) is kept, here as in create_queue, drop_queue and the installer; the others are
-- still written, so the site's function can call pgq.insert_event_raw for any queue.
--
-- Tables written: none (replaces functions; drops slot functions of queues that are gone).
create or replace function pgq._generate_insert_functions()
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  v_names text[];
  v_blocks text[];
  v_gone regprocedure;
  v_event_values constant text :=
    'pg_catalog.now(), pg_catalog.txid_current(), null, null, insert_event.ev_type,'
    ' insert_event.ev_data, insert_event.ev_extra1, insert_event.ev_extra2,'
    ' insert_event.ev_extra3, insert_event.ev_extra4';
  v_raw_values constant text :=
    'coalesce(insert_event_raw.ev_time, pg_catalog.now()),'
    ' pg_catalog.txid_current(), insert_event_raw.ev_owner, insert_event_raw.ev_retry,'
    ' insert_event_raw.ev_type, insert_event_raw.ev_data, insert_event_raw.ev_extra1,'
    ' insert_event_raw.ev_extra2, insert_event_raw.ev_extra3, insert_event_raw.ev_extra4';
begin
  perform pg_advisory_xact_lock(hashtext('pgq._generate_insert_functions'));

  perform pgq._write_insert_slot(q.queue_id, q.queue_cur_table, q.queue_disable_insert,
                                 q.queue_per_tx_limit)
     from pgq.queue q;

  -- Names in byte order: the search compares them with ~<~.
  select coalesce(array_agg(q.queue_name order by q.queue_name collate "C"), '{}'),
         coalesce(array_agg(pgq._insert_queue_block(q.queue_id, q.queue_event_seq,
                                                    q.queue_data_pfx, q.queue_ntables)
                            order by q.queue_name collate "C"), '{}')
    into v_names, v_blocks
    from pgq.queue q;

  -- A site may replace pgq.insert_event (7 args) with its own, to watch or reroute events
  -- (upstream's own tests do): keep it. Only a function this generator wrote is rewritten.
  if exists (select 1 from pg_proc p
              where p.oid = to_regprocedure('pgq.insert_event(text,text,text,text,text,text,text)')
                and strpos(p.prosrc, '-- Generated by pgq._generate_insert_functions()') = 0) then
    raise notice 'pgq.insert_event(text, text, text, text, text, text, text) is not the generated one: kept'
      using hint = 'drop it and call pgq._generate_insert_functions() to get the generated one back';
  else
  execute format($def$
create or replace function pgq.insert_event(
  queue_name text, ev_type text, ev_data text,
  ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
language plpgsql
security definer
as %L$def$,
    pgq._insert_function_source(
      'pgq._insert_event_general(insert_event.queue_name, null, pg_catalog.now(), null, null,'
      ' insert_event.ev_type, insert_event.ev_data, insert_event.ev_extra1,'
      ' insert_event.ev_extra2, insert_event.ev_extra3, insert_event.ev_extra4, v_id)',
      pgq._insert_name_tree(
        'insert_event.queue_name', v_names,
        array(select replace(replace(replace(b, '%VALUES%', v_event_values), '%ID%', 'v_id'),
                             '%QUEUE%', 'insert_event.queue_name')
                from unnest(v_blocks) with ordinality u(b, n) order by n),
        1, cardinality(v_names), 'pg_catalog.txid_current() is not null and ')));
  end if;

  execute format($def$
create or replace function pgq.insert_event_raw(
  queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer, ev_retry integer,
  ev_type text, ev_data text, ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
language plpgsql
as %L$def$,
    pgq._insert_function_source(
      'pgq._insert_event_general(insert_event_raw.queue_name, insert_event_raw.ev_id,'
      ' insert_event_raw.ev_time, insert_event_raw.ev_owner, insert_event_raw.ev_retry,'
      ' insert_event_raw.ev_type, insert_event_raw.ev_data, insert_event_raw.ev_extra1,'
      ' insert_event_raw.ev_extra2, insert_event_raw.ev_extra3, insert_event_raw.ev_extra4, v_id)',
      pgq._insert_name_tree(
        'insert_event_raw.queue_name', v_names,
        array(select replace(replace(replace(b, '%VALUES%', v_raw_values),
                                     '%ID%', 'coalesce(insert_event_raw.ev_id, v_id)'),
                             '%QUEUE%', 'insert_event_raw.queue_name')
                from unnest(v_blocks) with ordinality u(b, n) order by n),
        1, cardinality(v_names), 'pg_catalog.txid_current() is not null and ')));

  -- Slot functions of dropped queues: nothing refers to them any more.
  for v_gone in
    select p.oid::regprocedure
      from pg_proc p
     where p.pronamespace = 'pgq'::regnamespace
       and p.proname ~ '^_insert_slot_[0-9]+$'
       and not exists (select 1 from pgq.queue q
                        where p.proname = '_insert_slot_' || q.queue_id::text)
  loop
    execute format('drop function %s', v_gone);
  end loop;
end;
$$;

-- pgq._write_insert_slot(i_queue_id, i_cur_table, i_disable_insert, i_per_tx_limit) → void
-- Writes pgq._insert_slot_<i_queue_id>(): the queue's slot, or NULL when a plain insert is
-- not allowed (inserts disabled, a per-transaction limit, or the queue is gone).
create or replace function pgq._write_insert_slot(
  i_queue_id integer, i_cur_table integer, i_disable_insert boolean, i_per_tx_limit integer)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
  execute format($def$
create or replace function pgq.%I()
returns pg_catalog.int8
language sql
stable
as %L$def$,
    '_insert_slot_' || i_queue_id::text,
    'select ' || case when i_disable_insert is false and i_per_tx_limit is null
                      then (i_queue_id::bigint * 65536 + i_cur_table)::text
                      else 'null' end || '::pg_catalog.int8');
end;
$$;

-- The body of a generated insert function. p_general: the call of pgq._insert_event_general;
-- p_tree: the search for the queue and its INSERTs.
create or replace function pgq._insert_function_source(p_general text, p_tree text)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select format($body$
-- Generated by pgq._generate_insert_functions(); changes here are lost on the next queue.
#variable_conflict use_column
declare
  v_id pg_catalog.int8;
begin
%2$s
  return %1$s;
end;
$body$, p_general, p_tree)
$$;

-- The code for one queue once its name matched: take the event id, wake pgqd if it sleeps
-- (pgq._ticker_wakeup; after the id, so a pgqd that set its flag later sees the id taken), then
-- the INSERT of the table whose slot pgq._insert_slot_<id>() returns. %ID% (the id), %VALUES%
-- (the other columns) and %QUEUE% (the queue name parameter) are filled in by the caller;
-- nothing else in the text comes from the user.
create or replace function pgq._insert_queue_block(
  p_queue_id integer, p_event_seq text, p_data_pfx text, p_ntables integer)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select format(E'v_id := pg_catalog.nextval(%L::pg_catalog.regclass);\n', pgq.quote_fqname(p_event_seq))
      || E'if pg_catalog.pg_sequence_last_value(\'pgq.ticker_wakeup\'::pg_catalog.regclass)'
         ' is not null then\n  perform pgq._ticker_wakeup(%QUEUE%);\nend if;\n'
      || string_agg(
           format(E'%s pgq.%I() operator(pg_catalog.=) %s then\n'
                  '  insert into %s (ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type,'
                  ' ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)\n'
                  '  values (%%ID%%, %%VALUES%%);\n  return %%ID%%;\n',
                  case when t.n = 0 then 'if' else 'elsif' end,
                  '_insert_slot_' || p_queue_id::text,
                  p_queue_id::bigint * 65536 + t.n,
                  pgq.quote_fqname(p_data_pfx || '_' || t.n::text)),
           '' order by t.n)
      || 'end if;'
    from generate_series(0, p_ntables - 1) t(n)
$$;

-- Binary search on the parameter p_param over p_names[p_lo..p_hi] (sorted in byte order,
-- compared with ~<~), ending in the block of the matching name; a handful of names at the
-- bottom are compared one by one. p_first is put before the first comparison made.
create or replace function pgq._insert_name_tree(
  p_param text, p_names text[], p_blocks text[], p_lo integer, p_hi integer, p_first text)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
  v_mid integer;
  v_code text := '';
begin
  if p_hi < p_lo then
    return '';
  end if;
  if p_hi - p_lo < 4 then
    for i in p_lo .. p_hi loop
      v_code := v_code || format(E'%s %s%s operator(pg_catalog.=) %L::pg_catalog.text then\n%s\n',
                                 case when i = p_lo then 'if' else 'elsif' end,
                                 case when i = p_lo then p_first else '' end,
                                 p_param, p_names[i], p_blocks[i]);
    end loop;
    return v_code || 'end if;';
  end if;
  v_mid := (p_lo + p_hi + 1) / 2;
  return format(E'if %s%s operator(pg_catalog.~<~) %L::pg_catalog.text then\n%s\nelse\n%s\nend if;',
                p_first, p_param, p_names[v_mid],
                pgq._insert_name_tree(p_param, p_names, p_blocks, p_lo, v_mid - 1, ''),
                pgq._insert_name_tree(p_param, p_names, p_blocks, v_mid, p_hi, ''));
end;
$$;
