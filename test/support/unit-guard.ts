/**
 * Loaded before every test file of the jest `unit` project: marks the process so that the
 * integration helpers (a test database, a test server) refuse to run there, which keeps the unit
 * tier free of servers and databases by construction rather than by convention.
 */
process.env.TESSERA_UNIT_TIER = '1';
