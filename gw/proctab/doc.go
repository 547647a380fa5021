// Package proctab is M1's process table (프로세스 테이블): one SysV
// shared-memory segment with a slot per running process, where each process
// publishes its name, role, pid, state, heartbeat and counters, and a sender
// its link state and window use. dist reads it to know which senders are up;
// ipcq and the status scripts print it.
//
// # Layout
//
// Words are native-endian and aligned; every offset is part of the format.
//
//	header (64 bytes)
//	  0  magic      u64  "M1PTAB\x00\x01"
//	  8  version    u32  1
//	 12  slots      u32  number of slots
//	 16  slotSize   u32  256
//	 24  created    i64  unix nanoseconds
//
//	slot i (256 bytes at 64 + i*256)
//	  0  owner      u64  pid<<32 | low 32 bits of its start time; 0 = free
//	  8  state      u32  0 free, 1 starting, 2 running, 3 stopping, 4 stopped
//	 12  link       u32  0 no link, 1 down, 2 up (senders)
//	 16  started    i64  unix nanoseconds
//	 24  heartbeat  i64  unix nanoseconds of the last stamp
//	 32  in         u64  records taken in
//	 40  out        u64  records passed on
//	 48  errors     u64
//	 56  winUsed    u32  sender: submits awaiting an answer
//	 60  winSize    u32  sender: its window
//	 64  errSeq     u32  even when lastError is stable, odd while written
//	 68  pad        u32
//	 72  errTime    i64  unix nanoseconds of lastError
//	 80  name       [32]byte NUL-padded
//	112  role       [16]byte NUL-padded
//	128  lastError  [128]byte NUL-padded, cut at 127 bytes
//
// # Claiming and death
//
// A process claims a slot by a compare-and-swap on owner, from 0 or from the
// word of a dead process, then writes name and role and sets its state.
// Nothing here is locked: a process killed at any instant leaves at most a
// slot that names it, and the slot is recognised as dead because the pid no
// longer names a process with that start time, or because its heartbeat is
// older than the configured dead-after time (a process that is alive but
// stuck). Register reuses the slot of a dead process of the same name first,
// so a restarted process keeps its place in the listing.
//
// Two live processes with the same name are refused by the pid file before
// they reach the table (gw/daemon); the table refuses a name held by a live
// process too, but two processes racing to register one name at the same
// instant can both win here.
package proctab
