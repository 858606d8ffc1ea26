-- pgq._trigger_event(i_format text, i_op text, i_when text, i_level text, i_relid oid,
--                    i_schema text, i_table text, i_args text[],
--                    i_new anyelement, i_old anyelement) → boolean
--
-- The work of pgq.logutriga(), pgq.sqltriga() and pgq.jsontriga(): check the trigger's
-- definition and arguments, decide whether the row change makes an event, encode it and
-- insert it with pgq.insert_event(queue, type, data, extra1, extra2, extra3, extra4) (so a
-- replaced insert_event sees every trigger event). Behaves as PgQ 3.5's C triggers, with
-- their error texts. Nothing is cached between calls (PL/pgSQL has no invalidation hook for
-- table changes): the table's columns and key come from one catalog query per call, the
-- row's values from one pass over its text form, the expressions from one statement.
--
-- Steps, in upstream's order:
--   session_replication_role = local → nothing (the row is kept);
--   FOR EACH ROW (insert/update/delete) or STATEMENT (truncate); queue argument; the other
--   arguments (SKIP, ignore=, pkey=, backup, deny, when=, ev_type=, ev_data=,
--   ev_extra1..4=; a truncate trigger takes only SKIP and deny); magic `_pgq_ev_*` columns;
--   update/delete need a key; SKIP only in BEFORE triggers; deny; an update may not change
--   a key column; an update changing only ignored (or magic) columns makes no event; the
--   ev_*= expressions run, then when= must give a non-NULL boolean, false → no event;
--   encode; magic columns, then the expressions, override the fields.
-- Key columns: ev_type (and jsontriga's "pkey") lists them in the key's own order, as
-- upstream does; sqltriga's where-clauses list them in attnum order.
-- Differences from the C triggers: values are compared in their text form (so 1.0 → 1.00
-- is a change); a key change is always refused; the key is the primary key's key columns
-- (not its INCLUDE columns); expressions are plain SQL over the row, so quoted and
-- non-ASCII column names work in them, and their syntax errors show when they first run.
--
-- Parameters: i_format - 'logutriga', 'sqltriga' or 'jsontriga'; i_op, i_when, i_level,
--   i_relid, i_schema, i_table, i_args - the trigger's TG_OP, TG_WHEN, TG_LEVEL, TG_RELID,
--   TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV; i_new, i_old - its NEW and OLD.
-- Result: true when the trigger must return NULL (SKIP: the row change is dropped).
-- Tables written: the queue's event table, through pgq.insert_event.
create or replace function pgq._trigger_event(
  i_format text, i_op text, i_when text, i_level text, i_relid oid,
  i_schema text, i_table text, i_args text[], i_new anyelement, i_old anyelement)
returns boolean
language plpgsql
as $$
declare
  v_nargs integer;
  v_lo integer;
  v_queue text;
  v_arg text;
  v_slot integer;
  -- arguments
  v_skip boolean := false;
  v_backup boolean := false;
  v_deny boolean := false;
  v_ignore text;              -- text after ignore= (NULL: no such argument)
  v_pkey text;                -- text after pkey= (NULL: no such argument)
  v_when text;                -- when= expression
  v_exprs text[] := '{NULL,NULL,NULL,NULL,NULL,NULL}';  -- ev_type, ev_data, ev_extra1..4
  v_has_exprs boolean := false;
  -- table
  v_names text[];             -- live columns in attnum order
  v_types oid[];
  v_pk_pos integer[];         -- positions (in v_names) of the primary key columns
  v_pk_names text[];          -- primary key column names in key order
  v_attnums smallint[];
  v_conkey smallint[];
  v_ncols integer;
  v_has_magic boolean;
  v_magic_pos integer[];      -- positions of _pgq_ev_* columns
  v_magic_slot integer[];     -- their field (index into v_fields)
  v_key_pos integer[];        -- positions of the key columns in use
  v_has_key boolean;
  v_skipcols boolean[];       -- per column: left out of the payload (NULL: none)
  -- row
  v_new text[];
  v_old text[];
  v_row text[];               -- the row the event describes: NEW, or OLD for a delete
  v_changed integer;
  v_changed_skipped integer;
  v_sql text;
  v_over_sql text;
  v_data text;
  v_when_type oid;
  v_when_value text;
  v_over text[];
  v_set text;
  v_sep text;
  v_where text;
  v_json json;
  -- ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
  v_fields text[];
  i integer;
begin
  if pg_catalog.current_setting('session_replication_role') = 'local' then
    return false;
  end if;

  if i_op = 'TRUNCATE' then
    if i_level <> 'STATEMENT' then
      raise exception 'pgq tRuncate trigger must be fired FOR EACH STATEMENT';
    end if;
  elsif i_level <> 'ROW' then
    raise exception 'pgq Ins/Upd/Del trigger must be fired FOR EACH ROW'
      using hint = 'create the trigger FOR EACH ROW';
  end if;

  v_nargs := coalesce(pg_catalog.array_length(i_args, 1), 0);
  if v_nargs < 1 then
    raise exception 'pgq trigger must have destination queue as argument'
      using detail = pg_catalog.format('table: %s.%s', i_schema, i_table),
            hint = 'give the queue name as the first trigger argument';
  end if;
  -- TG_ARGV counts from 0
  v_lo := pg_catalog.array_lower(i_args, 1);
  v_queue := i_args[v_lo];

  -- Arguments in any order; for ignore= and pkey= the last one counts, for expressions
  -- the first one.
  for i in v_lo + 1 .. v_lo + v_nargs - 1 loop
    v_arg := i_args[i];
    if v_arg = 'SKIP' then
      v_skip := true;
    elsif v_arg = 'backup' then
      v_backup := true;
    elsif v_arg = 'deny' then
      v_deny := true;
    elsif pg_catalog.left(v_arg, 7) = 'ignore=' then
      v_ignore := pg_catalog.substr(v_arg, 8);
    elsif pg_catalog.left(v_arg, 5) = 'pkey=' then
      v_pkey := pg_catalog.substr(v_arg, 6);
    elsif pg_catalog.left(v_arg, 5) = 'when=' then
      v_when := coalesce(v_when, pg_catalog.substr(v_arg, 6));
    else
      v_slot := case pg_catalog.split_part(v_arg, '=', 1)
                  when 'ev_type' then 1 when 'ev_data' then 2
                  when 'ev_extra1' then 3 when 'ev_extra2' then 4
                  when 'ev_extra3' then 5 when 'ev_extra4' then 6
                end;
      if v_slot is null or pg_catalog.strpos(v_arg, '=') = 0 then
        raise exception 'bad param to pgq trigger'
          using detail = pg_catalog.format('argument: %s', v_arg),
                hint = 'known arguments: SKIP, ignore=, pkey=, backup, deny, when=, '
                       'ev_type=, ev_data=, ev_extra1= .. ev_extra4=';
      end if;
      v_exprs[v_slot] := coalesce(v_exprs[v_slot],
                                  pg_catalog.substr(v_arg, pg_catalog.strpos(v_arg, '=') + 1));
      v_has_exprs := true;
    end if;
  end loop;

  if i_op = 'TRUNCATE' then
    if v_ignore is not null then
      raise exception 'Column ignore does not make sense for truncate trigger';
    elsif v_pkey is not null then
      raise exception 'Custom pkey_list does not make sense for truncate trigger';
    elsif v_backup then
      raise exception 'Backup does not make sense for truncate trigger';
    elsif v_has_exprs or v_when is not null then
      raise exception 'Custom expressions do not make sense for truncater trigger';
    end if;
  end if;

  -- Live columns in attnum order, the primary key's columns in key order, magic columns.
  select pg_catalog.array_agg(a.attname::text),
         pg_catalog.array_agg(a.atttypid),
         pg_catalog.array_agg(a.attnum),
         pg_catalog.bool_or(pg_catalog.left(a.attname::text, 8) = '_pgq_ev_'),
         (select c.conkey from pg_catalog.pg_constraint c
           where c.conrelid = i_relid and c.contype = 'p')
    into v_names, v_types, v_attnums, v_has_magic, v_conkey
    from (select x.attname, x.atttypid, x.attnum
            from pg_catalog.pg_attribute x
           where x.attrelid = i_relid
             and x.attnum > 0
             and not x.attisdropped
           order by x.attnum) a;
  v_ncols := coalesce(pg_catalog.cardinality(v_names), 0);
  v_pk_pos := '{}';
  v_pk_names := '{}';
  if v_conkey is not null then
    for i in 1 .. v_ncols loop
      if v_attnums[i] = any (v_conkey) then
        v_pk_pos := v_pk_pos || i;
      end if;
    end loop;
    for i in 1 .. pg_catalog.cardinality(v_conkey) loop
      v_pk_names := v_pk_names || v_names[pg_catalog.array_position(v_attnums, v_conkey[i])];
    end loop;
  end if;

  v_magic_pos := '{}';
  if v_has_magic then
    v_magic_slot := '{}';
    for i in 1 .. v_ncols loop
      continue when pg_catalog.left(v_names[i], 8) <> '_pgq_ev_';
      v_slot := case v_names[i]
                  when '_pgq_ev_type' then 1 when '_pgq_ev_data' then 2
                  when '_pgq_ev_extra1' then 3 when '_pgq_ev_extra2' then 4
                  when '_pgq_ev_extra3' then 5 when '_pgq_ev_extra4' then 6
                end;
      if v_slot is null then
        raise exception 'Unknown magic column: %', v_names[i]
          using detail = pg_catalog.format('table: %s.%s', i_schema, i_table),
                hint = 'known magic columns: _pgq_ev_type, _pgq_ev_data, '
                       '_pgq_ev_extra1 .. _pgq_ev_extra4';
      end if;
      v_magic_pos := v_magic_pos || i;
      v_magic_slot := v_magic_slot || v_slot;
    end loop;
  end if;

  -- The key: the primary key, or the columns pkey= lists. `pkey=` with an empty list means
  -- no key; names it lists that are not columns are still written into ev_type.
  if v_pkey is null then
    v_key_pos := v_pk_pos;
    v_has_key := pg_catalog.cardinality(v_pk_pos) > 0;
  else
    v_key_pos := '{}';
    for i in 1 .. v_ncols loop
      if pgq._trigger_list_has(v_pkey, v_names[i]) then
        v_key_pos := v_key_pos || i;
      end if;
    end loop;
    v_has_key := v_pkey <> '';
  end if;

  if i_op in ('UPDATE', 'DELETE') and not v_has_key then
    raise exception 'Update/Delete on table without pkey'
      using detail = pg_catalog.format('table: %s.%s', i_schema, i_table),
            hint = 'add a primary key or give the key columns with pkey=';
  end if;
  if v_skip and i_when = 'AFTER' then
    raise exception 'SKIP does not work in AFTER trigger.';
  end if;
  if v_deny then
    raise exception 'Table ''%.%'' to queue ''%'': change not allowed (%)',
      i_schema, i_table, v_queue, i_op;
  end if;

  if i_op = 'TRUNCATE' then
    v_fields := array[case i_format
                        when 'jsontriga' then
                          '{"op":"TRUNCATE","table":'
                          || pg_catalog.array_to_json(array[i_schema, i_table])::text
                          || ',"pkey":' || pg_catalog.array_to_json(
                               case when v_pkey is null then v_pk_names
                                    else pg_catalog.regexp_split_to_array(v_pkey, ',') end)::text
                          || '}'
                        else 'R'
                      end,
                      case i_format when 'jsontriga' then '{}' else '' end,
                      i_schema || '.' || i_table, null, null, null];
    perform pgq.insert_event(v_queue, v_fields[1], v_fields[2], v_fields[3], v_fields[4],
                             v_fields[5], v_fields[6]);
    return v_skip;
  end if;

  -- Columns left out of the payload: ignore= ones and magic ones.
  if v_ignore is not null or v_has_magic then
    v_skipcols := '{}';
    for i in 1 .. v_ncols loop
      v_skipcols := v_skipcols || (coalesce(pgq._trigger_list_has(v_ignore, v_names[i]), false)
                                   or i = any (v_magic_pos));
    end loop;
  end if;

  if i_op <> 'DELETE' then
    v_new := pgq._trigger_row_values(i_new::text);
  end if;
  if i_op <> 'INSERT' then
    v_old := pgq._trigger_row_values(i_old::text);
  end if;

  if i_op = 'UPDATE' then
    -- The values are compared in their text form.
    foreach i in array v_key_pos loop
      if v_new[i] is distinct from v_old[i] then
        raise exception 'primary key update not allowed'
          using detail = pg_catalog.format('table: %s.%s, column: %s',
                                           i_schema, i_table, v_names[i]);
      end if;
    end loop;
    if v_ignore is not null then
      -- A change of ignored (or magic) columns only makes no event; a change of nothing
      -- at all still does.
      v_changed := 0;
      v_changed_skipped := 0;
      for i in 1 .. v_ncols loop
        if v_new[i] is distinct from v_old[i] then
          if v_skipcols[i] then
            v_changed_skipped := v_changed_skipped + 1;
          else
            v_changed := v_changed + 1;
          end if;
        end if;
      end loop;
      if v_changed = 0 and v_changed_skipped > 0 then
        return v_skip;
      end if;
    end if;
  end if;

  -- The ev_*= expressions (in field order), then when=: one statement over the row's columns
  -- (NEW, or OLD for a delete). As upstream, the expressions run even when when= then turns
  -- out false. Mixed-case columns can also be written unquoted (upstream matches column
  -- names in expressions as written).
  if v_when is not null or v_has_exprs then
    -- The row comes through a subquery the planner keeps (offset 0), so that expressions
    -- are not folded into constants at plan time: they run once, at execution, in order.
    v_sql := '(select (_pgq_s._pgq_r).*' || coalesce((
      select pg_catalog.string_agg(', (_pgq_s._pgq_r).' || pg_catalog.quote_ident(f.n) || ' as '
                                   || pg_catalog.quote_ident(f.folded), '')
        from (select u.n, pg_catalog.translate(u.n, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                                               'abcdefghijklmnopqrstuvwxyz') as folded
                from unnest(v_names) as u(n)) f
       where f.folded <> f.n
         and f.folded <> all (v_names)), '')
      || ' from (select $1 as _pgq_r offset 0) _pgq_s) _pgq_row';
    -- inner select: one column per expression; an empty expression gives NULL
    select pg_catalog.string_agg(
             pg_catalog.format('(%s) as _pgq_x%s',
                               case when pg_catalog.btrim(e.expr, E' \t\n\r\f') = '' then 'null'
                                    else e.expr end,
                               e.i), ', ' order by e.i)
      into v_over_sql
      from unnest(v_exprs || v_when) with ordinality as e(expr, i)
     where e.expr is not null;
    v_sql := 'select '
             || case when v_when is null then 'null::oid, null::text, '
                     else 'pg_catalog.pg_typeof(_pgq_x._pgq_x7)::oid, _pgq_x._pgq_x7::text, ' end
             -- each value as its type's text output (format %s), NULL kept
             || case when not v_has_exprs then 'null::text[]'
                     else 'array[' || (
                       select pg_catalog.string_agg(
                                case when e.expr is null then 'null::text'
                                     else pg_catalog.format(
                                       'case when pg_catalog.num_nulls(_pgq_x._pgq_x%1$s) = 0'
                                       ' then pg_catalog.format(''%%s'', _pgq_x._pgq_x%1$s) end',
                                       e.i)
                                end, ', ' order by e.i)
                         from unnest(v_exprs) with ordinality as e(expr, i)) || ']'
                end
             || ' from (select ' || v_over_sql || ' from ' || v_sql || ' offset 0) _pgq_x';
    if i_op = 'DELETE' then
      execute v_sql into v_when_type, v_when_value, v_over using i_old;
    else
      execute v_sql into v_when_type, v_when_value, v_over using i_new;
    end if;
    if v_when is not null then
      if pg_catalog.btrim(v_when, E' \t\n\r\f') = '' then
        v_when_type := 0;  -- an empty query has no result column
      end if;
      if v_when_type <> 'pg_catalog.bool'::pg_catalog.regtype then
        raise exception 'when= query result must be boolean, got=%', v_when_type
          using detail = pg_catalog.format('when=%s', v_when);
      elsif v_when_value is null then
        raise exception 'when= should not be NULL'
          using detail = pg_catalog.format('when=%s', v_when);
      elsif v_when_value <> 'true' then
        return v_skip;
      end if;
    end if;
  end if;

  -- Encode.
  if i_op = 'DELETE' then
    v_row := v_old;
  else
    v_row := v_new;
  end if;
  v_fields := array[null, null, i_schema || '.' || i_table, null, null, null];

  if i_format = 'logutriga' then
    v_fields[1] := pg_catalog.left(i_op, 1) || ':'
                   || coalesce(v_pkey, pg_catalog.array_to_string(v_pk_names, ','));
    v_fields[2] := pgq._trigger_urlenc_row(v_names, v_row, v_skipcols);
    if v_backup and i_op = 'UPDATE' then
      v_fields[4] := pgq._trigger_urlenc_row(v_names, v_old, v_skipcols);
    end if;

  elsif i_format = 'jsontriga' then
    v_fields[1] := '{"op":' || pg_catalog.to_json(i_op)::text
                   || ',"table":' || pg_catalog.array_to_json(array[i_schema, i_table])::text
                   || ',"pkey":' || pg_catalog.array_to_json(
                        case when v_pkey is null then v_pk_names
                             else pg_catalog.regexp_split_to_array(v_pkey, ',') end)::text
                   || '}';
    if v_types && '{1082,1114,1184}'::oid[] then
      -- date/time columns are written as PostgreSQL's JSON output writes them
      if i_op = 'DELETE' then
        v_json := pg_catalog.row_to_json(i_old);
      else
        v_json := pg_catalog.row_to_json(i_new);
      end if;
    end if;
    v_fields[2] := pgq._trigger_json_row(v_names, v_types, v_row, v_skipcols, v_json);
    if v_backup and i_op = 'UPDATE' then
      if v_json is not null then
        v_json := pg_catalog.row_to_json(i_old);
      end if;
      v_fields[4] := pgq._trigger_json_row(v_names, v_types, v_old, v_skipcols, v_json);
    end if;

  else
    -- sqltriga: partial SQL. Key columns in attnum order; identifiers quoted only when
    -- needed, values as quote_literal() gives them.
    v_fields[1] := pg_catalog.left(i_op, 1);
    if i_op = 'INSERT' then
      v_set := '';
      v_data := '';
      v_sep := '';
      for i in 1 .. v_ncols loop
        continue when v_skipcols[i];
        v_set := v_set || v_sep || pg_catalog.quote_ident(v_names[i]);
        v_data := v_data || v_sep || coalesce(pg_catalog.quote_literal(v_new[i]), 'null');
        v_sep := ',';
      end loop;
      v_data := '(' || v_set || ') values (' || v_data || ')';
    else
      v_where := '';
      foreach i in array v_key_pos loop
        if v_old[i] is null then
          raise exception 'logtriga: Unexpected NULL key value'
            using detail = pg_catalog.format('table: %s.%s, column: %s',
                                             i_schema, i_table, v_names[i]);
        end if;
        v_where := v_where || case when v_where = '' then '' else ' and ' end
                   || pg_catalog.quote_ident(v_names[i]) || '='
                   || pg_catalog.quote_literal(v_old[i]);
      end loop;
      if i_op = 'DELETE' then
        v_data := v_where;
      else
        -- the changed columns; when nothing changed, the first key column
        v_set := '';
        for i in 1 .. v_ncols loop
          continue when v_skipcols[i] or v_new[i] is not distinct from v_old[i];
          v_set := v_set || case when v_set = '' then '' else ',' end
                   || pg_catalog.quote_ident(v_names[i]) || '='
                   || coalesce(pg_catalog.quote_literal(v_new[i]), 'NULL');
        end loop;
        if v_set = '' and pg_catalog.cardinality(v_key_pos) > 0 then
          v_set := pg_catalog.quote_ident(v_names[v_key_pos[1]]) || '='
                   || pg_catalog.quote_literal(v_new[v_key_pos[1]]);
        end if;
        v_data := v_set || ' where ' || v_where;
        if v_backup then
          v_fields[4] := pgq._trigger_urlenc_row(v_names, v_old, v_skipcols);
        end if;
      end if;
    end if;
    v_fields[2] := v_data;
  end if;

  -- Magic columns, then expressions, override the fields.
  if v_magic_slot is not null then
    for i in 1 .. pg_catalog.cardinality(v_magic_pos) loop
      v_fields[v_magic_slot[i]] := v_row[v_magic_pos[i]];
    end loop;
  end if;
  if v_has_exprs then
    for i in 1 .. 6 loop
      if v_exprs[i] is not null then
        v_fields[i] := v_over[i];
      end if;
    end loop;
  end if;

  perform pgq.insert_event(v_queue, v_fields[1], v_fields[2], v_fields[3], v_fields[4],
                           v_fields[5], v_fields[6]);
  return v_skip;
end;
$$;
