// Package config is the one parser of an M1 home's etc/: every process
// reads its settings through it, and nothing else reads etc/.
//
// # Files
//
//	etc/m1.toml        paths, database, node, logs, timeouts, process table,
//	                   queues, listener ports, senders, dist, sch, dbx,
//	                   tkm_files (TOML)
//	etc/clients.toml   client registry: id, password hash, TPS (TOML)
//	etc/routes.toml    routes and sender ratios (TOML)
//	etc/dedicated.conf client IP, server port, client ID; one a line
//	etc/callbacks.conf client ID, callback numbers; one client a line
//	etc/pnx.conf       number or prefix, carrier; "default CARRIER"
//
// The shipped etc/ documents every setting beside it; the line-based files
// are described on Dedicated, Callbacks and PNX.
//
// # Home
//
// Home finds M1_HOME: the environment variable, else the working directory
// when it has etc/m1.toml (a checkout), else the parent of the executable's
// directory (bin/..). Load makes every path absolute under the home, the
// SQLite DSN included, so a process started by cron from / finds its files.
//
// # Errors
//
// Load returns Errors, every problem of every file at once, each an *Error
// naming file, line and setting:
//
//	etc/m1.toml:138: queue.key: SND.KT2: key 0x4d310011 is already the key of SND.KT1
//	etc/dedicated.conf:14: server port: "90o2" is not a port number 1-65535
//
// Syntax and type errors take their line from BurntSushi/toml. Errors found
// after decoding take it from a small index of the TOML text (lineIndex),
// because the decoder keeps key positions to itself; a setting that is
// absent is reported at the line of its table. Unknown settings are errors:
// a misspelt key must not pass silently with its default in force.
//
// # Defaults
//
// A setting left out takes the default documented in etc/m1.toml. In array
// tables ([[queue]], [[sender]]) a numeric 0 or an empty string also means
// "the default", since TOML cannot tell absent from zero there. The
// standard queues (DIST.R/S/B, DBX, RPT, and SND.<id> per sender) exist
// whether or not m1.toml lists them; a queue name outside that set is an
// error.
//
// # Reload
//
// A Config is never modified after Load. On SIGHUP a daemon loads a fresh
// one (Holder.Load or Holder.Reload) and puts it in force only when it is
// valid; on error the old one stays and the error is logged. Whatever
// cannot change in a running process (queue keys and sizes, listener ports)
// is compared by the daemon and takes effect at the next start.
//
// # Passwords
//
// clients.toml holds salted PBKDF2-SHA256 hashes (see HashPassword for the
// format), never passwords; CheckPassword compares in constant time and
// Clients.Authenticate spends the same work on an unknown client id. The
// command tools/m1passwd (bin/m1passwd) prints a hash for a password read from stdin.
//
// # GW_ID node numbers
//
// node.id (0 to 9) numbers the M1 home among the homes sharing one
// database; each process that makes GW_IDs uses Config.GWIDNode(slot),
// node.id × 10 + slot, slot 1 eai_lsnr, 2 sch, 3 tkm_files. Nothing else
// sets a node number: no environment variable, so two hosts cannot collide
// by a variable forgotten in one start script. A changed node.id takes
// effect at the next start.
//
// # Queue keys
//
// A queue key is written as ipcs prints it ("0x4d310001"), as a TOML
// integer, or "auto": then Queue.ResolveKey derives it from the queue's
// file-queue directory exactly as ftok(3) does (Ftok). The shipped keys
// spell "M1" (0x4d31) in their upper half.
package config
