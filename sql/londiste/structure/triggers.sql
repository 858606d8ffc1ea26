-- A table leaving the set (its table_info row deleted, also by the cascade when the node
-- goes) takes its replication triggers with it. Re-created on every install, so a re-run
-- keeps exactly one; the name is upstream's (tools list a node's triggers by it).
drop trigger if exists table_info_trigger_trg on londiste.table_info;
drop trigger if exists table_info_trigger_sync on londiste.table_info;
create trigger table_info_trigger_sync
  before delete on londiste.table_info
  for each row execute procedure londiste.table_info_trigger();
