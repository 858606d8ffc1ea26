-- Bring an existing installation up to this version; does only what is still missing.
select pgq_node.upgrade_schema();
