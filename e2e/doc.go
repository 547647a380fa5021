// Package e2e proves M1's promise with the whole suite as real processes:
// an acknowledged message is never lost and always ends with a result.
//
// The tests build every binary once, make an M1 home of their own (SysV keys
// and TCP ports no other run uses), start the carrier simulator and the
// suite through scripts/m1start under cron's environment (env -i
// PATH=/usr/bin:/bin), drive load through every intake, and check the
// database, the clients' REPORTs and the simulator's counters. The chaos
// version does the same while processes are killed with SIGKILL and brought
// back by m1check, the database goes away for a while, a carrier link drops
// and a queue segment is removed with ipcrm.
//
// Sizes: E2E_MESSAGES sets the messages over TCP (default small, for make
// test); make e2e and make chaos run larger ones. Every test removes its
// processes, SysV objects and files.
package e2e
