-- server_request_nonces (V4) was created for replay protection of signed game-server
-- requests, but no code ever used it: the nonces live in Redis (rh-infra's
-- server_sig, SET NX PX per signature). A table nobody writes misleads whoever reads
-- the schema, so it goes. Durable replay protection, when it comes, records what a
-- retry must get back (the original answer), which this table could not hold.
DROP TABLE IF EXISTS server_request_nonces;
