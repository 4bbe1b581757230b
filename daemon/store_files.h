/* daemon/store_files.h: the files backend of daemon/store, under state_dir
 * (the layout is in store.h), and the account files every backend keeps
 * locally (the store_account_* functions of store.h are here).
 *
 * Crash safety: every file is written to a temp file in its directory,
 * fsynced, renamed and the directory fsynced (common/fileio); a new
 * version is written whole under archive/<N+1> and `current` is a symlink
 * renamed over the old one, so a crash leaves the old version current or
 * the new one, never a key that does not match its certificate. The lock is
 * daemon/statelock's flock on <state_dir>/lock. */
#pragma once

#include "daemon/store.h"

/* The files backend's own calls are store_open() (it makes state_dir (0700),
 * accounts/ and certs/ when missing) and the store_account_* functions, all
 * declared in store.h, so that the interface never calls its backend. */
extern const struct store_ops store_files_ops;
