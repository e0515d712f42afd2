// OpenBLAS (Debian: libopenblas-dev). CBLAS for GEMM; LAPACK entry points that libopenblas
// also exports are declared here with their Fortran calling convention (all by pointer).
#ifndef I2X_COPENBLAS_SHIM_H
#define I2X_COPENBLAS_SHIM_H
#include <cblas.h>
/* glibc allocator tuning used by the engine runtime (mallopt). */
#include <malloc.h>

/// Symmetric eigen-decomposition (divide and conquer), single precision.
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
             float *w, float *work, const int *lwork, int *iwork, const int *liwork, int *info);
/// Cholesky factorisation, single precision.
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
/// Solve A X = B for general A (LU with partial pivoting), single precision.
void sgesv_(const int *n, const int *nrhs, float *a, const int *lda, int *ipiv, float *b,
            const int *ldb, int *info);
/// Symmetric eigen-decomposition, double precision.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info);
/// Solve A X = B for general A, double precision.
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv, double *b,
            const int *ldb, int *info);

#endif
