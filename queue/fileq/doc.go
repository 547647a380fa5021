// Package fileq is M1's durable file queue (파일큐): records in segment files
// under one directory, any number of producers in any number of processes,
// one consumer at a time. It implements queue.Queue.
//
// # Directory
//
//	append.lock                  flock'd around every append (never holds data)
//	consumer.lock                flock'd by the consumer while open; holds the consumer record
//	position                     the committed position, replaced atomically
//	position.spare               a position file's worth of allocated room: a commit on a full
//	                             disk is written into it and renamed over position (spare.go)
//	00000000000000000000.seg     segments, named by the position of their first record
//	00000000000000004711.seg
//	00000000000000004711.seg.bad a segment set aside because it was corrupt
//
// # Segment file
//
// A segment is a header followed by frames. All integers are little-endian.
//
//	offset  size  field
//	0       8     magic "m1fileq\x00"                       (segMagic)
//	8       4     version = 1                               (segVersion)
//	12      4     record size of the queue that wrote it (informational)
//	16      8     first position: the position of the first frame
//	24      4     reserved, zero
//	28      4     CRC-32C of bytes 0..28
//	32            frames                                    (segHeaderSize = 32)
//
// # Record frame
//
//	offset  size  field
//	0       4     length of the data, or 0xFFFFFFFF for a seal (sealLen)
//	4       4     CRC-32C of the data (0 for a seal)
//	8       8     position; for a seal, the first position of the next segment
//	16      8     put time, Unix nanoseconds
//	24      4     CRC-32C of bytes 0..24                    (frameHeaderSize = 28)
//	28      n     data
//
// Positions within a segment are consecutive. A segment ends with a seal
// frame, written (and synced) before the next segment is created; the tail
// segment has none. The header checksum is separate from the data checksum
// so that a frame cut short (a producer killed mid-write, a full disk) is
// told from a frame whose bytes are all there but wrong: the first is torn
// and cut off silently (it was never acknowledged), the second is corrupt
// and set aside loudly.
//
// # Position file and consumer record
//
//	position (40 bytes, written to position.<pid>.tmp, fsync, rename, fsync dir)
//	0       8     magic "m1fqpos\x00"                       (posMagic)
//	8       4     version = 1
//	12      4     CRC-32C of bytes 16..40
//	16      8     commit: every position below is committed
//	24      8     queue creation time, Unix nanoseconds
//	32      8     reserved, zero                            (posFileSize = 40)
//
//	consumer.lock (24 bytes, written in place)
//	0       8     magic "m1fqcon\x00"                       (consMagic)
//	8       4     pid of the consumer, 0 after a clean Close
//	12      4     CRC-32C of bytes 16..24, xor pid
//	16      8     taken: every position below was taken by some consumer
//
// The constants named above and the file names in files.go are part of the
// format.
//
// # Producers
//
// An append takes this process's mutex and then the flock on append.lock,
// which the kernel releases when a process dies, so a killed producer never
// blocks the others. Under the lock the producer checks its idea of the
// tail against the files: the tail segment's inode and size tell it whether
// others appended, sealed, or set the segment aside since; it reads what
// changed, follows seals, and cuts a torn frame a killed producer left at
// the end. Then it writes all its frames with one write at the tail. A
// record is in the queue wholly or not at all: a torn frame is never
// delivered.
//
// # Durability
//
//   - SyncGroup (default): records are written under the lock and an
//     fdatasync covers them before Put returns. Puts of one process that
//     arrive while a sync runs share the next sync (group commit), up to
//     GroupRecords per sync. Before a sync the committer waits for Puts
//     already under way and for as many requests as the previous sync
//     covered (their producers were just answered and are coming back), at
//     most GroupInterval and at most as long as the previous sync took; a
//     lone producer never waits. Group commit groups the Puts of one
//     process: producers in different processes each sync their own
//     batches, one after another under the append lock.
//   - SyncEvery: one write and one fdatasync per record.
//   - SyncNone: no sync. The record is in the page cache when Put returns:
//     safe against a process crash, not against a machine crash.
//
// The position file and new segments are synced (file and directory) unless
// SyncNone. What a sync is worth depends on the disk: on the development VM
// the virtual disk acknowledges flushes before they reach stable storage
// (fdatasync of 1 KB takes ~0.1 ms), so there SyncGroup and SyncEvery
// protect against a crash of the guest kernel but not against the host
// losing power. On a disk with honest flushes (or a battery-backed cache)
// they protect against power loss too.
//
// # Consumer and recovery
//
// The consumer holds an exclusive flock on consumer.lock for as long as its
// Queue is open; a second consumer gets queue.ErrConsumerBusy. Opening as
// consumer recovers the queue, under the append lock:
//
//   - half-written *.tmp files are removed;
//   - every segment from the committed position to the tail is read and
//     checked (sequential reading: 50 ms for a 200 MB backlog in the page
//     cache on the development VM; from a cold disk, its read speed);
//   - a torn frame at the end of the tail segment is cut off (INFO log);
//   - a corrupt frame or segment header (checksum, impossible length, wrong
//     position) moves the segment aside: it is hard-linked to
//     <segment>.bad and replaced by its good prefix followed by a seal, so
//     every record before the bad one is still delivered. A WARN log names
//     the segment, the .bad file, the offset, the records kept and the
//     records set aside (exact for a sealed segment; an upper bound from the
//     size for the tail segment, whose seal then names a position past any
//     the bad bytes could hold, so positions are never reused). Nothing is
//     dropped silently. The same happens when a bad frame turns up later
//     while taking, or when a producer meets one at the tail;
//   - records at or after the committed position and below the taken mark
//     in consumer.lock were taken by a consumer that did not commit them:
//     they are delivered again with Redelivered set. MarkRedelivered raises
//     the mark to the tail, for records moved here that were delivered
//     before (queue/spill's Save).
//
// The taken mark is written in place without fsync at each TakeBatch (one
// pwrite): it survives a crash of the process, and after a machine crash it
// may be behind, so some redelivered records may lack the flag. Delivery is
// unaffected: everything from the committed position on is delivered again.
//
// Commit writes the position file atomically (temp, fsync, rename, fsync
// dir) before it returns, then deletes the segments wholly below it.
//
// # Waiting
//
// Take with a timeout polls the tail: it sleeps 1 ms, then twice as long
// each time, up to 20 ms, between looks. No inotify: polling works on every
// filesystem and costs one pread per look.
//
// # Full disk
//
// A write that fails with ENOSPC, EFBIG (RLIMIT_FSIZE) or EDQUOT returns an
// error wrapping ErrDiskFull. The whole frames that made it to the file are
// kept (and synced) and counted as stored by PutBatch; the partial frame is
// cut off. Records acknowledged before are untouched. ErrDiskFull wraps
// queue.ErrFull: a full disk is the only way a file queue is full. Put
// never waits for room: its timeout is not used.
//
// # Performance
//
// tools/fqbench (make bench-fileq) sets each durability option beside a raw
// baseline written in the tool: append frames of the same size to one file,
// the same number of records per fdatasync. On the 2-CPU development VM,
// whose disk is shared with other work and varies by a factor of several
// from one second to the next, 1 KB records, a consumer committing every
// 10 ms beside the producers, seven runs gave:
//
//	SyncEvery, 1 producer                  1.5–7 k records/s   0.6–1.1 × raw, fdatasync per record
//	SyncGroup, 16 producers (~16 per sync) 16–43 k records/s   0.52–0.77 × raw, fdatasync per 16
//	SyncNone, 1 producer                   90–150 k records/s  0.2–0.35 × raw, a bare write() per record
//
// The group-commit gap to raw is the consumer's position writes (two
// flushes each) and the moment after each sync when the answered producers
// must run again before the next sync can start; a raw writer never waits.
// SyncNone pays four system calls per Put (flock, stat, pwrite, unlock)
// where the baseline pays one, and shares the CPUs with the consumer.
//
// # Counters
//
// Stat's counters (Puts, Gets, Commits, Redelivered, Corrupt, FullEvents)
// count this Queue's operations since Open; the files keep none, which would
// cost a write per operation. Positions, ConsumerPID, Created and Oldest
// come from the files. Len counts positions from the committed one to the
// tail, so positions skipped when a tail segment was set aside count until
// the consumer passes them.
package fileq
