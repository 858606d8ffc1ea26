-- pgq._generate_insert_functions() → void
--
-- Writes the hot path of pgq.insert_event (7 args) and pgq.insert_event_raw: one static INSERT
-- per data table of every queue, so that producing an event runs cached plans instead of
-- building and planning a dynamic INSERT on every call, and no read of pgq.queue at all.
-- Called by create_queue and drop_queue in their transaction, and by the installer;
-- serialized by an advisory lock so concurrent callers do not update the same pg_proc rows.
--
-- What it writes:
--   - pgq._insert_slot_<queue_id>(), one per queue: a constant, the queue's slot
--     (queue_id * 65536 + queue_cur_table), or NULL unless a plain insert is allowed
--     (inserts enabled, no per-transaction limit). The trigger on pgq.queue rewrites it in the
--     same transaction as any change of those columns (pgq._queue_insert_slot_trigger).
--   - pgq._insert_slot(queue_name): the slot of a queue by name, a CASE tree over the names
--     that ends in those functions.
--   - pgq._insert_next_id(queue_name): takes the transaction's txid, then nextval of the
--     queue's event sequence.
--   - insert_event and insert_event_raw themselves.
-- All three helpers are SQL functions the planner inlines, so in the generated code the slot
-- is a constant of a cached expression plan.
--
-- Why the slot is never stale where it matters: a change to a slot function invalidates every
-- cached plan that inlined it, and a backend acts on invalidations whenever it takes a lock
-- it did not hold yet. The hot path takes the txid first, then nextval, whose first call in a
-- transaction locks the sequence; so the slot it reads next is as fresh as the moment after
-- its txid was taken. A table switch (maint_rotate_tables_step1) not seen then is sent after
-- that moment, and step 2, which waits for step 1 to end (an advisory lock), takes a larger
-- txid: readers look at both tables for this transaction. This is the same rule the general
-- path keeps by reading pgq.queue after taking the txid (pgq._insert_target), at no cost of a
-- read. A transaction that took ids from the queue's event sequence itself before it had a
-- txid does not get that lock at its first event; produce only through the pgq functions.
--
-- The generated insert_event is SECURITY DEFINER, as upstream's, but does not pin search_path:
-- the GUC change it costs on every call was a tenth of the whole insert. It is safe without it
-- because the generated text names every relation, function, type and operator with its
-- schema (`operator(pg_catalog.=)`), so nothing on the caller's search_path can stand in
-- (test/pgq/insert-hot-path.test.ts checks this with a hostile search_path).
--
-- Tables written: none (replaces functions; drops slot functions of queues that are gone).
create or replace function pgq._generate_insert_functions()
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  v_names text[];
  v_slot_calls text[];
  v_next_ids text[];
  v_slots bigint[];
  v_leaves text[];
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

  -- Names in byte order: the CASE tree compares them with ~<~.
  select coalesce(array_agg(q.queue_name order by q.queue_name collate "C"), '{}'),
         coalesce(array_agg(format('pgq.%I()', '_insert_slot_' || q.queue_id::text)
                            order by q.queue_name collate "C"), '{}'),
         coalesce(array_agg(format('pg_catalog.nextval(%L::pg_catalog.regclass)',
                                   pgq.quote_fqname(q.queue_event_seq))
                            order by q.queue_name collate "C"), '{}')
    into v_names, v_slot_calls, v_next_ids
    from pgq.queue q;

  execute format($def$
create or replace function pgq._insert_slot(queue_name text)
returns pg_catalog.int8
language sql
stable
as %L$def$,
    'select ' || pgq._insert_name_tree(v_names, v_slot_calls, 1, cardinality(v_names)));

  -- The txid comes first (the WHEN is evaluated before any branch): see above.
  execute format($def$
create or replace function pgq._insert_next_id(queue_name text)
returns pg_catalog.int8
language sql
volatile
as %L$def$,
    'select case when pg_catalog.txid_current() operator(pg_catalog.<) 0 then null::pg_catalog.int8'
    ' else ' || pgq._insert_name_tree(v_names, v_next_ids, 1, cardinality(v_names)) || ' end');

  select coalesce(array_agg(s.slot order by s.slot), '{}'),
         coalesce(array_agg(s.leaf order by s.slot), '{}')
    into v_slots, v_leaves
    from (select q.queue_id::bigint * 65536 + t.n as slot,
                 format(E'insert into %s (ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type,'
                        ' ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)\n'
                        '  values (%%ID%%, %%VALUES%%);\n  return %%ID%%;',
                        pgq.quote_fqname(q.queue_data_pfx || '_' || t.n::text)) as leaf
            from pgq.queue q, generate_series(0, q.queue_ntables - 1) t(n)) s;

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
      'insert_event',
      replace(replace(pgq._insert_dispatch_tree(v_slots, v_leaves, 1, cardinality(v_slots)),
                      '%VALUES%', v_event_values), '%ID%', 'v_id')));

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
      'insert_event_raw',
      replace(replace(pgq._insert_dispatch_tree(v_slots, v_leaves, 1, cardinality(v_slots)),
                      '%VALUES%', v_raw_values),
              '%ID%', 'coalesce(insert_event_raw.ev_id, v_id)')));

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
-- p_fn: the function's name (qualifies the parameters); p_tree: the dispatch code.
create or replace function pgq._insert_function_source(
  p_general text, p_fn text, p_tree text)
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
  v_slot pg_catalog.int8;
begin
  v_id := pgq._insert_next_id(%2$s.queue_name);
  v_slot := pgq._insert_slot(%2$s.queue_name);
%3$s
  return %1$s;
end;
$body$, p_general, p_fn, p_tree)
$$;

-- A CASE expression over $1: the leaf of the name equal to $1 among p_names[p_lo..p_hi]
-- (sorted in byte order), else NULL. A binary search with ~<~, then a handful compared one by
-- one.
create or replace function pgq._insert_name_tree(
  p_names text[], p_leaves text[], p_lo integer, p_hi integer)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
  v_mid integer;
  v_code text := 'case';
begin
  if p_hi < p_lo then
    return 'null::pg_catalog.int8';
  end if;
  if p_hi - p_lo < 4 then
    for i in p_lo .. p_hi loop
      v_code := v_code || format(' when $1 operator(pg_catalog.=) %L::pg_catalog.text then %s',
                                 p_names[i], p_leaves[i]);
    end loop;
    return v_code || ' else null::pg_catalog.int8 end';
  end if;
  v_mid := (p_lo + p_hi + 1) / 2;
  return format(E'case when $1 operator(pg_catalog.~<~) %L::pg_catalog.text\n then %s\n else %s end',
                p_names[v_mid], pgq._insert_name_tree(p_names, p_leaves, p_lo, v_mid - 1),
                pgq._insert_name_tree(p_names, p_leaves, v_mid, p_hi));
end;
$$;

-- Binary search on v_slot over p_slots[p_lo..p_hi] (sorted), ending in the INSERT of that
-- slot's table from p_leaves; a handful of slots at the bottom are compared one by one. A slot
-- found nowhere (NULL, or a queue newer than this code) falls through to the general path.
create or replace function pgq._insert_dispatch_tree(
  p_slots bigint[], p_leaves text[], p_lo integer, p_hi integer)
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
      v_code := v_code || format(E'%s v_slot operator(pg_catalog.=) %s then\n  %s\n',
                                 case when i = p_lo then 'if' else 'elsif' end,
                                 p_slots[i], p_leaves[i]);
    end loop;
    return v_code || 'end if;';
  end if;
  v_mid := (p_lo + p_hi + 1) / 2;
  return format(E'if v_slot operator(pg_catalog.<) %s then\n%s\nelse\n%s\nend if;',
                p_slots[v_mid], pgq._insert_dispatch_tree(p_slots, p_leaves, p_lo, v_mid - 1),
                pgq._insert_dispatch_tree(p_slots, p_leaves, v_mid, p_hi));
end;
$$;
