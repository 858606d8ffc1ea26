-- Bring the tables of an older londiste layout up to this one (a no-op on a fresh install).
select londiste.upgrade_schema();
