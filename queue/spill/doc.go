// Package spill is the queue every M1 process writes through: a
// shared-memory ring (queue/shmq) in front of a durable file queue
// (queue/fileq) in one directory, with a policy for when the ring is full:
//
//   - block: wait for room, up to the Put's timeout (sch's backpressure);
//   - spill: continue in the file part;
//   - reject: return queue.ErrFull at once (the listener answers 2001).
//
// # Order
//
// With spill, FIFO order is kept for each producer: the consumer takes the
// ring first and the file part after it, and once one writer has spilled,
// every writer goes to the file part while the ring's spilling word is set
// (see shmq.PutOrSpill). The consumer clears the word, under the producers'
// mutex, as soon as the ring and the file part are both empty, so that a
// burst costs file puts only while it lasts. A writer already inside a file
// put then still lands its record in the file part: writers count
// themselves in the ring's header while they are inside a file put, and
// after clearing the word the consumer takes the file part before the ring
// until that count is zero and the file part empty, so that record is taken
// before anything its writer puts in the ring afterwards. A count left
// standing by a writer killed inside a file put is reset after Grace (10 s).
// (An earlier version waited instead for a grace time counted from the last
// writer that chose the file part; under steady traffic that never ends, and
// every message paid an fdatasync.)

// # A ring that is missing or removed
//
// When the segment is missing (a reboot, not yet created) or removed under
// the process (ipcrm), writers go on into the file part whatever the policy,
// and say so in the log once; they look for the segment again every second.
// A removed segment lives on only while some process is attached to it, so
// the consumer does not leave its records there: 300 ms after it sees the
// removal (by then no producer can still be putting there unawares; shmq
// looks before a put at most every 250 ms) it copies the records it has not
// taken into the file part, synced, stops taking from the orphan, keeps it
// only to commit the records it had already taken, and goes to the new ring
// (made by ipcq create, or by itself). The records it had taken and not yet
// committed are the only ones at risk, should the consumer die in that
// moment; a segment removed while its consumer is not running loses
// what it holds once its last producer detaches, since nobody moves it (a
// later consumer could find the orphan by a recorded shmid and drain it
// first; not built); the moved records may come after records put in the new ring
// meanwhile (order is kept per producer otherwise). Nothing else
// acknowledged is lost: a Put returns only once its record is in the ring or
// synced in the file part.
//
// # Positions
//
// Positions given to the consumer are this handle's own sequence, mapped to
// the ring's and the file part's positions when committed; Commit(pos)
// commits, in each part, everything taken up to pos. They are not stable
// across consumers; redelivery is each part's own.
//
// # Planned restart
//
// Save moves every record the ring holds (taken and not committed ones
// included) into the file part, synced, and commits them in the ring: a
// reboot that loses shared memory loses nothing. The next consumer finds the
// file part not empty, sets the spilling word, and drains the file part
// before writers return to the ring. If the file part already held records
// when Save ran, the saved ring records come after them: the only case where
// order is not kept, and only across the restart.
package spill
