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
// mutex, as soon as the ring and the file part are both empty and no writer
// is inside a file put (writers count themselves in the ring's header
// meanwhile), so that a burst costs file puts only while it lasts; it looks
// again after clearing and sets the word back if a writer came (see
// shmq.ClearSpilling for why that keeps order). A count left standing by a
// writer killed inside a file put is reset after Grace (10 s).
// (Earlier versions waited for a grace time counted from the last writer
// that chose the file part, which under steady traffic never ends, so every
// message paid an fdatasync; and then cleared the word while writers were
// still counted, taking the file part first until they were out, which
// TestSpillOrderConcurrentWriters caught reordering records.)

// # A ring that is missing or removed
//
// When the segment is missing (a reboot, not yet created) or removed under
// the process (ipcrm), writers go on into the file part whatever the policy,
// and say so in the log once; they look for the segment again every second.
// A removed segment lives on only while some process is attached to it, so
// nobody lets it go while it holds records:
//
//   - the consumer goes on taking from it for 300 ms after it sees the
//     removal (by then no producer can still be putting there unawares;
//     shmq looks before a put at most every 250 ms), and while records a
//     dead consumer took are still to be redelivered (they keep their
//     mark); then it copies the records it has not taken into the file
//     part, synced, marks them taken, keeps the ring only to commit what
//     it took, commits all of it when that is done, and goes to the new
//     ring (made by ipcq create, or by itself);
//   - a producer that finds its ring removed keeps it attached until
//     every record in it is committed;
//   - the consumer records the shmid and creation time of every ring it
//     reads from in the file "rings" in the queue's directory, and a
//     consumer that starts attaches to a recorded ring that was removed
//     since (Linux lets a process attach a removed segment while it
//     lives), claims it, and drains it before anything else.
//
// So a segment removed while its consumer is dead (killed, or stopped) is
// drained by the next consumer, the records its predecessor took marked
// Redelivered. What can still be lost is a removed ring that every process
// holding it left before a consumer came: its producers all stopped or
// killed in that time. The moved records may come after records put in the
// new ring meanwhile (order is kept per producer otherwise). Nothing else
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
