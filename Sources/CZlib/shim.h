// zlib (Debian: zlib1g-dev): gzip for IDX files, deflate for PNG.
#ifndef I2X_CZLIB_SHIM_H
#define I2X_CZLIB_SHIM_H
#include <zlib.h>
#endif
