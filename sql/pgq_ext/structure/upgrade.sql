-- Bring tables of an older pgq_ext (2.x: no subconsumer_id) up to this layout.
select pgq_ext.upgrade_schema();
