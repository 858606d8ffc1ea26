-- londiste.create_partition(i_table text, i_part text, i_pkeys text, i_part_field text,
--   i_part_time timestamptz, i_part_period text) → int4
--
-- Create one time partition of a table (the dispatch handler's part_func): an inheritance
-- child `create table <part> (like <table> including all) inherits (<table>)`, owned by the
-- parent's owner, with the parent's privileges (with grant option where the parent's
-- grantee has it or owns the parent, as information_schema.table_privileges tells),
-- triggers (same enable state) and rules; and, when i_part_field is given, a CHECK that the
-- field lies in [date_trunc(period, i_part_time), that + 1 period). Callers creating the
-- same partition at once are serialised by a SHARE UPDATE EXCLUSIVE lock on
-- londiste.table_info.
--
-- Parameters: i_table, i_part - parent and partition, stored form (`schema.name`);
--             i_pkeys         - unused (the LIKE copies the parent's keys); kept for callers;
--             i_part_field    - the time column; i_part_time - a time inside the partition;
--             i_part_period   - a date_trunc unit: hour, day, week, month, year, ...
-- Result: 1 when created, 0 when the partition already exists.
-- Errors: 'need table and part' (NULLs); the parent missing (relation ... does not exist);
--   a period date_trunc does not know.
-- Tables written: the new partition (and its grants, triggers, rules).
create or replace function londiste.create_partition(
  i_table text,
  i_part text,
  i_pkeys text,
  i_part_field text,
  i_part_time timestamptz,
  i_part_period text)
returns int4
language plpgsql
as $$
declare
  v_parent oid;
  v_parent_q text;
  v_parent_name text;
  v_part_q text;
  v_part oid;
  v_owner oid;
  v_start timestamptz;
  v_end timestamptz;
  v_check text;
  v_grant record;
  v_trigger record;
  v_rule record;
  v_prefix text;
  v_rest text;
  v_head text;
  v_pos int4;
begin
  if i_table is null or i_part is null then
    raise exception 'need table and part'
      using detail = pg_catalog.format('table: %s, part: %s',
                                       coalesce(i_table, 'NULL'),
                                       coalesce(i_part, 'NULL'));
  end if;
  v_parent_q := londiste.quote_fqname(i_table);
  v_part_q := londiste.quote_fqname(i_part);
  v_parent_name := (londiste.split_fqname(i_table)).name_part;
  v_parent := v_parent_q::pg_catalog.regclass;

  lock table londiste.table_info in share update exclusive mode;

  if exists (select 1
               from londiste.split_fqname(i_part) s
               join pg_catalog.pg_namespace n on n.nspname = s.schema_part
               join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = s.name_part
              where c.relkind in ('r', 'p', 'f')) then
    return 0;
  end if;

  execute pg_catalog.format('create table %s (like %s including all) inherits (%s)',
                            v_part_q, v_parent_q, v_parent_q);
  v_part := v_part_q::pg_catalog.regclass;

  if i_part_field is not null then
    v_start := pg_catalog.date_trunc(i_part_period, i_part_time);
    v_end := v_start + ('1 ' || i_part_period)::interval;
    -- Untyped literals take the column's type (timestamp, timestamptz or date). A NULL
    -- time or period leaves no statement to run, as upstream.
    v_check := 'alter table ' || v_part_q || ' add check ('
               || pg_catalog.quote_ident(i_part_field) || ' >= ' || pg_catalog.quote_literal(v_start)
               || ' and '
               || pg_catalog.quote_ident(i_part_field) || ' < ' || pg_catalog.quote_literal(v_end)
               || ')';
    execute v_check;
  end if;

  select c.relowner into v_owner from pg_catalog.pg_class c where c.oid = v_parent;
  if v_owner <> (select c.relowner from pg_catalog.pg_class c where c.oid = v_part) then
    execute pg_catalog.format('alter table %s owner to %I', v_part_q,
                              pg_catalog.pg_get_userbyid(v_owner));
  end if;

  for v_grant in
    select a.grantee, a.privilege_type,
           a.is_grantable
             or (a.grantee <> 0 and pg_catalog.pg_has_role(a.grantee, c.relowner, 'USAGE')) as grantable
      from pg_catalog.pg_class c,
           pg_catalog.aclexplode(coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
     where c.oid = v_parent
  loop
    execute pg_catalog.format('grant %s on %s to %s%s',
                              v_grant.privilege_type, v_part_q,
                              case when v_grant.grantee = 0 then 'public'
                                   else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(v_grant.grantee)) end,
                              case when v_grant.grantable then ' with grant option' else '' end);
  end loop;

  -- Triggers and rules: the parent's definitions as the server prints them, with the
  -- parent's name after ON (trigger) or TO (rule) replaced by the partition's. The server
  -- qualifies it in trigger definitions, and in rules where it is not on the search_path.
  for v_trigger in
    select t.tgname, t.tgenabled, pg_catalog.pg_get_triggerdef(t.oid) as def
      from pg_catalog.pg_trigger t
     where t.tgrelid = v_parent and not t.tgisinternal
     order by t.tgname
  loop
    v_prefix := ' ON ' || v_parent_q || ' ';
    v_pos := pg_catalog.strpos(v_trigger.def, v_prefix);
    if v_pos = 0 then
      v_prefix := ' ON ' || pg_catalog.quote_ident(v_parent_name) || ' ';
      v_pos := pg_catalog.strpos(v_trigger.def, v_prefix);
    end if;
    if v_pos = 0 then
      raise exception 'cannot copy trigger % of % to %: unexpected definition',
        v_trigger.tgname, i_table, i_part
        using detail = v_trigger.def;
    end if;
    execute pg_catalog.substr(v_trigger.def, 1, v_pos - 1) || ' ON ' || v_part_q || ' '
            || pg_catalog.substr(v_trigger.def, v_pos + pg_catalog.length(v_prefix));
    if v_trigger.tgenabled <> 'O' then
      execute pg_catalog.format('alter table %s %s trigger %I', v_part_q,
                                case v_trigger.tgenabled when 'D' then 'disable'
                                                         when 'R' then 'enable replica'
                                                         else 'enable always' end,
                                v_trigger.tgname);
    end if;
  end loop;

  for v_rule in
    select r.rulename, r.ev_type, pg_catalog.pg_get_ruledef(r.oid) as def
      from pg_catalog.pg_rewrite r
     where r.ev_class = v_parent and r.rulename <> '_RETURN'
     order by r.rulename
  loop
    -- 'CREATE RULE <name> AS', whitespace, 'ON <event> TO <parent>', the rest.
    v_prefix := pg_catalog.format('CREATE RULE %I AS', v_rule.rulename);
    v_head := 'ON ' || case v_rule.ev_type when '1' then 'SELECT' when '2' then 'UPDATE'
                                           when '3' then 'INSERT' else 'DELETE' end || ' TO ';
    v_rest := null;
    if pg_catalog.starts_with(v_rule.def, v_prefix) then
      v_rest := pg_catalog.ltrim(pg_catalog.substr(v_rule.def, pg_catalog.length(v_prefix) + 1),
                                 E' \n\t');
      if pg_catalog.starts_with(v_rest, v_head || v_parent_q) then
        v_rest := pg_catalog.substr(v_rest, pg_catalog.length(v_head || v_parent_q) + 1);
      elsif pg_catalog.starts_with(v_rest, v_head || pg_catalog.quote_ident(v_parent_name)) then
        v_rest := pg_catalog.substr(v_rest,
                                    pg_catalog.length(v_head || pg_catalog.quote_ident(v_parent_name)) + 1);
      else
        v_rest := null;
      end if;
    end if;
    if v_rest is null or v_rest !~ '^\s' then
      raise exception 'cannot copy rule % of % to %: unexpected definition',
        v_rule.rulename, i_table, i_part
        using detail = v_rule.def;
    end if;
    execute v_prefix || ' ' || v_head || v_part_q || v_rest;
  end loop;

  return 1;
end;
$$;
