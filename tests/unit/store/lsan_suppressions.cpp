// LeakSanitizer suppressions for this test binary (used only in -DDIVE_SANITIZE=ON builds).
//
// libpqxx 6.4 leaks the PGresult of a query that finds its connection dead: connection_base::make_result()
// evaluates encoding_id(), which throws broken_connection on a closed connection, after PQexec() handed it
// the raw result (fixed in libpqxx 7). PgPool avoids it when validating idle connections; a test that kills a
// backend in the middle of a lease (PgPoolTest.WithTurnsALostConnectionIntoPgUnavailable) cannot, and would
// report ~2 KB "leaked" inside libpq/libpqxx.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libpqxx-6.4.so\n";
}
