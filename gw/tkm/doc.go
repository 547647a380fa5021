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
//	NAME.pending  the journal of the batch being queued, written (tmp,
//	              fsync, rename) before its puts.
//
// NAME.pending is a header line, then one 66-byte entry per record of the
// batch that is queued (refused records have none):
//
//	"M1TKMP2 <first line> <last line>\n"
//
//	 0  LINE       N8   the record's line in NAME
//	 8  ' '
//	 9  GW_ID      N20  the GW_ID it is (or was) put under
//	29  ' '
//	30  LANE       'R' | 'S' | 'B'
//	31  ' '
//	32  STATE      'N' to put now; its key was not in the duplicate index
//	                   when the journal was written
//	               'D' to put now; its key was there already (or no index)
//	               'Q' queued by an earlier attempt; never put again
//	33  ' '
//	34  CLIENT_ID  AN10, space padded (bytes)
//	44  ' '
//	45  MSG_KEY    AN20, space padded (bytes)
//	65  '\n'
//
// Q entries come first, then the N and D entries in put order: lane R,
// then S, then B, in line order within a lane. Only this exact form is a
// journal. Both files' formats and the suffixes are part of the format. At
// the end NAME and NAME.result go to done/ (error/ when the file was
// unreadable); NAME.done and NAME.pending are removed.
//
// # One batch, and a kill at any instant: each record queued once
//
// Up to Options.Batch records are read and checked; then:
//
//  1. NAME.pending is written: the batch's lines, GW_IDs, lanes and keys,
//     each key's state in the duplicate index (Options.Dup, read only);
//  2. the records are put on their lanes (PutBatch per lane, R then S then
//     B; a full lane is waited on);
//  3. the batch's result lines are appended to NAME.result and fsync'd.
//
// NAME.result is the progress mark: on start, its whole lines are the
// records done (a torn last line is cut off), and reading resumes at the
// next record. A kill before 1 completes, or after 3, repeats nothing. A
// kill between 1 and 3 leaves a batch some of whose records may be on the
// lanes, and dist may have taken them already. The lanes are shared with
// eai_lsnr and sch, so their positions cannot say which; the start decides
// it record by record instead (resume.go):
//
//   - what was put is a prefix of the journal's put order: PutBatch stores
//     a prefix, the lanes are put one after another, and a kill ends the
//     sequence. So the start looks for the last record with evidence of
//     its put; it and every record before it were put, none after it;
//   - A: a record whose GW_ID a lane holds, uncommitted, was put: each
//     lane's ring from its commit position to its tail (taken records
//     included), then its file part from its committed position
//     (fileq.Peek). Ring first, because a ring saved at a planned stop is
//     written to the file part before it is committed in the ring;
//   - B, after A: a record whose key was not in the duplicate index when
//     the journal was written (state N) and is there now was put and taken
//     by dist, which records the key before it commits the lane record
//     (gw/dist's package doc). A before B: a record taken from the lane
//     between the two looks is seen by B. With one key twice in the
//     batch, the index says that the first of them in put order was put.
//     A key that an earlier line of the file also has is no evidence (that
//     line's record may have put it there);
//   - any result line of the batch written means all its puts happened.
//
// Records found put get their result lines under their journaled GW_IDs
// and are never put again (the new journal marks them Q, so a second kill
// keeps that); the others are put now, under their journaled GW_IDs. The
// first batch after a start covers the interrupted one whole. When a lane
// or the index cannot be read, nothing is decided: the file waits for the
// next poll.
//
// Where that is not exact, and what follows:
//
//   - the last records put may leave no trace: ended by dist before its
//     duplicate check (1202, 1203) or as duplicates (1201: key recorded by
//     another message before the journal). They are put again under the
//     same GW_IDs; dist ends them the same way again, and dbx, which
//     applies events by GW_ID, keeps one T41_LOG row. Nothing is sent;
//   - another intake may record the same key (a genuine duplicate from a
//     listener client, or a record of another file still in a lane when the
//     journal was written) between the journal and the start: that record
//     is then taken as put though it may not have been, with the records
//     before it. A record so lost was a duplicate dist would have ended
//     1201; its result line says 0000 and T41_LOG lacks its 1201 row;
//   - a ring removed with ipcrm, while records of the batch were in it and
//     dist had not drained them, or a start more than the duplicate window
//     after the kill, leaves put records without evidence: they are put
//     again and dist ends the repeats 1201 under the same GW_IDs. Nothing
//     is sent twice, but the message's T41_LOG row gets that Final beside
//     its Accept, and may show 1201 instead of the carrier's result;
//   - without a duplicate index (Options.Dup nil) only A and the order
//     speak: records dist took after the last one still in a lane are put
//     again, with the outcome above. cmd/tkm_files always opens the index.
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
