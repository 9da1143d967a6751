// Package pgtest is test support for the rule of design §9 that PostgreSQL tests
// run against a real server. It finds the server named by IMMIGRATE_TEST_PG_URL,
// skips a test loudly when there is none — or fails it under
// IMMIGRATE_TEST_REQUIRE_PG=1, which CI sets — and gives each test a schema name of
// its own, dropped when the test ends, so parallel runs never collide.
//
// Only _test.go files import it; it is the one place besides cmd that reads the
// environment, because the test rule is written in terms of it.
package pgtest
