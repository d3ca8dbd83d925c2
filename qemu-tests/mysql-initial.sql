-- Run once by services.mysql.initialScript, after the first start's initialDatabases.
CREATE TABLE shop.runs (at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
INSERT INTO shop.runs () VALUES ();
