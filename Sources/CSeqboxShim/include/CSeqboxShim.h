// Thin C shims for Linux calls that Swift's Glibc module does not expose
// (it is built without _GNU_SOURCE). Only declarations here: defining
// _GNU_SOURCE in a public header clashes with SwiftGlibc.
#ifndef CSEQBOX_SHIM_H
#define CSEQBOX_SHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

/// fallocate(2) with mode 0: reserve `length` bytes at `offset`. Returns 0 or -1 (errno set).
int shim_fallocate(int fd, int64_t offset, int64_t length);

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC. Returns the fd or -1 (errno set).
int shim_accept4_nonblocking(int fd, struct sockaddr *address, socklen_t *length);

/// eventfd(2) with EFD_NONBLOCK | EFD_CLOEXEC. Returns the fd or -1 (errno set).
int shim_eventfd_nonblocking(unsigned int initial);

/// epoll_create1(EPOLL_CLOEXEC). Returns the fd or -1 (errno set).
int shim_epoll_create(void);

/// pthread_setname_np(3) for the calling thread: `name` (at most 15 bytes are kept) shows in
/// top, perf and /proc/PID/task/TID/comm. Returns 0 or an error number.
int shim_set_thread_name(const char *name);

/// The current thread's errno (read immediately after a failing call).
int shim_errno(void);

#endif
