// Package shmq is M1's shared-memory queue (메모리큐): a ring of fixed-size
// slots in one System V shared-memory segment, with a semaphore set for the
// producers' mutex and for sleeping. It implements queue.Queue.
//
// # Layout
//
// One segment per queue, found by the queue's key. All words are native
// (little-endian on the machines M1 runs on) and naturally aligned; the
// header is 256 bytes and the slots follow it. Every offset and size below
// is part of the format: a change is a new Version.
//
//	header (256 bytes)
//	  0  magic        u64  "M1SHMQ\x00\x01", written last at creation
//	  8  version      u32  1
//	 12  recordSize   u32  largest record, bytes
//	 16  slotSize     u32  bytes per slot: 24 + recordSize rounded up to 8
//	 20  capacity     u32  slots
//	 24  created      i64  unix nanoseconds
//	 32  name         [32]byte, NUL-padded queue name
//	 -- producers' cache line
//	 64  tail         u64  next position to put (written under the mutex)
//	 72  puts         u64  records put, ever
//	 80  fullEvents   u64  puts that found the ring full
//	 88  prodWaiting  u32  producers asleep on notFull
//	 -- consumer's cache line
//	128  head         u64  next position to take
//	136  commit       u64  every position below is committed
//	144  redeliver    u64  positions below were taken by a consumer that left
//	152  gets         u64  records taken, ever
//	160  commits      u64  records committed, ever
//	168  redelivered  u64  records delivered again
//	176  corrupt      u64  slots skipped for a bad checksum
//	184  consWaiting  u32  1 while the consumer sleeps on notEmpty
//	192  consumer     u64  pid<<32 | low 32 bits of its start time; 0 = none
//	200  spilling     u32  1 while writers go to the queue's file part
//	208  lastSpill    i64  unix nanoseconds a writer last chose the file part
//	216  fileWriters  u32  writers inside a put into the file part
//	220  reserved to 256
//
//	slot i (slotSize bytes, at 256 + i*slotSize; position p lives in slot p % capacity)
//	  0  pos          u64  the position this slot holds
//	  8  putTime      i64  unix nanoseconds
//	 16  length       u32  record bytes
//	 20  crc          u32  CRC-32C (Castagnoli) of the record bytes
//	 24  data         [recordSize]byte
//
// Semaphore set (same key as the segment, 3 semaphores): 0 the producers'
// mutex, taken with SEM_UNDO (value 1 when free); 1 notEmpty; 2 notFull.
//
// # Truth and hints
//
// The positions in the header are the truth. commit ≤ head ≤ tail, and
// tail-commit ≤ capacity. Records in [commit, head) are taken and not yet
// committed; records in [head, tail) are waiting. A producer writes slots
// beyond tail under the mutex and publishes them by storing tail last, so a
// producer killed at any instant leaves its record wholly in (tail stored)
// or wholly out (it is not, and the next producer overwrites the slot). The
// mutex is taken with SEM_UNDO, so the kernel releases it when its holder
// dies.
//
// The consumer needs no lock: it reads slots below tail and stores head and
// commit, and producers never write a slot in [commit, tail).
//
// The counting semaphores carry no state; they only put a side to sleep and
// wake it. A side about to sleep says so in the header (consWaiting,
// prodWaiting) and checks the positions once more; the other side signals
// only when that word says someone sleeps. So the fast path is free of
// system calls: a producer pays for its mutex, and a wake-up only when the
// consumer actually sleeps. Sleeps are bounded (100 ms) and followed by a
// fresh look at the positions, so a signal lost to a process killed between
// its store and its semop costs at most that, never a hang. Stale tokens
// cause a spurious wake-up at most. When a consumer attaches, it resets the
// counting semaphores and the waiting words, and repairs the mutex if its
// last holder is dead without having released it: the semaphores are
// re-derived from the header, never trusted over it.
//
// # Consumer and redelivery
//
// One consumer at a time: the first Take claims the queue by storing its pid
// and start time in the consumer word (pid alone could be reused). A claim
// fails with queue.ErrConsumerBusy while that process lives. Claiming moves
// head back to commit and records the old head in redeliver, so records a
// previous consumer took and never committed are delivered again, marked
// Redelivered.
//
// # Removal
//
// A segment removed with ipcrm stays mapped in the processes attached to it.
// Producers look at the segment's state before a put, at most every 250 ms,
// and return queue.ErrRemoved once it is marked for removal; the consumer
// keeps taking what the orphaned ring still holds and returns
// queue.ErrRemoved once it has stayed empty for a second (four producer
// looks), whether or not idle producers are still attached: a producer
// that puts after that has looked first. A removed semaphore set fails every
// wait at once with queue.ErrRemoved.
package shmq
