// Package tkm is tkm_files, M1's bulk file intake: it takes files of
// fixed-length records (gw/msg BulkLayout, EUC-KR, one record a line) from a
// spool directory, queues each valid record to the distributor's lane for
// its JOB_CLASS, writes a result file beside it, and moves the file to done/
// (or error/). cmd/tkm_files runs it through gw/daemon. docs/SPOOL.md is the
// operators' account; this comment is the short form.
//
// # When a file is taken
//
// A file NAME is taken only once its marker NAME.done exists beside it: the
// sender writes NAME whole, closes it, then creates NAME.done (empty). A
// file without its marker is still being written and is left alone; names
// beginning with '.' or ending in .done, .result, .pending or .tmp are never
// data files. Files are taken one at a time in name order.
//
// # Files tkm_files writes, beside NAME in the spool directory
//
//	NAME.result   one line per record, in record order (msg.BulkResultLayout):
//	              LINE N8 | MSG_KEY AN20 | RESULT N4 | GW_ID N20 | LF
//	              53 bytes a line. 0000 and the GW_ID: queued; else the
//	              PROTOCOL.md code and zeros: refused, not queued.
//	NAME.pending  the batch being queued, written (tmp, fsync, rename) before
//	              its puts: "M1TKMP1 <first line> <last line>\n", then one
//	              "<line N8> <GW_ID 20>\n" per record of the batch to be queued.
//
// Both formats are part of the format. At the end NAME, NAME.result go to
// done/ (error/ when the file was unreadable), NAME.done and NAME.pending
// are removed.
//
// # One batch, and a kill at any instant
//
// Up to Options.Batch records are read and checked; then:
//
//  1. NAME.pending is written with the batch's line range and GW_IDs;
//  2. the valid records are put on their lanes (PutBatch per lane; a full
//     lane is waited on);
//  3. the batch's result lines are appended to NAME.result and fsync'd.
//
// NAME.result is the progress mark: on start, its whole lines are the
// records done (a torn last line is cut off), and reading resumes at the next
// record. A kill before 1 completes, or after 3, repeats nothing. A kill
// between 1 and 3 leaves one batch whose puts may or may not have happened:
// the queue cannot say which records a producer put (other producers share
// the lanes), and the consumer may have taken them already. tkm_files
// queues that batch again, under new GW_IDs, and logs a warning naming its
// lines and both GW_IDs of each record. Records from files carry
// DUP_CHECKED N, so dist checks CLIENT_ID+MSG_KEY in the shared duplicate
// index: if the first puts had happened, dist ends each repeat with a Final
// 1201 (T41_LOG then holds the message under the old GW_ID and a 1201 row
// under the new one) and nothing is sent twice. So at most one batch is
// queued twice per kill, no record is sent twice, and none is lost.
//
// # Invalid records
//
// A record that does not decode or fails validation (1003 fields, 1203
// numbers, 1204 text) is not queued: its code is in NAME.result and
// nowhere else. T41_LOG is the history of what M1 accepted; a record refused
// at the door is answered to its sender, here through the result file, as
// the listener answers a SUBMIT it refuses. A record whose RESERVE_TIME is
// more than a minute ahead is refused with 1003: the lanes send at once,
// and a reserved bulk send belongs in T41 (sch sends it at its time).
//
// A file whose framing breaks (a record cut short, a record not followed by
// its line end) is processed up to the break; the broken record gets a
// 1003 line and the file goes to error/ with its result file. A file that
// cannot be opened or read goes to error/ at once.
//
// # Progress
//
// Every Options.LogEvery records a progress line; at the end of each file a
// summary: records, queued, refused by code. The process table shows
// tkm_files (role "tkm_files") with In (records read) and Out (queued).
package tkm
