-- londiste.get_seq_list(i_queue_name text) → setof (seq_name text, last_value int8, local bool)
--
-- The sequences of the queue's set, in the order they were added, with the last value the
-- root published and whether each is replicated here.
--
-- Tables written: none.
create or replace function londiste.get_seq_list(
  in i_queue_name text,
  out seq_name text,
  out last_value int8,
  out local boolean)
returns setof record
language sql
strict
as $$
  select s.seq_name, s.last_value, s.local
    from londiste.seq_info s
   where s.queue_name = i_queue_name
   order by s.nr, s.seq_name
$$;
