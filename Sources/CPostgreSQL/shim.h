// libpq, PostgreSQL's C client library (Debian: libpq-dev, header in /usr/include/postgresql).
#ifndef I2X_CPOSTGRESQL_SHIM_H
#define I2X_CPOSTGRESQL_SHIM_H
#include <postgresql/libpq-fe.h>
#endif
