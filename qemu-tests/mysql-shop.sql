-- The schema of services.mysql.initialDatabases' "shop".
CREATE TABLE items (name VARCHAR(40) PRIMARY KEY);
INSERT INTO items VALUES ('kiln');
