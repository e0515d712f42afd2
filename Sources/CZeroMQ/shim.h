// ZeroMQ (Debian: libzmq3-dev; CURVE compiled in).
#ifndef I2X_CZEROMQ_SHIM_H
#define I2X_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
