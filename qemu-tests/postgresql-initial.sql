-- Run once, after the first initdb (services.postgresql.initialScript).
CREATE TABLE kiln_initial (id int);
INSERT INTO kiln_initial VALUES (1);
