// SQLite (Debian: libsqlite3-dev). SQLITE_TRANSIENT is a cast macro Swift cannot import.
#ifndef I2X_CSQLITE_SHIM_H
#define I2X_CSQLITE_SHIM_H
#include <sqlite3.h>

/// The destructor value that tells SQLite to copy bound text/blobs before the call returns.
static inline sqlite3_destructor_type i2x_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
