// Linux process control Swift cannot call directly (prctl is variadic) or conveniently. Part of glibc:
// nothing to install.
#ifndef I2X_CPROCESS_SHIM_H
#define I2X_CPROCESS_SHIM_H
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

/* Delivers `sig` to this process when its parent thread exits (PR_SET_PDEATHSIG). */
static inline int i2x_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0); }

/* Adds `increment` to this process's niceness (lower scheduling priority). */
static inline int i2x_lower_priority(int increment) { return setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + increment); }

/* Moves this process to the SCHED_IDLE policy: it runs only on cores nothing else wants (an
   analysis beside a trainer then takes its idle time, not a share of its cores). */
static inline int i2x_idle_scheduling(void) {
  struct sched_param param = {0};
#ifdef SCHED_IDLE
  return sched_setscheduler(0, SCHED_IDLE, &param);
#else
  return sched_setscheduler(0, 5, &param); /* SCHED_IDLE on Linux */
#endif
}

#endif
