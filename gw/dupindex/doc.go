// Package dupindex is M1's shared duplicate index: one memory-mapped file,
// shared by every intake process (eai_lsnr, dist, tkm_files, any number of
// each at once), that answers "has (CLIENT_ID, MSG_KEY) been seen within the
// duplicate window?" and records it in the same atomic step:
//
//	dup, err := idx.CheckAndInsert(clientID, msgKey, now)
//
// Of several callers inserting one key at once, in any goroutines of any
// processes, exactly one gets dup == false. The file lives under var/ and is
// kept across restarts and crashes.
//
// # File layout
//
// All integers little-endian. Offsets in bytes.
//
//	+--------------------------------------------------------------------+ 0
//	| header, 4096 bytes                                                 |
//	|   0  [8]byte  magic "M1DUPIDX"                                     |
//	|   8  uint32   format version (1)                                   |
//	|  12  uint32   header size (4096)                                   |
//	|  16  uint32   slot size (40)                                       |
//	|  20  uint32   probe window P, in slots                             |
//	|  24  uint64   slot count N                                         |
//	|  32  uint32   lock count L (power of two)                          |
//	|  36  uint32   reserved, 0                                          |
//	|  40  int64    duplicate window W, seconds                          |
//	|  48  int64    created, unix seconds                                |
//	|  56  uint64   hash seed (random per file)                          |
//	|  64  uint32   CRC-32C of bytes [0, 64)                             |
//	| 128  uint64   counter 0: inserted        (one counter per 64-byte  |
//	| 192  uint64   counter 1: duplicates       line; counters are not   |
//	| 256  uint64   counter 2: full             covered by the CRC and   |
//	| 320  uint64   counter 3: removed          change while the file    |
//	| 384  uint64   counter 4: reused expired   is in use)               |
//	| 448  uint64   counter 5: reclaimed half-written slots              |
//	| 512  uint64   counter 6: locks taken over from dead processes      |
//	+--------------------------------------------------------------------+ 4096
//	| L stripe lock words, uint64 each, padded to a 4096 multiple        |
//	|   0: free; else holder pid << 32 | low 32 bits of its start time   |
//	+--------------------------------------------------------------------+ S = 4096 + roundup(8L, 4096)
//	| N state words, uint64 each, padded to a 4096 multiple              |
//	|   state word of slot i at S + 8i                                   |
//	+--------------------------------------------------------------------+ K = S + roundup(8N, 4096)
//	| N keys, 32 bytes each; the key of slot i at K + 32i:               |
//	|   0  [10]byte  CLIENT_ID, space padded                             |
//	|  10  [20]byte  MSG_KEY, space padded                               |
//	|  30  [2]byte   zero                                                |
//	+--------------------------------------------------------------------+ K + 32N = file size
//
//	state word:  63..62 state | 61..32 aux (30 bits) | 31..0 low
//	  0 empty     never used                 aux 0            low 0
//	  1 writing   claimed, key being written aux claimer's lock low claim nonce
//	  2 live      holds a key                aux key's tag    low insertion time (unix s)
//	  3 free      key removed                aux 0            low 0
//
// Every constant of the layout (magic, version, sizes, offsets, states, the
// hash in key.go) is part of the format and marked so in the code. The
// stored key is exact, so two keys never collide into a false duplicate: a
// false duplicate would reject a client's message with 1201.
//
// # Size
//
// 40 bytes of file per slot (8 state + 32 key), plus 8 bytes per lock and a
// 4 KiB header. The default, 4 Mi slots and 64 Ki locks, is a 160.5 MiB
// file. Its disk is allocated when it is created (fallocate), because a
// store into a page of a sparse file's mapping on a full disk would kill
// the process with SIGBUS. After one window of traffic expect the whole
// file in page cache.
// Size the capacity at least 1.3 times the most keys recorded within one
// window: ErrIndexFull appears once both of a key's 64-slot windows hold
// only live entries, which first happens as a 4 Mi-slot table passes about
// 88% full and a 64 Ki-slot one about 90% (TestFillUntilFull measures it;
// DUPINDEX_FILL_SLOTS=4194304 for the default size).
//
// # Where a key lives
//
// A seeded 64-bit hash of the 32 key bytes gives the key's two home slots,
// its stripe lock (one of L) and a 30-bit tag. The key may live in the P
// slots from either home (wrapping at N): two-choice linear probing, which
// keeps runs of occupied slots far shorter than one window would. An insert
// looks at the first usable slot of each window (empty, free, live but
// older than the window, or half-written by a dead process) and takes the
// one nearer its home. Expiry needs no sweep: an old entry is simply
// overwritten. A scan of a window stops at an empty slot: an insert takes
// the first usable slot of the window it uses and slots are never emptied
// again, so no entry of the key lies beyond one. Once every slot has been
// used (after the first window's traffic) scans read both windows whole:
// 2P state words, 1 KiB at the default P of 64; the state words are kept in
// their own array for that reason.
//
// # Concurrency and crashes
//
// Operations on one key are serialised by its stripe lock, a word in the
// mapping taken with a CAS and holding the holder's identity. That makes
// "check, then insert" atomic for the key across goroutines and processes.
// Slots are shared between stripes (keys of different stripes probe into
// the same slots), so a slot is claimed with a CAS on its state word and
// published last:
//
//  1. CAS the chosen slot's state word from what the scan saw to "writing,
//     lock l, nonce";
//  2. store the four key words;
//  3. CAS the state word to "live, tag, time".
//
// Readers load the state word, compare tag and key, and load the state word
// again; a match counts only if the word did not change, so a key read while
// its slot was being reused never matches.
//
// A process killed at any instant leaves either its old state word (nothing
// happened), or a "writing" claim (the key is not recorded; the slot is
// reclaimed by the next insert that finds its claimer dead), or a live entry
// (recorded). A half-written slot is never "live", so it never produces a
// false duplicate, and a claim only takes a slot that holds no live entry, so
// it never hides one. A killed lock holder leaves its lock word set: a waiter
// that has waited 2 ms reads /proc/<pid>/stat of the holder and, if the
// process is gone, a zombie, or a different process with the same pid (start
// time differs), takes the lock over with a CAS. Nothing is left blocked. A
// holder that is merely stopped (SIGSTOP, a debugger) is alive: waiters on
// its stripe wait until it continues.
//
// Liveness is judged through /proc, so every process sharing a file must run
// in the same PID namespace: on one host, not in separate containers sharing
// a volume (a holder invisible in /proc would be taken for dead).
//
// # Durability
//
// The mapping is MAP_SHARED: what a process stored is in the kernel's page
// cache the moment the store completes, so a process crash (SIGKILL, panic)
// loses nothing. A machine crash or power loss loses whatever the kernel had
// not yet written back: up to the kernel's dirty writeback delay (30 s by
// default on Linux) unless Flush (msync) ran after it. Options.FlushInterval
// msyncs periodically; entries recorded since the last msync may still be
// lost by a machine crash, and the consequence is a duplicate accepted after
// such a crash, never a message lost. Pages written back partially are
// harmless: every word is self-describing and independently valid.
//
// # Remove, and the crash between check and store
//
// The listener checks a SUBMIT, then stores it, then answers 0000. When the
// store fails it answers 2001 ("nothing was accepted, retry later"); the
// client then retries with the same MSG_KEY, which must not be rejected as a
// duplicate, so the listener calls Remove for the key it recorded. That is
// right because 2001 promises nothing was accepted. It is wrong for any
// other purpose: never Remove a key whose message was stored.
//
// A listener killed between CheckAndInsert and its store leaves the key
// recorded with no message, and the client, having had no answer, retries
// and gets 1201. The index cannot tell that apart from a real duplicate; an
// operator can Remove the key (the client's retry is then accepted). The
// window is the time one store takes. Storing first and recording after
// would instead let two concurrent submissions of one key both be accepted,
// which a bank's client would see as a message sent twice.
//
// # Operations
//
// The file is created 0600 by the first process to Open it; every intake
// process runs as the one M1 user. Changing the capacity, probe, locks or
// window needs a new file: Open refuses the old one with ErrGeometry naming
// both geometries, and the operator either keeps the old settings or moves
// the file aside, which forgets the keys recorded (duplicates within the
// last window then go undetected once). Stats gives the shared counters
// (inserted, duplicates, full, removed, expired entries reused, half-written
// slots reclaimed, locks taken over from dead processes) and CountLive the
// number of live entries, for capacity checks.
//
// # Clocks
//
// Callers pass now. Entries carry their insertion time; an entry is a
// duplicate while now - time < W. An entry stamped in the future (a clock
// stepped back) stays a duplicate until W after its stamp. Processes whose
// clocks disagree see an entry expire at slightly different moments; keep the
// machine on NTP.
package dupindex
